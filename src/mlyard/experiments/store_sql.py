"""SQL implementation of the experiments store domain: tables ``experiments``,
``experiment_runs``, ``run_params``, ``run_metrics`` and ``run_artifacts``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import NotFoundError, ValidationError
from mlyard.experiments.store import (
    RUN_STATUSES,
    ExperimentRecord,
    ExperimentStore,
    RunImport,
    RunMetric,
    RunRecord,
)

metadata = sa.MetaData()
NAME = 256
#: Most names in one ``IN (...)`` clause.
_CHUNK = 500

experiments = sa.Table(
    "experiments", metadata,
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("description", sa.Text),
)
runs = sa.Table(
    "experiment_runs", metadata,
    sa.Column("experiment", sa.String(NAME), primary_key=True),
    sa.Column("name", sa.String(NAME), primary_key=True, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("source", sa.Text, nullable=False, default="{}"),
)
params = sa.Table(
    "run_params", metadata,
    sa.Column("experiment", sa.String(NAME), primary_key=True),
    sa.Column("run", sa.String(NAME), primary_key=True),
    sa.Column("key", sa.String(NAME), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
metric_points = sa.Table(
    "run_metrics", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment", sa.String(NAME), nullable=False),
    sa.Column("run", sa.String(NAME), nullable=False),
    sa.Column("key", sa.String(NAME), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("step", sa.Integer),
    sa.Column("timestamp", sa.Float, nullable=False),
    sa.Column("imported", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_run_metrics_run", "experiment", "run", "key"),
)
artifacts = sa.Table(
    "run_artifacts", metadata,
    sa.Column("experiment", sa.String(NAME), primary_key=True),
    sa.Column("run", sa.String(NAME), primary_key=True),
    sa.Column("name", sa.String(NAME), primary_key=True),
    sa.Column("uri", sa.Text, nullable=False),
)


def _create_tables(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=True)


def _experiment(row: Any) -> ExperimentRecord:
    return ExperimentRecord(row.name, row.created_at, row.description)


def _run(row: Any) -> RunRecord:
    return RunRecord(row.experiment, row.name, row.created_at, row.status, row.ended_at,
                     json.loads(row.source or "{}"))


def _retrying(write: Callable[[], Any], attempts: int = 5) -> Any:
    """Run a create-if-missing again when a concurrent one inserted the row first."""
    for attempt in range(attempts):  # pragma: no branch
        try:
            return write()
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    return None  # pragma: no cover


def _check_status(status: str) -> None:
    if status not in RUN_STATUSES:
        raise ValidationError(f"run status {status!r} is not one of {list(RUN_STATUSES)}")


class SqlExperimentStore(SqlDomain, ExperimentStore):
    """:class:`ExperimentStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)

    # -- experiments -------------------------------------------------------------------
    def _ensure_experiment(self, conn: Connection, name: str,
                           description: str | None = None) -> None:
        row = conn.execute(sa.select(experiments.c.name).where(
            experiments.c.name == name)).first()
        if row is None:
            conn.execute(experiments.insert().values(name=name, created_at=time.time(),
                                                     description=description))
        elif description is not None:
            conn.execute(experiments.update().where(experiments.c.name == name).values(
                description=description))

    def ensure_experiment(self, name: str, description: str | None = None
                          ) -> ExperimentRecord:
        if not name or len(name) > NAME:
            raise ValidationError(f"experiment name must be 1 to {NAME} characters")

        def write() -> None:
            with self.db.transaction() as conn:
                self._ensure_experiment(conn, name, description)
        _retrying(write)
        return self.get_experiment(name)

    def get_experiment(self, name: str) -> ExperimentRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(experiments).where(experiments.c.name == name)
                               ).first()
        if row is None:
            raise NotFoundError(f"no experiment named {name!r}")
        return _experiment(row)

    def list_experiments(self) -> list[ExperimentRecord]:
        with self.db.transaction() as conn:
            return [_experiment(r) for r in conn.execute(
                sa.select(experiments).order_by(experiments.c.name))]

    # -- runs --------------------------------------------------------------------------
    def _ensure_run(self, conn: Connection, run: RunRecord) -> bool:
        """Create the run (and its experiment) if missing; True if it was created."""
        if conn.execute(sa.select(runs.c.name).where(
                runs.c.experiment == run.experiment, runs.c.name == run.name)).first():
            return False
        self._ensure_experiment(conn, run.experiment)
        conn.execute(runs.insert().values(
            experiment=run.experiment, name=run.name, status=run.status,
            created_at=run.created_at, ended_at=run.ended_at,
            source=json.dumps(run.source, default=str)))
        return True

    def ensure_run(self, run: RunRecord) -> RunRecord:
        _check_status(run.status)
        if not run.name or len(run.name) > NAME or not run.experiment or len(
                run.experiment) > NAME:
            raise ValidationError(f"experiment and run names must be 1 to {NAME} characters")

        def write() -> None:
            with self.db.transaction() as conn:
                self._ensure_run(conn, run)
        _retrying(write)
        return self.get_run(run.experiment, run.name)

    def update_run(self, experiment: str, name: str, *, status: str,
                   ended_at: float | None = None) -> RunRecord:
        _check_status(status)
        with self.db.transaction() as conn:
            if conn.execute(runs.update().where(
                    runs.c.experiment == experiment, runs.c.name == name).values(
                    status=status, ended_at=ended_at)).rowcount == 0:
                raise NotFoundError(f"no run {name!r} in experiment {experiment!r}")
        return self.get_run(experiment, name)

    def get_run(self, experiment: str, name: str) -> RunRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(runs).where(
                runs.c.experiment == experiment, runs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no run {name!r} in experiment {experiment!r}")
        return _run(row)

    def list_runs(self, experiment: str) -> list[RunRecord]:
        self.get_experiment(experiment)
        with self.db.transaction() as conn:
            return [_run(r) for r in conn.execute(sa.select(runs).where(
                runs.c.experiment == experiment).order_by(runs.c.created_at, runs.c.name))]

    def find_runs(self, name: str) -> list[RunRecord]:
        with self.db.transaction() as conn:
            return [_run(r) for r in conn.execute(sa.select(runs).where(
                runs.c.name == name).order_by(runs.c.experiment))]

    # -- logged values -----------------------------------------------------------------
    def _require_run(self, conn: Connection, experiment: str, run: str) -> None:
        if conn.execute(sa.select(runs.c.name).where(
                runs.c.experiment == experiment, runs.c.name == run)).first() is None:
            raise NotFoundError(f"no run {run!r} in experiment {experiment!r}")

    @staticmethod
    def _put_params(conn: Connection, experiment: str, run: str,
                    values: Mapping[str, Any]) -> None:
        for key, value in values.items():
            text = json.dumps(value, default=str)
            where = (params.c.experiment == experiment, params.c.run == run,
                     params.c.key == str(key))
            if conn.execute(params.update().where(*where).values(value=text)).rowcount == 0:
                conn.execute(params.insert().values(experiment=experiment, run=run,
                                                    key=str(key), value=text))

    @staticmethod
    def _put_artifacts(conn: Connection, experiment: str, run: str,
                       values: Mapping[str, str]) -> None:
        for name, uri in values.items():
            where = (artifacts.c.experiment == experiment, artifacts.c.run == run,
                     artifacts.c.name == name)
            if conn.execute(artifacts.update().where(*where).values(uri=uri)).rowcount == 0:
                conn.execute(artifacts.insert().values(experiment=experiment, run=run,
                                                       name=name, uri=uri))

    @staticmethod
    def _put_metrics(conn: Connection, experiment: str, run: str,
                     points: Sequence[RunMetric], imported: bool) -> None:
        if points:
            conn.execute(metric_points.insert(), [
                {"experiment": experiment, "run": run, "key": p.key, "value": float(p.value),
                 "step": p.step, "timestamp": p.timestamp, "imported": imported}
                for p in points])

    def log_params(self, experiment: str, run: str, params: Mapping[str, Any]) -> None:
        def write() -> None:
            with self.db.transaction() as conn:
                self._require_run(conn, experiment, run)
                self._put_params(conn, experiment, run, params)
        _retrying(write)

    def log_metrics(self, experiment: str, run: str, points: Sequence[RunMetric]) -> None:
        with self.db.transaction() as conn:
            self._require_run(conn, experiment, run)
            self._put_metrics(conn, experiment, run, points, imported=False)

    def log_artifacts(self, experiment: str, run: str, artifacts: Mapping[str, str]) -> None:
        def write() -> None:
            with self.db.transaction() as conn:
                self._require_run(conn, experiment, run)
                self._put_artifacts(conn, experiment, run, artifacts)
        _retrying(write)

    def get_params(self, experiment: str, run: str) -> dict[str, Any]:
        with self.db.transaction() as conn:
            return {r.key: json.loads(r.value) for r in conn.execute(
                sa.select(params).where(params.c.experiment == experiment,
                                        params.c.run == run).order_by(params.c.key))}

    def get_metrics(self, experiment: str, run: str, key: str | None = None
                    ) -> list[RunMetric]:
        query = sa.select(metric_points).where(metric_points.c.experiment == experiment,
                                         metric_points.c.run == run).order_by(
            metric_points.c.timestamp, metric_points.c.step, metric_points.c.id)
        if key is not None:
            query = query.where(metric_points.c.key == key)
        with self.db.transaction() as conn:
            return [RunMetric(r.key, r.value, r.step, r.timestamp)
                    for r in conn.execute(query)]

    def get_artifacts(self, experiment: str, run: str) -> dict[str, str]:
        with self.db.transaction() as conn:
            return {r.name: r.uri for r in conn.execute(
                sa.select(artifacts).where(artifacts.c.experiment == experiment,
                                           artifacts.c.run == run).order_by(
                    artifacts.c.name))}

    def import_runs(self, imports: Sequence[RunImport]) -> None:
        for item in imports:
            _check_status(item.run.status)
        latest = {(i.run.experiment, i.run.name): i for i in imports}
        if latest:
            _retrying(lambda: self._import(latest))

    def _import(self, latest: Mapping[tuple[str, str], RunImport]) -> None:
        """Bulk import: one query per table and chunk of runs, not per run."""
        by_experiment: dict[str, list[str]] = {}
        for experiment, name in latest:
            by_experiment.setdefault(experiment, []).append(name)
        with self.db.transaction() as conn:
            known = set(conn.execute(sa.select(experiments.c.name).where(
                experiments.c.name.in_(list(by_experiment)))).scalars())
            now = time.time()
            if set(by_experiment) - known:
                conn.execute(experiments.insert(), [
                    {"name": e, "created_at": now, "description": None}
                    for e in sorted(set(by_experiment) - known)])
            stored_runs: set[tuple[str, str]] = set()
            stored_params: dict[tuple[str, str, str], str] = {}
            stored_artifacts: dict[tuple[str, str, str], str] = {}
            for experiment, names in by_experiment.items():
                for start in range(0, len(names), _CHUNK):
                    chunk = names[start:start + _CHUNK]
                    stored_runs.update((experiment, n) for n in conn.execute(
                        sa.select(runs.c.name).where(runs.c.experiment == experiment,
                                                     runs.c.name.in_(chunk))).scalars())
                    for row in conn.execute(sa.select(params).where(
                            params.c.experiment == experiment, params.c.run.in_(chunk))):
                        stored_params[(experiment, row.run, row.key)] = row.value
                    for row in conn.execute(sa.select(artifacts).where(
                            artifacts.c.experiment == experiment,
                            artifacts.c.run.in_(chunk))):
                        stored_artifacts[(experiment, row.run, row.name)] = row.uri
                    conn.execute(metric_points.delete().where(
                        metric_points.c.experiment == experiment,
                        metric_points.c.run.in_(chunk), metric_points.c.imported))
            new_runs = []
            for key, item in latest.items():
                run = item.run
                values = {"status": run.status, "ended_at": run.ended_at,
                          "source": json.dumps(run.source, default=str)}
                if key in stored_runs:
                    conn.execute(runs.update().where(
                        runs.c.experiment == run.experiment, runs.c.name == run.name
                    ).values(**values))
                else:
                    new_runs.append({"experiment": run.experiment, "name": run.name,
                                     "created_at": run.created_at, **values})
            if new_runs:
                conn.execute(runs.insert(), new_runs)
            self._bulk_upsert(conn, params, "key", "value", stored_params, {
                (e, n, str(k)): json.dumps(v, default=str)
                for (e, n), item in latest.items() for k, v in item.params.items()})
            self._bulk_upsert(conn, artifacts, "name", "uri", stored_artifacts, {
                (e, n, k): v for (e, n), item in latest.items()
                for k, v in item.artifacts.items()})
            points = [{"experiment": e, "run": n, "key": p.key, "value": float(p.value),
                       "step": p.step, "timestamp": p.timestamp, "imported": True}
                      for (e, n), item in latest.items() for p in item.metrics]
            for start in range(0, len(points), 5000):
                conn.execute(metric_points.insert(), points[start:start + 5000])

    @staticmethod
    def _bulk_upsert(conn: Connection, table: sa.Table, key: str, value: str,
                     stored: Mapping[tuple[str, str, str], str],
                     wanted: Mapping[tuple[str, str, str], str]) -> None:
        """Insert the rows of ``wanted`` that are not ``stored``, update changed ones."""
        new = [{"experiment": e, "run": r, key: k, value: v}
               for (e, r, k), v in wanted.items() if (e, r, k) not in stored]
        if new:
            conn.execute(table.insert(), new)
        for (e, r, k), v in wanted.items():
            if (e, r, k) in stored and stored[(e, r, k)] != v:
                conn.execute(table.update().where(
                    table.c.experiment == e, table.c.run == r, table.c[key] == k
                ).values({value: v}))
