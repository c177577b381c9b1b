"""The model registry's store domain on SQLite and PostgreSQL (the conformance suite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlyard.core.stores import SqlAlchemyStore
from mlyard.testing.registry_store import RegistryStoreConformance


class TestRegistryStore(RegistryStoreConformance):
    @pytest.fixture
    def store(self, sql_store_url: str) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(sql_store_url)
        yield store
        store.close()
