"""The training store domain of Debugger and Profiler rules: each rule's latest status.

Reach it with ``RuleStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.training.rule_store_sql.SqlRuleStore` (registered as store domain
``rules``). The training job kind describes them as SageMaker's
``DebugRuleEvaluationStatuses`` and ``ProfilerRuleEvaluationStatuses``.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from mlyard.core.stores.domain import StoreDomain


class RuleEvaluationStatus(StrEnum):
    """A Debugger or Profiler rule's state, as SageMaker's ``RuleEvaluationStatus``."""

    IN_PROGRESS = "InProgress"
    NO_ISSUES_FOUND = "NoIssuesFound"
    ISSUES_FOUND = "IssuesFound"
    ERROR = "Error"
    STOPPED = "Stopped"


@dataclass(frozen=True)
class RuleStatus:
    """The latest evaluation of one rule of a training job. ``kind`` is ``debugger`` or
    ``profiler``; ``step`` is the training step the finding refers to (if any)."""

    job_name: str
    rule_name: str
    kind: str
    status: RuleEvaluationStatus
    message: str = ""
    step: int | None = None
    updated_at: float = 0.0


class RuleStore(StoreDomain):
    """Rule statuses of training jobs, keyed by job and rule name."""

    @abstractmethod
    def put_rule_status(self, status: RuleStatus) -> None:
        """Insert or replace the status of one rule of a job (NotFoundError: no such job)."""

    @abstractmethod
    def get_rule_statuses(self, job_name: str, kind: str | None = None) -> list[RuleStatus]:
        """A job's rule statuses (optionally only ``debugger`` or ``profiler`` ones), sorted
        by kind and rule name."""
