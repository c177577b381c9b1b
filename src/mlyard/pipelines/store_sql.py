"""SQL implementation of the pipelines' store domain: tables ``pipelines``,
``pipeline_executions`` and ``pipeline_steps``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import ConflictError, NotFoundError
from mlyard.pipelines.store import (
    EXECUTION_TERMINAL,
    STEP_TERMINAL,
    PipelineExecutionRecord,
    PipelineRecord,
    PipelineStore,
    StepExecutionRecord,
)

metadata = sa.MetaData()

pipelines = sa.Table(
    "pipelines", metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("version", sa.Integer, nullable=False),
)

executions = sa.Table(
    "pipeline_executions", metadata,
    sa.Column("execution_id", sa.String(64), primary_key=True),
    sa.Column("pipeline", sa.String(256), nullable=False, index=True),
    sa.Column("pipeline_version", sa.Integer, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("failure_reason", sa.Text),
    sa.Column("driver_job", sa.String(64)),
    sa.Column("display_name", sa.String(256)),
)

steps = sa.Table(
    "pipeline_steps", metadata,
    sa.Column("execution_id", sa.String(64), primary_key=True),
    sa.Column("step_name", sa.String(256), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("step_type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("job_name", sa.String(64)),
    sa.Column("cache_hit_source", sa.String(64)),
    sa.Column("cache_key", sa.String(64), index=True),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("failure_reason", sa.Text),
    sa.Column("properties", sa.Text, nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
)


def _create_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


def _pipeline(row: Any) -> PipelineRecord:
    return PipelineRecord(name=row.name, definition=json.loads(row.definition),
                          created_at=row.created_at, updated_at=row.updated_at,
                          description=row.description, version=row.version)


def _execution(row: Any) -> PipelineExecutionRecord:
    return PipelineExecutionRecord(
        execution_id=row.execution_id, pipeline=row.pipeline,
        pipeline_version=row.pipeline_version, status=row.status,
        parameters=json.loads(row.parameters), created_at=row.created_at,
        started_at=row.started_at, ended_at=row.ended_at, failure_reason=row.failure_reason,
        driver_job=row.driver_job, display_name=row.display_name)


def _step(row: Any) -> StepExecutionRecord:
    return StepExecutionRecord(
        execution_id=row.execution_id, step_name=row.step_name, step_type=row.step_type,
        status=row.status, attempt=row.attempt, job_name=row.job_name,
        cache_hit_source=row.cache_hit_source, started_at=row.started_at,
        ended_at=row.ended_at, failure_reason=row.failure_reason,
        properties=json.loads(row.properties), metadata=json.loads(row.metadata))


class SqlPipelineStore(SqlDomain, PipelineStore):
    """:class:`PipelineStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)

    # -- pipelines -----------------------------------------------------------------------
    def put_pipeline(self, name: str, definition: dict[str, Any],
                     description: str | None = None) -> PipelineRecord:
        text = json.dumps(definition, sort_keys=True, default=str)
        now = time.time()
        for _ in range(3):
            try:
                with self.db.transaction() as conn:
                    row = conn.execute(sa.select(pipelines).where(pipelines.c.name == name)
                                       .with_for_update()).first()
                    if row is None:
                        conn.execute(pipelines.insert().values(
                            name=name, definition=text, created_at=now, updated_at=now,
                            description=description, version=1))
                    else:
                        changed = row.definition != text
                        conn.execute(pipelines.update().where(pipelines.c.name == name).values(
                            definition=text, updated_at=now, description=description,
                            version=row.version + (1 if changed else 0)))
                return self.get_pipeline(name)
            except IntegrityError:  # created meanwhile: update it
                continue
        raise ConflictError(f"pipeline {name!r} is being changed by someone else; try again")

    def get_pipeline(self, name: str) -> PipelineRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(pipelines).where(pipelines.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no pipeline named {name!r}")
        return _pipeline(row)

    def list_pipelines(self, limit: int = 100) -> list[PipelineRecord]:
        with self.db.transaction() as conn:
            return [_pipeline(r) for r in conn.execute(
                sa.select(pipelines).order_by(pipelines.c.name).limit(limit))]

    def delete_pipeline(self, name: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(sa.select(pipelines.c.name).where(pipelines.c.name == name)
                            ).first() is None:
                raise NotFoundError(f"no pipeline named {name!r}")
            live = conn.execute(sa.select(executions.c.execution_id).where(
                executions.c.pipeline == name,
                executions.c.status.in_(["Executing", "Stopping"]))).first()
            if live is not None:
                raise ConflictError(f"pipeline {name!r} has a running execution "
                                    f"({live.execution_id}); stop it first")
            ids = sa.select(executions.c.execution_id).where(executions.c.pipeline == name)
            conn.execute(steps.delete().where(steps.c.execution_id.in_(ids)))
            conn.execute(executions.delete().where(executions.c.pipeline == name))
            conn.execute(pipelines.delete().where(pipelines.c.name == name))

    # -- executions ----------------------------------------------------------------------
    def create_execution(self, record: PipelineExecutionRecord,
                         definition: dict[str, Any]) -> PipelineExecutionRecord:
        try:
            with self.db.transaction() as conn:
                if conn.execute(sa.select(pipelines.c.name).where(
                        pipelines.c.name == record.pipeline)).first() is None:
                    raise NotFoundError(f"no pipeline named {record.pipeline!r}")
                conn.execute(executions.insert().values(
                    execution_id=record.execution_id, pipeline=record.pipeline,
                    pipeline_version=record.pipeline_version,
                    definition=_dumps(definition), status=record.status,
                    parameters=_dumps(record.parameters), created_at=record.created_at,
                    started_at=record.started_at, ended_at=record.ended_at,
                    failure_reason=record.failure_reason, driver_job=record.driver_job,
                    display_name=record.display_name))
        except IntegrityError:
            raise ConflictError(
                f"pipeline execution {record.execution_id!r} already exists") from None
        return self.get_execution(record.execution_id)

    def _execution_row(self, execution_id: str) -> Any:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(executions).where(
                executions.c.execution_id == execution_id)).first()
        if row is None:
            raise NotFoundError(f"no pipeline execution {execution_id!r}")
        return row

    def get_execution(self, execution_id: str) -> PipelineExecutionRecord:
        return _execution(self._execution_row(execution_id))

    def get_execution_definition(self, execution_id: str) -> dict[str, Any]:
        return dict(json.loads(self._execution_row(execution_id).definition))

    def list_executions(self, pipeline: str | None = None,
                        limit: int = 100) -> list[PipelineExecutionRecord]:
        query = sa.select(executions).order_by(executions.c.created_at.desc(),
                                               executions.c.execution_id.desc()).limit(limit)
        if pipeline is not None:
            query = query.where(executions.c.pipeline == pipeline)
        with self.db.transaction() as conn:
            return [_execution(r) for r in conn.execute(query)]

    def transition_execution(self, execution_id: str, to: str, *, expected: Iterable[str],
                             failure_reason: str | None = None,
                             driver_job: str | None = None) -> bool:
        now = time.time()
        values: dict[str, Any] = {"status": to}
        if to in EXECUTION_TERMINAL:
            values["ended_at"] = now
            values["failure_reason"] = failure_reason
        elif to == "Executing":
            values.update(ended_at=None, failure_reason=None)
        elif failure_reason is not None:
            values["failure_reason"] = failure_reason
        if driver_job is not None:
            values["driver_job"] = driver_job
        with self.db.transaction() as conn:
            result = conn.execute(executions.update().where(
                executions.c.execution_id == execution_id,
                executions.c.status.in_(list(expected))).values(**values))
            if result.rowcount == 1:
                if to == "Executing":
                    conn.execute(executions.update().where(
                        executions.c.execution_id == execution_id,
                        executions.c.started_at.is_(None)).values(started_at=now))
                return True
        self._execution_row(execution_id)  # NotFoundError for an unknown id
        return False

    # -- steps ---------------------------------------------------------------------------
    def put_step(self, record: StepExecutionRecord,
                 cache_key: str | None = None) -> StepExecutionRecord:
        values = {"step_type": record.step_type, "status": record.status,
                  "attempt": record.attempt, "job_name": record.job_name,
                  "cache_hit_source": record.cache_hit_source, "cache_key": cache_key,
                  "started_at": record.started_at, "ended_at": record.ended_at,
                  "failure_reason": record.failure_reason,
                  "properties": _dumps(record.properties), "metadata": _dumps(record.metadata)}
        where = sa.and_(steps.c.execution_id == record.execution_id,
                        steps.c.step_name == record.step_name)
        with self.db.transaction() as conn:
            if conn.execute(sa.select(executions.c.execution_id).where(
                    executions.c.execution_id == record.execution_id)).first() is None:
                raise NotFoundError(f"no pipeline execution {record.execution_id!r}")
            if conn.execute(steps.update().where(where).values(**values)).rowcount == 0:
                seq = conn.execute(sa.select(sa.func.count()).select_from(steps).where(
                    steps.c.execution_id == record.execution_id)).scalar_one()
                conn.execute(steps.insert().values(
                    execution_id=record.execution_id, step_name=record.step_name,
                    seq=int(seq), **values))
        return self.get_step(record.execution_id, record.step_name)

    def get_step(self, execution_id: str, step_name: str) -> StepExecutionRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(steps).where(
                steps.c.execution_id == execution_id, steps.c.step_name == step_name)).first()
        if row is None:
            raise NotFoundError(f"no step {step_name!r} in pipeline execution "
                                f"{execution_id!r}")
        return _step(row)

    def list_steps(self, execution_id: str) -> list[StepExecutionRecord]:
        with self.db.transaction() as conn:
            return [_step(r) for r in conn.execute(
                sa.select(steps).where(steps.c.execution_id == execution_id)
                .order_by(steps.c.seq, steps.c.step_name))]

    def transition_step(self, execution_id: str, step_name: str, to: str, *,
                        expected: Iterable[str], failure_reason: str | None = None,
                        properties: dict[str, Any] | None = None,
                        metadata: dict[str, Any] | None = None) -> bool:
        values: dict[str, Any] = {"status": to}
        if to in STEP_TERMINAL:
            values["ended_at"] = time.time()
        if failure_reason is not None:
            values["failure_reason"] = failure_reason
        if properties is not None:
            values["properties"] = _dumps(properties)
        if metadata is not None:
            values["metadata"] = _dumps(metadata)
        with self.db.transaction() as conn:
            result = conn.execute(steps.update().where(
                steps.c.execution_id == execution_id, steps.c.step_name == step_name,
                steps.c.status.in_(list(expected))).values(**values))
        if result.rowcount == 1:
            return True
        self.get_step(execution_id, step_name)  # NotFoundError for an unknown step
        return False

    def find_cached_step(self, cache_key: str,
                         not_before: float) -> StepExecutionRecord | None:
        with self.db.transaction() as conn:
            row = conn.execute(
                sa.select(steps).where(steps.c.cache_key == cache_key,
                                       steps.c.status == "Succeeded",
                                       steps.c.ended_at >= not_before)
                .order_by(steps.c.ended_at.desc()).limit(1)).first()
        return None if row is None else _step(row)
