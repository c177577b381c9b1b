"""Every store domain passes its conformance suite on SQLite and on PostgreSQL, and the
fsspec artifact store passes its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlyard.core.artifacts import FsspecArtifactStore
from mlyard.core.stores import SqlAlchemyStore
from mlyard.testing.artifacts import ArtifactStoreConformance
from mlyard.testing.endpoint_store import EndpointStoreConformance
from mlyard.testing.rule_store import RuleStoreConformance
from mlyard.testing.stores import (
    JobStoreConformance,
    MetadataStoreConformance,
    ModelStoreConformance,
)
from mlyard.testing.table_store import TableStoreConformance
from mlyard.testing.token_store import TokenStoreConformance
from mlyard.testing.trial_store import TrialStoreConformance


class OnSql:
    """A fresh composite store per test, on each backend of ``sql_store_url``."""

    @pytest.fixture
    def store(self, sql_store_url: str) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(sql_store_url)
        yield store
        store.close()


class TestJobStore(OnSql, JobStoreConformance):
    pass


class TestModelStore(OnSql, ModelStoreConformance):
    pass


class TestMetadataStore(OnSql, MetadataStoreConformance):
    pass


class TestTableStore(OnSql, TableStoreConformance):
    pass


class TestEndpointStore(OnSql, EndpointStoreConformance):
    pass


class TestTrialStore(OnSql, TrialStoreConformance):
    pass


class TestRuleStore(OnSql, RuleStoreConformance):
    pass


class TestTokenStore(OnSql, TokenStoreConformance):
    pass


class TestPysqliteUrl(MetadataStoreConformance):
    """A second SQLAlchemy URL form of SQLite (driver named)."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(f"sqlite+pysqlite:///{tmp_path / 'other.db'}")
        yield store
        store.close()


class TestLocalArtifacts(ArtifactStoreConformance):
    @pytest.fixture
    def artifacts(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore((tmp_path / "artifacts").as_uri())


class TestMemoryArtifacts(ArtifactStoreConformance):
    """fsspec's in-memory file system stands in for a remote root such as s3://."""

    @pytest.fixture
    def artifacts(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore(f"memory://mlyard-{tmp_path.name}")
