"""SQL implementation of the models domain: table ``models``."""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.records import ModelRecord
from mlyard.core.stores.database import SqlDomain
from mlyard.core.stores.models import ModelStore
from mlyard.errors import ConflictError, NotFoundError

metadata = sa.MetaData()

models = sa.Table(
    "models", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("flavor", sa.String(64), nullable=False),
    sa.Column("job_name", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False, default="{}"),
)


def _create_tables(conn: Connection) -> None:
    models.create(conn, checkfirst=True)


def _model(row: Any) -> ModelRecord:
    return ModelRecord(name=row.name, uri=row.uri, flavor=row.flavor,
                       created_at=row.created_at, job_name=row.job_name,
                       metadata=json.loads(row.metadata or "{}"))


class SqlModelStore(SqlDomain, ModelStore):
    """:class:`ModelStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)
    legacy_version = 1

    def create_model(self, name: str, uri: str, flavor: str, job_name: str | None = None,
                     metadata: dict[str, Any] | None = None) -> ModelRecord:
        try:
            with self.db.transaction() as conn:
                conn.execute(models.insert().values(
                    name=name, uri=uri, flavor=flavor, job_name=job_name,
                    created_at=time.time(), metadata=json.dumps(metadata or {}),
                ))
        except IntegrityError:
            raise ConflictError(f"a model named {name!r} already exists") from None
        return self.get_model(name)

    def get_model(self, name: str) -> ModelRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(models).where(models.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no model named {name!r}")
        return _model(row)

    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                sa.select(models).order_by(models.c.created_at.desc()).limit(limit))
            return [_model(r) for r in rows]

    def delete_model(self, name: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(models.delete().where(models.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no model named {name!r}")
