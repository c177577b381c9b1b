"""SQL implementation of the lineage store domain: tables ``lineage_entities`` and
``lineage_associations`` (unique ``(source_id, destination_id, association_type)``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import NotFoundError
from mlyard.lineage.store import (
    AssociationType,
    LineageAssociation,
    LineageEntity,
    LineageStore,
    LineageType,
)

metadata = sa.MetaData()

entities = sa.Table(
    "lineage_entities", metadata,
    sa.Column("id", sa.String(1024), primary_key=True),
    sa.Column("lineage_type", sa.String(32), nullable=False),
    sa.Column("entity_type", sa.String(64), nullable=False, index=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("properties", sa.Text, nullable=False, default="{}"),
)

associations = sa.Table(
    "lineage_associations", metadata,
    sa.Column("source_id", sa.String(1024), nullable=False, index=True),
    sa.Column("destination_id", sa.String(1024), nullable=False, index=True),
    sa.Column("association_type", sa.String(32), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("source_id", "destination_id", "association_type"),
)

#: Most ids in one ``IN (...)`` clause.
_CHUNK = 500


def _create_tables(conn: Connection) -> None:
    entities.create(conn, checkfirst=True)
    associations.create(conn, checkfirst=True)


def _entity(row: Any) -> LineageEntity:
    return LineageEntity(id=row.id, lineage_type=LineageType(row.lineage_type),
                         entity_type=row.entity_type, source=row.source,
                         created_at=row.created_at,
                         properties=json.loads(row.properties or "{}"))


def _association(row: Any) -> LineageAssociation:
    return LineageAssociation(row.source_id, row.destination_id,
                              AssociationType(row.association_type), row.created_at)


def _chunks(ids: Iterable[str]) -> list[list[str]]:
    unique = sorted(set(ids))
    return [unique[i:i + _CHUNK] for i in range(0, len(unique), _CHUNK)]


def _retrying(write: Callable[[], None], attempts: int = 5) -> None:
    """Run an upsert again when a concurrent one inserted the same row first."""
    for attempt in range(attempts):
        try:
            write()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise


class SqlLineageStore(SqlDomain, LineageStore):
    """:class:`LineageStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)

    def upsert_entities(self, records: Sequence[LineageEntity]) -> None:
        _retrying(lambda: self._upsert_entities(records))

    def upsert_associations(self, records: Sequence[LineageAssociation]) -> None:
        _retrying(lambda: self._upsert_associations(records))

    def _upsert_entities(self, records: Sequence[LineageEntity]) -> None:
        latest = {r.id: r for r in records}
        if not latest:
            return
        rows = {i: {"lineage_type": r.lineage_type.value, "entity_type": r.entity_type,
                    "source": r.source,
                    "properties": json.dumps(r.properties, default=str, sort_keys=True)}
                for i, r in latest.items()}
        with self.db.transaction() as conn:
            stored: dict[str, dict[str, str]] = {}
            for chunk in _chunks(latest):
                for row in conn.execute(sa.select(
                        entities.c.id, entities.c.lineage_type, entities.c.entity_type,
                        entities.c.source, entities.c.properties).where(
                        entities.c.id.in_(chunk))):
                    stored[row.id] = {"lineage_type": row.lineage_type,
                                      "entity_type": row.entity_type, "source": row.source,
                                      "properties": row.properties}
            new = [{"id": i, "created_at": latest[i].created_at, **values}
                   for i, values in rows.items() if i not in stored]
            if new:
                conn.execute(entities.insert(), new)
            for i, values in rows.items():
                if i in stored and stored[i] != values:  # only what changed is written
                    conn.execute(entities.update().where(entities.c.id == i).values(**values))

    def _upsert_associations(self, records: Sequence[LineageAssociation]) -> None:
        wanted = {(a.source_id, a.destination_id, a.association_type.value): a
                  for a in records}
        if not wanted:
            return
        with self.db.transaction() as conn:
            ends = {k[0] for k in wanted} | {k[1] for k in wanted}
            known: set[str] = set()
            for chunk in _chunks(ends):
                known.update(conn.execute(sa.select(entities.c.id).where(
                    entities.c.id.in_(chunk))).scalars())
            missing = sorted(ends - known)
            if missing:
                raise NotFoundError(f"no lineage entity {missing[0]!r}")
            stored: set[tuple[str, str, str]] = set()
            for chunk in _chunks(k[0] for k in wanted):
                stored.update((r.source_id, r.destination_id, r.association_type)
                              for r in conn.execute(sa.select(associations).where(
                                  associations.c.source_id.in_(chunk))))
            now = time.time()
            new = [{"source_id": k[0], "destination_id": k[1], "association_type": k[2],
                    "created_at": a.created_at or now}
                   for k, a in wanted.items() if k not in stored]
            if new:
                conn.execute(associations.insert(), new)

    def get_entity(self, entity_id: str) -> LineageEntity:
        found = self.get_entities([entity_id])
        if entity_id not in found:
            raise NotFoundError(f"no lineage entity {entity_id!r}")
        return found[entity_id]

    def get_entities(self, ids: Iterable[str]) -> dict[str, LineageEntity]:
        out: dict[str, LineageEntity] = {}
        with self.db.transaction() as conn:
            for chunk in _chunks(ids):
                for row in conn.execute(sa.select(entities).where(entities.c.id.in_(chunk))):
                    out[row.id] = _entity(row)
        return out

    def list_entities(self, entity_type: str | None = None, *, source: str | None = None,
                      limit: int = 1000) -> list[LineageEntity]:
        query = sa.select(entities).order_by(entities.c.id).limit(limit)
        if entity_type is not None:
            query = query.where(entities.c.entity_type == entity_type)
        if source is not None:
            query = query.where(entities.c.source == source)
        with self.db.transaction() as conn:
            return [_entity(r) for r in conn.execute(query)]

    def associations_of(self, ids: Iterable[str]) -> list[LineageAssociation]:
        found: dict[tuple[str, str, str], LineageAssociation] = {}
        with self.db.transaction() as conn:
            for chunk in _chunks(ids):
                query = sa.select(associations).where(sa.or_(
                    associations.c.source_id.in_(chunk),
                    associations.c.destination_id.in_(chunk)))
                for row in conn.execute(query):
                    found[(row.source_id, row.destination_id, row.association_type)] = (
                        _association(row))
        return [found[k] for k in sorted(found)]

    def delete_entity(self, entity_id: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(entities.delete().where(entities.c.id == entity_id)
                            ).rowcount == 0:
                raise NotFoundError(f"no lineage entity {entity_id!r}")
            conn.execute(associations.delete().where(sa.or_(
                associations.c.source_id == entity_id,
                associations.c.destination_id == entity_id)))
