"""Shared fixtures: an isolated workspace per test, the reviews data path, and metadata
databases on SQLite and a throwaway PostgreSQL (:mod:`mlyard.testing.postgres`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.datasets.reviews import DEFAULT_REVIEWS_CSV
from mlyard.sdk.session import set_default_workspace

#: ``postgres_url`` / ``sql_store_url``: the store suites run on SQLite and PostgreSQL
pytest_plugins = ["mlyard.testing.postgres"]

REPO = Path(__file__).resolve().parents[1]


def reviews_csv() -> Path:
    """The shared reviews CSV (``MLYARD_REVIEWS_CSV`` or ``../shared/data/...``)."""
    return (REPO / os.environ.get("MLYARD_REVIEWS_CSV", DEFAULT_REVIEWS_CSV)).resolve()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of a fresh workspace under ``tmp_path`` (also exported as MLYARD_HOME)."""
    home = tmp_path / "ws"
    monkeypatch.setenv("MLYARD_HOME", str(home))
    for var in ("MLYARD_DB_URL", "MLYARD_ARTIFACT_ROOT", "MLYARD_EXECUTOR"):
        monkeypatch.delenv(var, raising=False)
    return Settings.from_env()


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    """A fresh workspace, also the SDK's default while the test runs."""
    workspace = Workspace(settings)
    set_default_workspace(workspace)
    yield workspace
    set_default_workspace(None)
    workspace.close()
