"""Frozen records of core's store domains (jobs, logs, metrics, models), and job status
rules. Each capability keeps its own domain's records (e.g. :mod:`mlyard.tuning.store`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """SageMaker's job statuses. ``Completed``, ``Failed`` and ``Stopped`` are terminal."""

    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """True for Completed, Failed and Stopped."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED})


class JobType(StrEnum):
    """The names of the job kinds that ship with mlyard. A job's type is its kind's name
    (a plain string): kinds added by packages have names outside this list."""

    TRAINING = "training"
    PROCESSING = "processing"
    TRANSFORM = "transform"
    TUNING = "tuning"


@dataclass(frozen=True)
class JobRecord:
    """One job as stored. ``job_type`` is the name of its kind; ``spec`` is the JSON of its
    typed spec."""

    name: str
    job_type: str
    status: JobStatus
    spec: dict[str, Any]
    created_at: float
    updated_at: float
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    executor: str | None = None
    pid: int | None = None
    host: str | None = None
    stop_requested: bool = False
    output_uri: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (or to now's last update while running)."""
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self.updated_at
        return max(0.0, end - self.started_at)


@dataclass(frozen=True)
class MetricPoint:
    """One value of a job metric at a step (epoch, iteration) and time."""

    name: str
    value: float
    step: int | None
    timestamp: float


@dataclass(frozen=True)
class LogLine:
    """One captured log line of a job."""

    seq: int
    timestamp: float
    line: str


@dataclass(frozen=True)
class ModelRecord:
    """A registered model: a name and the artifact URI of its directory."""

    name: str
    uri: str
    flavor: str
    created_at: float
    job_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
