"""The SQLAlchemy store and the fsspec artifact store pass their conformance suites."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mlyard.core.artifacts import FsspecArtifactStore
from mlyard.core.stores import SqlAlchemyStore
from mlyard.core.stores import sql as sql_store
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


POSTGRES_URL = os.environ.get("MLYARD_TEST_POSTGRES_URL")


@pytest.mark.skipif(POSTGRES_URL is None,
                    reason="set MLYARD_TEST_POSTGRES_URL to a scratch PostgreSQL database")
class TestPostgresStore(MetadataStoreConformance):
    """The same store on PostgreSQL (``postgresql+psycopg://...``, extra ``postgres``)."""

    @pytest.fixture
    def store(self) -> Iterator[SqlAlchemyStore]:
        assert POSTGRES_URL is not None
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            sql_store.metadata.drop_all(conn)
            sql_store.schema_info.drop(conn, checkfirst=True)
        engine.dispose()
        store = SqlAlchemyStore(POSTGRES_URL)
        yield store
        store.close()


def test_older_schema_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = SqlAlchemyStore(url)
    store.create_job("kept", "training", {})
    with store.engine.begin() as conn:  # make it look like a version-1 workspace
        for table in (sql_store.endpoint_configs, sql_store.endpoints,
                      sql_store.scaling_activities, sql_store.job_rules,
                      sql_store.tuning_trials):
            table.drop(conn)
        conn.execute(sa.text("UPDATE schema_info SET version = 1"))
    store.close()
    upgraded = SqlAlchemyStore(url)
    assert upgraded.schema_version() == sql_store.SCHEMA_VERSION == 4
    assert upgraded.get_job("kept").name == "kept"
    upgraded.create_endpoint_config("cfg", {})
