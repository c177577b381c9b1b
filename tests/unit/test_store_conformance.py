"""The SQLAlchemy store and the fsspec artifact store pass their conformance suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.artifacts import FsspecArtifactStore
from mlyard.core.stores import SqlAlchemyStore
from mlyard.testing.artifacts import ArtifactStoreConformance
from mlyard.testing.stores import MetadataStoreConformance


class TestSqliteStore(MetadataStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SqlAlchemyStore:
        return SqlAlchemyStore(f"sqlite:///{tmp_path / 'meta.db'}")


class TestInMemorySqliteStore(MetadataStoreConformance):
    @pytest.fixture
    def store(self, tmp_path: Path) -> SqlAlchemyStore:
        # a second SQLAlchemy URL form, as a PostgreSQL URL would be given
        return SqlAlchemyStore(f"sqlite+pysqlite:///{tmp_path / 'other.db'}")


class TestLocalArtifacts(ArtifactStoreConformance):
    @pytest.fixture
    def artifacts(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore((tmp_path / "artifacts").as_uri())


class TestMemoryArtifacts(ArtifactStoreConformance):
    """fsspec's in-memory file system stands in for a remote root such as s3://."""

    @pytest.fixture
    def artifacts(self, tmp_path: Path) -> FsspecArtifactStore:
        return FsspecArtifactStore(f"memory://mlyard-{tmp_path.name}")
