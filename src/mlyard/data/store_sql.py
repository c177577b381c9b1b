"""SQL implementation of the catalog's store domain: table ``catalog_tables``."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.data.store import TableRecord, TableStore
from mlyard.errors import ConflictError, NotFoundError

metadata = sa.MetaData()

catalog_tables = sa.Table(
    "catalog_tables", metadata,
    sa.Column("database", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("format", sa.String(32), nullable=False),
    sa.Column("options", sa.Text, nullable=False, default="{}"),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("created_at", sa.Float, nullable=False),
)


def _create_tables(conn: Connection) -> None:
    catalog_tables.create(conn, checkfirst=True)


def _table(row: Any) -> TableRecord:
    return TableRecord(database=row.database, name=row.name, location=row.location,
                       format=row.format, created_at=row.created_at,
                       options=json.loads(row.options or "{}"),
                       description=row.description or "")


def _key(database: str, name: str) -> sa.ColumnElement[bool]:
    return (catalog_tables.c.database == database) & (catalog_tables.c.name == name)


class SqlTableStore(SqlDomain, TableStore):
    """:class:`TableStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)
    legacy_version = 1

    def put_table(self, table: TableRecord, replace: bool = False) -> TableRecord:
        key = {"database": table.database, "name": table.name}
        values = {
            "location": table.location, "format": table.format,
            "options": json.dumps(table.options), "description": table.description,
            "created_at": table.created_at,
        }
        try:
            with self.db.transaction() as conn:
                if replace:
                    self.db.upsert(conn, catalog_tables, key, values)
                else:
                    conn.execute(catalog_tables.insert().values(**key, **values))
        except IntegrityError:
            raise ConflictError(f"table {table.qualified_name} already exists") from None
        return self.get_table(table.database, table.name)

    def get_table(self, database: str, name: str) -> TableRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(catalog_tables).where(_key(database, name))).first()
        if row is None:
            raise NotFoundError(f"no table {database}.{name}")
        return _table(row)

    def list_tables(self, database: str | None = None) -> list[TableRecord]:
        query = sa.select(catalog_tables).order_by(catalog_tables.c.database,
                                                   catalog_tables.c.name)
        if database is not None:
            query = query.where(catalog_tables.c.database == database)
        with self.db.transaction() as conn:
            return [_table(r) for r in conn.execute(query)]

    def delete_table(self, database: str, name: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(catalog_tables.delete().where(_key(database, name))).rowcount == 0:
                raise NotFoundError(f"no table {database}.{name}")
