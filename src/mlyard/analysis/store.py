"""The analyses' store domain: an index of completed analysis jobs (which analysis, on
which inputs, where its report is and its short summary), so ``mlyard analyses list``, the
SDK and the server's ``/api/analyses`` find reports without reading every job's spec.

A row is written by the ``analysis`` job kind only after the analysis' files were stored,
so a failed job has none. Reach it with ``AnalysisStore.of(ws.store)``; the SQL
implementation is :class:`mlyard.analysis.store_sql.SqlAnalysisStore` (store domain
``analyses``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.stores.domain import StoreDomain


@dataclass(frozen=True)
class AnalysisRecord:
    """One completed analysis: the job that ran it, the analyzer's name, its inputs
    (input name -> the location given), where its files are and its JSON summary."""

    job_name: str
    analysis: str
    created_at: float
    output_uri: str
    inputs: dict[str, str] = field(default_factory=dict)
    model_name: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


class AnalysisStore(StoreDomain):
    """Completed analyses, one per analysis job."""

    @abstractmethod
    def put_analysis(self, record: AnalysisRecord) -> AnalysisRecord:
        """Index an analysis; NotFoundError if its job does not exist, ConflictError if
        the job already has one."""

    @abstractmethod
    def get_analysis(self, job_name: str) -> AnalysisRecord:
        """The analysis of job ``job_name``; NotFoundError if none."""

    @abstractmethod
    def list_analyses(self, analysis: str | None = None,
                      limit: int = 100) -> list[AnalysisRecord]:
        """Analyses, newest first, optionally of one analyzer."""

    @abstractmethod
    def delete_analysis(self, job_name: str) -> None:
        """Remove an analysis from the index (its files stay); NotFoundError if none."""
