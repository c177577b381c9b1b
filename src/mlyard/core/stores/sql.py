"""SQLAlchemy metadata store: SQLite (WAL) by default, any SQLAlchemy URL (PostgreSQL) too.

Concurrency: on SQLite every transaction starts with ``BEGIN IMMEDIATE`` and waits up to
``busy_timeout`` for the write lock, so several job processes can write at once without
"database is locked" errors; WAL lets readers go on while one writes. Status changes are
compare-and-set ``UPDATE ... WHERE status IN (...)``.

Schema versions: :data:`MIGRATIONS` lists the steps; opening a store applies those the
database lacks and refuses a database newer than this code.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from mlyard.core.records import (
    TERMINAL_STATUSES,
    EndpointConfigRecord,
    EndpointRecord,
    EndpointStatus,
    JobRecord,
    JobStatus,
    LogLine,
    MetricPoint,
    ModelRecord,
    RuleEvaluationStatus,
    RuleStatus,
    ScalingActivity,
    TableRecord,
    TrialRecord,
)
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import ConflictError, NotFoundError, WorkspaceError

metadata = sa.MetaData()

schema_info = sa.Table(
    "schema_info", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)
jobs = sa.Table(
    "jobs", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("job_type", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False, index=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("failure_reason", sa.Text),
    sa.Column("executor", sa.String(32)),
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
    sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("output_uri", sa.Text),
    sa.Column("outputs", sa.Text, nullable=False, default="{}"),
)
job_logs = sa.Table(
    "job_logs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_name", sa.String(64), nullable=False, index=True),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("line", sa.Text, nullable=False),
)
job_metrics = sa.Table(
    "job_metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_name", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("step", sa.Integer),
    sa.Column("ts", sa.Float, nullable=False),
)
models = sa.Table(
    "models", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("flavor", sa.String(64), nullable=False),
    sa.Column("job_name", sa.String(64)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False, default="{}"),
)
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


endpoint_configs = sa.Table(
    "endpoint_configs", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)
endpoints = sa.Table(
    "endpoints", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("config_name", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("failure_reason", sa.Text),
    sa.Column("state", sa.Text, nullable=False, default="{}"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
scaling_activities = sa.Table(
    "scaling_activities", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("endpoint", sa.String(64), nullable=False, index=True),
    sa.Column("variant", sa.String(64), nullable=False),
    sa.Column("ts", sa.Float, nullable=False),
    sa.Column("from_replicas", sa.Integer, nullable=False),
    sa.Column("to_replicas", sa.Integer, nullable=False),
    sa.Column("cause", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
)


job_rules = sa.Table(
    "job_rules", metadata,
    sa.Column("job_name", sa.String(64), primary_key=True),
    sa.Column("rule_name", sa.String(128), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("step", sa.Integer),
    sa.Column("updated_at", sa.Float, nullable=False),
)


tuning_trials = sa.Table(
    "tuning_trials", metadata,
    sa.Column("tuning_job", sa.String(64), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("training_job", sa.String(64), nullable=False),
    sa.Column("hyperparameters", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("objective", sa.Float),
    sa.Column("intermediate", sa.Text, nullable=False, default="[]"),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("stop_reason", sa.Text),
    sa.Column("source", sa.String(128), nullable=False, default="own"),
)


def _migrate_to_1(conn: Connection) -> None:
    for table in (jobs, job_logs, job_metrics, models, catalog_tables):
        table.create(conn, checkfirst=True)


def _migrate_to_2(conn: Connection) -> None:
    for table in (endpoint_configs, endpoints, scaling_activities):
        table.create(conn, checkfirst=True)


def _migrate_to_3(conn: Connection) -> None:
    job_rules.create(conn, checkfirst=True)


def _migrate_to_4(conn: Connection) -> None:
    tuning_trials.create(conn, checkfirst=True)


#: Migration steps; entry ``i`` brings the schema from version ``i`` to ``i + 1``.
MIGRATIONS: list[Callable[[Connection], None]] = [_migrate_to_1, _migrate_to_2,
                                                  _migrate_to_3, _migrate_to_4]
SCHEMA_VERSION = len(MIGRATIONS)


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


class SqlAlchemyStore(MetadataStore):
    """:class:`MetadataStore` over SQLAlchemy Core."""

    def __init__(self, url: str, busy_timeout_ms: int = 60_000) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url, future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise WorkspaceError(f"cannot open metadata database {url!r}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine, busy_timeout_ms)
        self._migrate()

    # -- plumbing ----------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise WorkspaceError(f"metadata database error: {exc.orig}") from exc

    def _migrate(self) -> None:
        with self._tx() as conn:
            schema_info.create(conn, checkfirst=True)
            row = conn.execute(sa.select(schema_info.c.version)).first()
            current = row[0] if row else 0
            if current > SCHEMA_VERSION:
                raise WorkspaceError(
                    f"workspace schema version {current} is newer than this mlyard "
                    f"({SCHEMA_VERSION}); upgrade mlyard"
                )
            for step in MIGRATIONS[current:]:
                step(conn)
            if row is None:
                conn.execute(schema_info.insert().values(id=1, version=SCHEMA_VERSION))
            elif current != SCHEMA_VERSION:
                conn.execute(schema_info.update().values(version=SCHEMA_VERSION))

    def schema_version(self) -> int:
        with self._tx() as conn:
            return int(conn.execute(sa.select(schema_info.c.version)).scalar_one())

    def close(self) -> None:
        self.engine.dispose()

    # -- jobs --------------------------------------------------------------------------
    @staticmethod
    def _job(row: Any) -> JobRecord:
        return JobRecord(
            name=row.name,
            job_type=str(row.job_type),
            status=JobStatus(row.status),
            spec=json.loads(row.spec),
            created_at=row.created_at,
            updated_at=row.updated_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            failure_reason=row.failure_reason,
            executor=row.executor,
            pid=row.pid,
            host=row.host,
            stop_requested=bool(row.stop_requested),
            output_uri=row.output_uri,
            outputs=json.loads(row.outputs or "{}"),
        )

    def create_job(self, name: str, job_type: str, spec: dict[str, Any],
                   output_uri: str | None = None) -> JobRecord:
        now = time.time()
        try:
            with self._tx() as conn:
                conn.execute(jobs.insert().values(
                    name=name, job_type=str(job_type), status=JobStatus.PENDING.value,
                    spec=json.dumps(spec), created_at=now, updated_at=now,
                    stop_requested=False, output_uri=output_uri, outputs="{}",
                ))
        except IntegrityError:
            raise ConflictError(f"a job named {name!r} already exists") from None
        return self.get_job(name)

    def get_job(self, name: str) -> JobRecord:
        with self._tx() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no job named {name!r}")
        return self._job(row)

    def list_jobs(self, job_type: str | None = None, status: JobStatus | None = None,
                  limit: int = 100) -> list[JobRecord]:
        query = sa.select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        if job_type is not None:
            query = query.where(jobs.c.job_type == str(job_type))
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        with self._tx() as conn:
            return [self._job(r) for r in conn.execute(query)]

    def transition_job(self, name: str, to: JobStatus, *, expected: Iterable[JobStatus],
                       failure_reason: str | None = None,
                       outputs: dict[str, str] | None = None) -> bool:
        now = time.time()
        values: dict[str, Any] = {"status": to.value, "updated_at": now}
        if to is JobStatus.IN_PROGRESS:
            values["started_at"] = now
        if to in TERMINAL_STATUSES:
            values["ended_at"] = now
        if failure_reason is not None:
            values["failure_reason"] = failure_reason[:4000]
        if outputs is not None:
            values["outputs"] = json.dumps(outputs)
        allowed = [s.value for s in expected]
        with self._tx() as conn:
            result = conn.execute(
                jobs.update().where(jobs.c.name == name, jobs.c.status.in_(allowed))
                .values(**values)
            )
            changed = result.rowcount == 1
            if not changed and conn.execute(
                sa.select(jobs.c.name).where(jobs.c.name == name)
            ).first() is None:
                raise NotFoundError(f"no job named {name!r}")
        return changed

    def set_job_process(self, name: str, *, executor: str, pid: int | None,
                        host: str | None) -> None:
        with self._tx() as conn:
            conn.execute(jobs.update().where(jobs.c.name == name).values(
                executor=executor, pid=pid, host=host or socket.gethostname(),
                updated_at=time.time(),
            ))

    def request_stop(self, name: str, reason: str | None = None) -> JobRecord:
        now = time.time()
        with self._tx() as conn:
            row = conn.execute(sa.select(jobs.c.status).where(jobs.c.name == name)).first()
            if row is None:
                raise NotFoundError(f"no job named {name!r}")
            if row.status == JobStatus.PENDING.value:
                conn.execute(jobs.update().where(jobs.c.name == name).values(
                    status=JobStatus.STOPPED.value, stop_requested=True, updated_at=now,
                    ended_at=now, failure_reason=reason or "stopped before it started",
                ))
            elif row.status == JobStatus.IN_PROGRESS.value:
                values: dict[str, Any] = {"status": JobStatus.STOPPING.value,
                                          "stop_requested": True, "updated_at": now}
                if reason:
                    values["failure_reason"] = reason[:4000]
                conn.execute(jobs.update().where(jobs.c.name == name).values(**values))
        return self.get_job(name)

    def reopen_job(self, name: str, expected: Iterable[JobStatus]) -> bool:
        now = time.time()
        allowed = [s.value for s in expected]
        with self._tx() as conn:
            result = conn.execute(
                jobs.update().where(jobs.c.name == name, jobs.c.status.in_(allowed)).values(
                    status=JobStatus.PENDING.value, updated_at=now, ended_at=None,
                    failure_reason=None, stop_requested=False, pid=None))
            if result.rowcount == 0 and conn.execute(
                    sa.select(jobs.c.name).where(jobs.c.name == name)).first() is None:
                raise NotFoundError(f"no job named {name!r}")
            return bool(result.rowcount == 1)

    # -- logs and metrics ----------------------------------------------------------------
    def append_logs(self, name: str, lines: Sequence[tuple[float, str]]) -> None:
        if lines:
            with self._tx() as conn:
                conn.execute(job_logs.insert(), [
                    {"job_name": name, "ts": ts, "line": line} for ts, line in lines
                ])

    def get_logs(self, name: str, after_seq: int = 0, limit: int = 10_000) -> list[LogLine]:
        query = (sa.select(job_logs).where(job_logs.c.job_name == name, job_logs.c.id > after_seq)
                 .order_by(job_logs.c.id).limit(limit))
        with self._tx() as conn:
            return [LogLine(r.id, r.ts, r.line) for r in conn.execute(query)]

    def put_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        if points:
            with self._tx() as conn:
                conn.execute(job_metrics.insert(), [
                    {"job_name": name, "name": p.name, "value": p.value, "step": p.step,
                     "ts": p.timestamp} for p in points
                ])

    def get_metrics(self, name: str, metric: str | None = None) -> list[MetricPoint]:
        query = sa.select(job_metrics).where(job_metrics.c.job_name == name)
        if metric is not None:
            query = query.where(job_metrics.c.name == metric)
        with self._tx() as conn:
            return [MetricPoint(r.name, r.value, r.step, r.ts)
                    for r in conn.execute(query.order_by(job_metrics.c.id))]

    # -- models --------------------------------------------------------------------------
    @staticmethod
    def _model(row: Any) -> ModelRecord:
        return ModelRecord(name=row.name, uri=row.uri, flavor=row.flavor,
                           created_at=row.created_at, job_name=row.job_name,
                           metadata=json.loads(row.metadata or "{}"))

    def create_model(self, name: str, uri: str, flavor: str, job_name: str | None = None,
                     metadata: dict[str, Any] | None = None) -> ModelRecord:
        try:
            with self._tx() as conn:
                conn.execute(models.insert().values(
                    name=name, uri=uri, flavor=flavor, job_name=job_name,
                    created_at=time.time(), metadata=json.dumps(metadata or {}),
                ))
        except IntegrityError:
            raise ConflictError(f"a model named {name!r} already exists") from None
        return self.get_model(name)

    def get_model(self, name: str) -> ModelRecord:
        with self._tx() as conn:
            row = conn.execute(sa.select(models).where(models.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no model named {name!r}")
        return self._model(row)

    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(models).order_by(models.c.created_at.desc()).limit(limit))
            return [self._model(r) for r in rows]

    def delete_model(self, name: str) -> None:
        with self._tx() as conn:
            if conn.execute(models.delete().where(models.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no model named {name!r}")

    # -- catalog -----------------------------------------------------------------------
    @staticmethod
    def _table(row: Any) -> TableRecord:
        return TableRecord(database=row.database, name=row.name, location=row.location,
                           format=row.format, created_at=row.created_at,
                           options=json.loads(row.options or "{}"),
                           description=row.description or "")

    def put_table(self, table: TableRecord, replace: bool = False) -> TableRecord:
        values = {
            "database": table.database, "name": table.name, "location": table.location,
            "format": table.format, "options": json.dumps(table.options),
            "description": table.description, "created_at": table.created_at,
        }
        key = (catalog_tables.c.database == table.database) & (catalog_tables.c.name == table.name)
        with self._tx() as conn:
            exists = conn.execute(sa.select(catalog_tables.c.name).where(key)).first()
            if exists and not replace:
                raise ConflictError(f"table {table.qualified_name} already exists")
            if exists:
                conn.execute(catalog_tables.update().where(key).values(**values))
            else:
                conn.execute(catalog_tables.insert().values(**values))
        return self.get_table(table.database, table.name)

    def get_table(self, database: str, name: str) -> TableRecord:
        key = (catalog_tables.c.database == database) & (catalog_tables.c.name == name)
        with self._tx() as conn:
            row = conn.execute(sa.select(catalog_tables).where(key)).first()
        if row is None:
            raise NotFoundError(f"no table {database}.{name}")
        return self._table(row)

    def list_tables(self, database: str | None = None) -> list[TableRecord]:
        query = sa.select(catalog_tables).order_by(catalog_tables.c.database,
                                                   catalog_tables.c.name)
        if database is not None:
            query = query.where(catalog_tables.c.database == database)
        with self._tx() as conn:
            return [self._table(r) for r in conn.execute(query)]

    def delete_table(self, database: str, name: str) -> None:
        key = (catalog_tables.c.database == database) & (catalog_tables.c.name == name)
        with self._tx() as conn:
            if conn.execute(catalog_tables.delete().where(key)).rowcount == 0:
                raise NotFoundError(f"no table {database}.{name}")

    # -- endpoints ---------------------------------------------------------------------
    def create_endpoint_config(self, name: str, spec: dict[str, Any]) -> EndpointConfigRecord:
        try:
            with self._tx() as conn:
                conn.execute(endpoint_configs.insert().values(
                    name=name, spec=json.dumps(spec), created_at=time.time()))
        except IntegrityError:
            raise ConflictError(f"an endpoint config named {name!r} already exists") from None
        return self.get_endpoint_config(name)

    def get_endpoint_config(self, name: str) -> EndpointConfigRecord:
        with self._tx() as conn:
            row = conn.execute(
                sa.select(endpoint_configs).where(endpoint_configs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no endpoint config named {name!r}")
        return EndpointConfigRecord(row.name, json.loads(row.spec), row.created_at)

    def list_endpoint_configs(self) -> list[EndpointConfigRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(endpoint_configs).order_by(endpoint_configs.c.created_at.desc()))
            return [EndpointConfigRecord(r.name, json.loads(r.spec), r.created_at) for r in rows]

    def delete_endpoint_config(self, name: str) -> None:
        with self._tx() as conn:
            result = conn.execute(endpoint_configs.delete().where(endpoint_configs.c.name == name))
            if result.rowcount == 0:
                raise NotFoundError(f"no endpoint config named {name!r}")

    @staticmethod
    def _endpoint(row: Any) -> EndpointRecord:
        return EndpointRecord(name=row.name, config_name=row.config_name,
                              status=EndpointStatus(row.status), created_at=row.created_at,
                              updated_at=row.updated_at, failure_reason=row.failure_reason,
                              state=json.loads(row.state or "{}"))

    def create_endpoint(self, name: str, config_name: str,
                        state: dict[str, Any]) -> EndpointRecord:
        now = time.time()
        try:
            with self._tx() as conn:
                conn.execute(endpoints.insert().values(
                    name=name, config_name=config_name, status=EndpointStatus.CREATING.value,
                    state=json.dumps(state), created_at=now, updated_at=now))
        except IntegrityError:
            raise ConflictError(f"an endpoint named {name!r} already exists") from None
        return self.get_endpoint(name)

    def get_endpoint(self, name: str) -> EndpointRecord:
        with self._tx() as conn:
            row = conn.execute(sa.select(endpoints).where(endpoints.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no endpoint named {name!r}")
        return self._endpoint(row)

    def list_endpoints(self) -> list[EndpointRecord]:
        with self._tx() as conn:
            rows = conn.execute(sa.select(endpoints).order_by(endpoints.c.created_at.desc()))
            return [self._endpoint(r) for r in rows]

    def update_endpoint(self, name: str, *, status: EndpointStatus | None = None,
                        config_name: str | None = None, state: dict[str, Any] | None = None,
                        failure_reason: str | None = None,
                        clear_failure: bool = False) -> EndpointRecord:
        values: dict[str, Any] = {"updated_at": time.time()}
        if status is not None:
            values["status"] = status.value
        if config_name is not None:
            values["config_name"] = config_name
        if state is not None:
            values["state"] = json.dumps(state)
        if failure_reason is not None:
            values["failure_reason"] = failure_reason[:4000]
        elif clear_failure:
            values["failure_reason"] = None
        with self._tx() as conn:
            result = conn.execute(endpoints.update().where(endpoints.c.name == name)
                                  .values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"no endpoint named {name!r}")
        return self.get_endpoint(name)

    def delete_endpoint(self, name: str) -> None:
        with self._tx() as conn:
            if conn.execute(endpoints.delete().where(endpoints.c.name == name)).rowcount == 0:
                raise NotFoundError(f"no endpoint named {name!r}")
            conn.execute(scaling_activities.delete()
                         .where(scaling_activities.c.endpoint == name))

    def add_scaling_activity(self, activity: ScalingActivity) -> None:
        with self._tx() as conn:
            conn.execute(scaling_activities.insert().values(
                endpoint=activity.endpoint, variant=activity.variant, ts=activity.timestamp,
                from_replicas=activity.from_replicas, to_replicas=activity.to_replicas,
                cause=activity.cause, status=activity.status))

    def list_scaling_activities(self, endpoint: str) -> list[ScalingActivity]:
        query = (sa.select(scaling_activities).where(scaling_activities.c.endpoint == endpoint)
                 .order_by(scaling_activities.c.id))
        with self._tx() as conn:
            return [ScalingActivity(r.endpoint, r.variant, r.ts, r.from_replicas,
                                    r.to_replicas, r.cause, r.status)
                    for r in conn.execute(query)]

    # -- tuning trials ------------------------------------------------------------------
    def put_trial(self, trial: TrialRecord) -> None:
        values = {
            "training_job": trial.training_job,
            "hyperparameters": json.dumps(trial.hyperparameters),
            "status": trial.status.value, "objective": trial.objective,
            "intermediate": json.dumps([[int(s), float(v)] for s, v in trial.intermediate]),
            "started_at": trial.started_at, "ended_at": trial.ended_at,
            "stop_reason": trial.stop_reason[:4000] if trial.stop_reason else None,
            "source": trial.source,
        }
        with self._tx() as conn:
            if conn.execute(sa.select(jobs.c.name).where(jobs.c.name == trial.tuning_job)
                            ).first() is None:
                raise NotFoundError(f"no job named {trial.tuning_job!r}")
            key = ((tuning_trials.c.tuning_job == trial.tuning_job)
                   & (tuning_trials.c.number == trial.number))
            if conn.execute(tuning_trials.update().where(key).values(**values)).rowcount == 0:
                conn.execute(tuning_trials.insert().values(
                    tuning_job=trial.tuning_job, number=trial.number, **values))

    def list_trials(self, tuning_job: str) -> list[TrialRecord]:
        query = (sa.select(tuning_trials).where(tuning_trials.c.tuning_job == tuning_job)
                 .order_by(tuning_trials.c.number))
        with self._tx() as conn:
            return [TrialRecord(
                r.tuning_job, r.number, r.training_job, json.loads(r.hyperparameters),
                JobStatus(r.status), r.objective,
                [(int(s), float(v)) for s, v in json.loads(r.intermediate or "[]")],
                r.started_at, r.ended_at, r.stop_reason, r.source)
                for r in conn.execute(query)]

    # -- debugger / profiler rules --------------------------------------------------
    def put_rule_status(self, status: RuleStatus) -> None:
        values = {"kind": status.kind, "status": status.status.value,
                  "message": status.message[:4000], "step": status.step,
                  "updated_at": status.updated_at or time.time()}
        with self._tx() as conn:
            if conn.execute(sa.select(jobs.c.name).where(jobs.c.name == status.job_name)
                            ).first() is None:
                raise NotFoundError(f"no job named {status.job_name!r}")
            key = ((job_rules.c.job_name == status.job_name)
                   & (job_rules.c.rule_name == status.rule_name))
            if conn.execute(job_rules.update().where(key).values(**values)).rowcount == 0:
                conn.execute(job_rules.insert().values(
                    job_name=status.job_name, rule_name=status.rule_name, **values))

    def get_rule_statuses(self, job_name: str, kind: str | None = None) -> list[RuleStatus]:
        query = sa.select(job_rules).where(job_rules.c.job_name == job_name)
        if kind is not None:
            query = query.where(job_rules.c.kind == kind)
        with self._tx() as conn:
            return [RuleStatus(r.job_name, r.rule_name, r.kind, RuleEvaluationStatus(r.status),
                               r.message, r.step, r.updated_at)
                    for r in conn.execute(query.order_by(job_rules.c.kind,
                                                         job_rules.c.rule_name))]
