"""SQL implementation of the tuning store domain: table ``tuning_trials``."""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlyard.core.records import JobStatus
from mlyard.core.stores.database import SqlDomain
from mlyard.core.stores.jobs_sql import require_job
from mlyard.tuning.store import TrialRecord, TrialStore

metadata = sa.MetaData()

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


def _create_tables(conn: Connection) -> None:
    tuning_trials.create(conn, checkfirst=True)


class SqlTrialStore(SqlDomain, TrialStore):
    """:class:`TrialStore` over SQLAlchemy Core; a trial's tuning job must exist in the
    jobs domain."""

    migrations = (_create_tables,)
    legacy_version = 4

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
        with self.db.transaction() as conn:
            require_job(conn, trial.tuning_job)
            self.db.upsert(conn, tuning_trials,
                           {"tuning_job": trial.tuning_job, "number": trial.number}, values)

    def list_trials(self, tuning_job: str) -> list[TrialRecord]:
        query = (sa.select(tuning_trials).where(tuning_trials.c.tuning_job == tuning_job)
                 .order_by(tuning_trials.c.number))
        with self.db.transaction() as conn:
            return [TrialRecord(
                r.tuning_job, r.number, r.training_job, json.loads(r.hyperparameters),
                JobStatus(r.status), r.objective,
                [(int(s), float(v)) for s, v in json.loads(r.intermediate or "[]")],
                r.started_at, r.ended_at, r.stop_reason, r.source)
                for r in conn.execute(query)]
