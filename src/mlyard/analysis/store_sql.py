"""SQL implementation of the analyses' store domain: table ``analyses``."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.analysis.store import AnalysisRecord, AnalysisStore
from mlyard.core.stores.database import SqlDomain
from mlyard.core.stores.jobs_sql import require_job
from mlyard.errors import ConflictError, NotFoundError

metadata = sa.MetaData()

analyses = sa.Table(
    "analyses", metadata,
    sa.Column("job_name", sa.String(64), primary_key=True),
    sa.Column("analysis", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("output_uri", sa.Text, nullable=False),
    sa.Column("inputs", sa.Text, nullable=False, default="{}"),
    sa.Column("model_name", sa.String(256)),
    sa.Column("summary", sa.Text, nullable=False, default="{}"),
)


def _create_tables(conn: Connection) -> None:
    analyses.create(conn, checkfirst=True)


def _record(row: Any) -> AnalysisRecord:
    return AnalysisRecord(job_name=row.job_name, analysis=row.analysis,
                          created_at=row.created_at, output_uri=row.output_uri,
                          inputs=json.loads(row.inputs or "{}"), model_name=row.model_name,
                          summary=json.loads(row.summary or "{}"))


class SqlAnalysisStore(SqlDomain, AnalysisStore):
    """:class:`AnalysisStore` over SQLAlchemy Core; an analysis' job must exist in the
    jobs domain."""

    migrations = (_create_tables,)

    def put_analysis(self, record: AnalysisRecord) -> AnalysisRecord:
        values = {"job_name": record.job_name, "analysis": record.analysis,
                  "created_at": record.created_at, "output_uri": record.output_uri,
                  "inputs": json.dumps(record.inputs), "model_name": record.model_name,
                  "summary": json.dumps(record.summary, default=str)}
        try:
            with self.db.transaction() as conn:
                require_job(conn, record.job_name)
                conn.execute(analyses.insert().values(**values))
        except IntegrityError:
            raise ConflictError(f"job {record.job_name!r} already has an analysis") from None
        return self.get_analysis(record.job_name)

    def get_analysis(self, job_name: str) -> AnalysisRecord:
        with self.db.transaction() as conn:
            row = conn.execute(sa.select(analyses).where(analyses.c.job_name == job_name)
                               ).first()
        if row is None:
            raise NotFoundError(f"no analysis of job {job_name!r}")
        return _record(row)

    def list_analyses(self, analysis: str | None = None,
                      limit: int = 100) -> list[AnalysisRecord]:
        query = sa.select(analyses).order_by(analyses.c.created_at.desc(),
                                             analyses.c.job_name.desc()).limit(limit)
        if analysis is not None:
            query = query.where(analyses.c.analysis == analysis)
        with self.db.transaction() as conn:
            return [_record(r) for r in conn.execute(query)]

    def delete_analysis(self, job_name: str) -> None:
        with self.db.transaction() as conn:
            if conn.execute(analyses.delete().where(analyses.c.job_name == job_name)
                            ).rowcount == 0:
                raise NotFoundError(f"no analysis of job {job_name!r}")
