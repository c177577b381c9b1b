"""The experiments tests' fixtures: the registry's and pipelines' stores served from fakes
while those packages are not installed."""

from __future__ import annotations

import pytest

from tests.unit.lineage.fakes import stub_other_stores


@pytest.fixture(autouse=True)
def other_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_other_stores(monkeypatch)
