"""The experiments store's conformance suite on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlyard.core.stores import SqlAlchemyStore
from mlyard.testing.experiment_store import ExperimentStoreConformance


class TestExperimentStore(ExperimentStoreConformance):
    @pytest.fixture
    def store(self, sql_store_url: str) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(sql_store_url)
        yield store
        store.close()
