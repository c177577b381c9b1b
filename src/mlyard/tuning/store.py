"""The tuning store domain: the trials of hyperparameter tuning jobs.

Reach it with ``TrialStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.tuning.store_sql.SqlTrialStore` (registered as store domain ``trials``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.records import JobStatus
from mlyard.core.stores.domain import StoreDomain


@dataclass(frozen=True)
class TrialRecord:
    """One trial of a hyperparameter tuning job: the training job it ran, the tuned
    hyperparameters, its status, its final objective value and the objective per step.
    ``status`` is a :class:`JobStatus` value; ``stop_reason`` says why a trial was stopped
    (early stopping) or failed; ``source`` is ``own`` or ``warm-start:<parent>``."""

    tuning_job: str
    number: int
    training_job: str
    hyperparameters: dict[str, Any]
    status: JobStatus = JobStatus.PENDING
    objective: float | None = None
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    started_at: float | None = None
    ended_at: float | None = None
    stop_reason: str | None = None
    source: str = "own"


class TrialStore(StoreDomain):
    """Tuning trials, keyed by tuning job and trial number."""

    @abstractmethod
    def put_trial(self, trial: TrialRecord) -> None:
        """Insert or replace trial ``trial.number`` of a tuning job (NotFoundError: no such
        tuning job)."""

    @abstractmethod
    def list_trials(self, tuning_job: str) -> list[TrialRecord]:
        """A tuning job's trials, by number."""
