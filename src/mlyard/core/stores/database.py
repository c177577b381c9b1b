"""One SQL database shared by every store domain: engine, transactions, migrations.

Engine: SQLite (WAL) by default, any SQLAlchemy URL otherwise (PostgreSQL through
``postgresql+psycopg://``, extra ``postgres``).

Concurrency: on SQLite every transaction starts with ``BEGIN IMMEDIATE`` and waits up to
``busy_timeout`` for the write lock, so several job processes can write at once without
"database is locked" errors; WAL lets readers go on while one writes. On PostgreSQL
transactions run at READ COMMITTED: a compare-and-set ``UPDATE ... WHERE status IN (...)``
re-checks its condition on the row a concurrent transaction just committed, and
:meth:`SqlDatabase.upsert` is one ``INSERT ... ON CONFLICT DO UPDATE`` statement.

Schema versions: each domain lists its own migrations (:attr:`SqlDomain.migrations`) and
keeps its version in the ``schema_versions(domain, version)`` table. Opening the store
applies the steps a domain lacks and refuses a database whose domain is newer than this
code. A workspace from before per-domain versions (one ``schema_info`` row, versions 1 to
4) is adopted in place: each domain whose tables that version had
(:attr:`SqlDomain.legacy_version`) starts at its version 1. ``schema_info`` then holds
:data:`PER_DOMAIN_MARKER`, so that an older mlyard refuses the database instead of using it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from mlyard.core.stores.domain import StoreDomain
from mlyard.errors import WorkspaceError

#: One migration step: brings a domain's tables from version ``i`` to ``i + 1``.
Migration = Callable[[Connection], None]

#: The last version of the single, workspace-wide schema (before per-domain versions).
LEGACY_SCHEMA_VERSION = 4
#: What ``schema_info.version`` holds in a database with per-domain versions.
PER_DOMAIN_MARKER = LEGACY_SCHEMA_VERSION + 1
#: PostgreSQL advisory lock held while migrating, so concurrent openers take turns.
_MIGRATION_LOCK = 0x6D6C7961  # "mlya"

_meta = sa.MetaData()
schema_versions = sa.Table(
    "schema_versions", _meta,
    sa.Column("domain", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
schema_info = sa.Table(
    "schema_info", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class SqlDatabase:
    """The SQLAlchemy engine behind the store, with the transaction helper and the
    per-domain migration runner."""

    def __init__(self, url: str, busy_timeout_ms: int = 60_000) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise WorkspaceError(f"cannot open metadata database {url!r}: {exc}") from None
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            _sqlite_pragmas(self.engine, busy_timeout_ms)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection in a transaction: committed on success, rolled back on error.
        Database errors (locked, unreachable) become :class:`WorkspaceError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise WorkspaceError(f"metadata database error: {exc.orig}") from exc

    def upsert(self, conn: Connection, table: sa.Table, key: Mapping[str, Any],
               values: Mapping[str, Any]) -> None:
        """Insert the row ``key`` + ``values``, or update ``values`` of the row with primary
        key ``key`` if it exists; atomic under concurrent writers."""
        insert: Any
        if self.dialect == "postgresql":
            insert = postgresql.insert(table)
        elif self.dialect == "sqlite":
            insert = sqlite.insert(table)
        else:  # other databases: update, else insert, inside the caller's transaction
            where = sa.and_(*(table.c[k] == v for k, v in key.items()))
            if conn.execute(table.update().where(where).values(**values)).rowcount == 0:
                conn.execute(table.insert().values(**key, **values))
            return
        conn.execute(insert.values(**key, **values)
                     .on_conflict_do_update(index_elements=list(key), set_=dict(values)))

    # -- migrations --------------------------------------------------------------------
    def migrate(self, domains: Mapping[str, type[SqlDomain]]) -> None:
        """Bring every domain in ``domains`` (name -> implementation class) to the version
        its code knows, in one transaction; :class:`WorkspaceError` if the database holds a
        newer version of any of them."""
        with self.transaction() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            legacy = self._legacy_version(conn)
            schema_versions.create(conn, checkfirst=True)
            known = {row.domain: row.version for row in conn.execute(sa.select(schema_versions))}
            for name, cls in domains.items():
                self._migrate_domain(conn, name, cls, known.get(name), legacy)
            schema_info.create(conn, checkfirst=True)
            marker = conn.execute(sa.select(sa.func.max(schema_info.c.version))).scalar()
            if marker != PER_DOMAIN_MARKER:
                conn.execute(schema_info.delete())
                conn.execute(schema_info.insert().values(id=1, version=PER_DOMAIN_MARKER))

    @staticmethod
    def _legacy_version(conn: Connection) -> int | None:
        """The single schema version of a workspace made before per-domain versions, or
        None (a new database, or one already on per-domain versions)."""
        if not sa.inspect(conn).has_table(schema_info.name):
            return None
        version = conn.execute(sa.select(sa.func.max(schema_info.c.version))).scalar()
        if version is None or version == PER_DOMAIN_MARKER or version < 1:
            return None
        if version > PER_DOMAIN_MARKER:
            raise WorkspaceError(
                f"workspace schema version {version} is newer than this mlyard "
                f"({PER_DOMAIN_MARKER}); upgrade mlyard")
        return int(version)

    @staticmethod
    def _migrate_domain(conn: Connection, name: str, cls: type[SqlDomain],
                        recorded: int | None, legacy: int | None) -> None:
        target = len(cls.migrations)
        current = recorded
        if current is None:  # first open with this domain: adopt a legacy workspace's tables
            adopted = (legacy is not None and cls.legacy_version is not None
                       and legacy >= cls.legacy_version)
            current = 1 if adopted else 0
        if current > target:
            raise WorkspaceError(
                f"workspace schema version {current} of store domain {name!r} is newer than "
                f"this mlyard ({target}); upgrade mlyard")
        for step in cls.migrations[current:]:
            step(conn)
        if recorded is None:
            conn.execute(schema_versions.insert().values(domain=name, version=target))
        elif recorded != target:
            conn.execute(schema_versions.update().where(schema_versions.c.domain == name)
                         .values(version=target))

    def schema_versions(self) -> dict[str, int]:
        """Domain name -> schema version, for every domain this database has seen."""
        with self.transaction() as conn:
            return {row.domain: int(row.version)
                    for row in conn.execute(sa.select(schema_versions))}

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


class SqlDomain(StoreDomain):
    """Base of a domain's SQL implementation: it works on the shared :class:`SqlDatabase`
    and lists the migrations that create and change its tables.

    Subclass it together with the domain's interface
    (``class SqlTrialStore(SqlDomain, TrialStore)``) and register the class (see
    :mod:`mlyard.core.stores.registry`).
    """

    #: Steps that bring this domain's tables from version ``i`` to ``i + 1``; the version
    #: is ``len(migrations)``. Create tables with ``checkfirst=True``.
    migrations: ClassVar[tuple[Migration, ...]] = ()
    #: The single (pre per-domain) schema version whose tables equal this domain's version
    #: 1, for domains that existed then; None for domains added later.
    legacy_version: ClassVar[int | None] = None

    def __init__(self, db: SqlDatabase) -> None:
        self.db = db
