"""The pipelines' store domain on SQLite and PostgreSQL (the conformance suite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mlyard.core.stores.sql import SqlAlchemyStore
from mlyard.testing.pipeline_store import PipelineStoreConformance


class TestPipelineStore(PipelineStoreConformance):
    @pytest.fixture
    def store(self, sql_store_url: str) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(sql_store_url)
        yield store
        store.close()
