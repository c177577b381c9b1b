"""SQL implementation of the rule-status store domain: table ``job_rules``."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlyard.core.stores.database import SqlDomain
from mlyard.core.stores.jobs_sql import require_job
from mlyard.training.rule_store import RuleEvaluationStatus, RuleStatus, RuleStore

metadata = sa.MetaData()

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


def _create_tables(conn: Connection) -> None:
    job_rules.create(conn, checkfirst=True)


class SqlRuleStore(SqlDomain, RuleStore):
    """:class:`RuleStore` over SQLAlchemy Core; a rule's job must exist in the jobs
    domain."""

    migrations = (_create_tables,)
    legacy_version = 3

    def put_rule_status(self, status: RuleStatus) -> None:
        values = {"kind": status.kind, "status": status.status.value,
                  "message": status.message[:4000], "step": status.step,
                  "updated_at": status.updated_at or time.time()}
        with self.db.transaction() as conn:
            require_job(conn, status.job_name)
            self.db.upsert(conn, job_rules,
                           {"job_name": status.job_name, "rule_name": status.rule_name}, values)

    def get_rule_statuses(self, job_name: str, kind: str | None = None) -> list[RuleStatus]:
        query = sa.select(job_rules).where(job_rules.c.job_name == job_name)
        if kind is not None:
            query = query.where(job_rules.c.kind == kind)
        with self.db.transaction() as conn:
            return [RuleStatus(r.job_name, r.rule_name, r.kind, RuleEvaluationStatus(r.status),
                               r.message, r.step, r.updated_at)
                    for r in conn.execute(query.order_by(job_rules.c.kind,
                                                         job_rules.c.rule_name))]
