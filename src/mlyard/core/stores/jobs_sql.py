"""SQL implementation of the jobs domain: tables ``jobs``, ``job_logs``, ``job_metrics``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.records import (
    TERMINAL_STATUSES,
    JobRecord,
    JobStatus,
    LogLine,
    MetricPoint,
)
from mlyard.core.stores.database import SqlDomain
from mlyard.core.stores.jobs import JobStore
from mlyard.errors import ConflictError, NotFoundError

metadata = sa.MetaData()

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


def _create_tables(conn: Connection) -> None:
    for table in (jobs, job_logs, job_metrics):
        table.create(conn, checkfirst=True)


def require_job(conn: Connection, name: str) -> None:
    """Raise :class:`NotFoundError` unless job ``name`` exists; for domains whose rows
    belong to a job (tuning trials, rule statuses), inside their write transaction."""
    if conn.execute(sa.select(jobs.c.name).where(jobs.c.name == name)).first() is None:
        raise NotFoundError(f"no job named {name!r}")


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


class SqlJobStore(SqlDomain, JobStore):
    """:class:`JobStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)
    legacy_version = 1

    # -- jobs --------------------------------------------------------------------------
    def create_job(self, name: str, job_type: str, spec: dict[str, Any],
                   output_uri: str | None = None) -> JobRecord:
        now = time.time()
        try:
            with self.db.transaction() as conn:
                conn.execute(jobs.insert().values(
                    name=name, job_type=str(job_type), status=JobStatus.PENDING.value,
                    spec=json.dumps(spec), created_at=now, updated_at=now,
                    stop_requested=False, output_uri=output_uri, outputs="{}",
                ))
        except IntegrityError:
            raise ConflictError(f"a job named {name!r} already exists") from None
        return self.get_job(name)

    def get_job(self, name: str) -> JobRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no job named {name!r}")
        return _job(row)

    def list_jobs(self, job_type: str | None = None, status: JobStatus | None = None,
                  limit: int = 100) -> list[JobRecord]:
        query = sa.select(jobs).order_by(jobs.c.created_at.desc()).limit(limit)
        if job_type is not None:
            query = query.where(jobs.c.job_type == str(job_type))
        if status is not None:
            query = query.where(jobs.c.status == status.value)
        with self.db.transaction() as conn:
            return [_job(r) for r in conn.execute(query)]

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
        with self.db.transaction() as conn:
            result = conn.execute(
                jobs.update().where(jobs.c.name == name, jobs.c.status.in_(allowed))
                .values(**values)
            )
            changed = result.rowcount == 1
            if not changed:
                require_job(conn, name)
        return changed

    def set_job_process(self, name: str, *, executor: str, pid: int | None,
                        host: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(jobs.update().where(jobs.c.name == name).values(
                executor=executor, pid=pid, host=host or socket.gethostname(),
                updated_at=time.time(),
            ))

    def request_stop(self, name: str, reason: str | None = None) -> JobRecord:
        now = time.time()
        with self.db.transaction() as conn:
            # FOR UPDATE: on PostgreSQL no other transaction changes the status between
            # this read and the write below (SQLite's BEGIN IMMEDIATE already excludes it)
            row = conn.execute(sa.select(jobs.c.status).where(jobs.c.name == name)
                               .with_for_update()).first()
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
        with self.db.transaction() as conn:
            result = conn.execute(
                jobs.update().where(jobs.c.name == name, jobs.c.status.in_(allowed)).values(
                    status=JobStatus.PENDING.value, updated_at=now, ended_at=None,
                    failure_reason=None, stop_requested=False, pid=None))
            if result.rowcount == 0:
                require_job(conn, name)
            return bool(result.rowcount == 1)

    # -- logs and metrics ----------------------------------------------------------------
    def append_logs(self, name: str, lines: Sequence[tuple[float, str]]) -> None:
        if lines:
            with self.db.transaction() as conn:
                conn.execute(job_logs.insert(), [
                    {"job_name": name, "ts": ts, "line": line} for ts, line in lines
                ])

    def get_logs(self, name: str, after_seq: int = 0, limit: int = 10_000) -> list[LogLine]:
        query = (sa.select(job_logs).where(job_logs.c.job_name == name, job_logs.c.id > after_seq)
                 .order_by(job_logs.c.id).limit(limit))
        with self.db.transaction() as conn:
            return [LogLine(r.id, r.ts, r.line) for r in conn.execute(query)]

    def put_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        if points:
            with self.db.transaction() as conn:
                conn.execute(job_metrics.insert(), [
                    {"job_name": name, "name": p.name, "value": p.value, "step": p.step,
                     "ts": p.timestamp} for p in points
                ])

    def get_metrics(self, name: str, metric: str | None = None) -> list[MetricPoint]:
        query = sa.select(job_metrics).where(job_metrics.c.job_name == name)
        if metric is not None:
            query = query.where(job_metrics.c.name == metric)
        with self.db.transaction() as conn:
            return [MetricPoint(r.name, r.value, r.step, r.ts)
                    for r in conn.execute(query.order_by(job_metrics.c.id))]
