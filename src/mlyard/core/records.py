"""Frozen records read back from the metadata store, and job status rules."""

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


@dataclass(frozen=True)
class TableRecord:
    """A catalog table: files at ``location`` in a ``format`` (csv, parquet, jsonl)."""

    database: str
    name: str
    location: str
    format: str
    created_at: float
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def qualified_name(self) -> str:
        """``database.name``."""
        return f"{self.database}.{self.name}"


class EndpointStatus(StrEnum):
    """SageMaker's endpoint statuses."""

    CREATING = "Creating"
    IN_SERVICE = "InService"
    UPDATING = "Updating"
    ROLLING_BACK = "RollingBack"
    FAILED = "Failed"
    DELETING = "Deleting"


@dataclass(frozen=True)
class EndpointConfigRecord:
    """A stored endpoint config: production variants, shadow variant, data capture."""

    name: str
    spec: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class EndpointRecord:
    """A stored endpoint. ``state`` holds what changes while it runs: current weights and
    replica counts per variant, autoscaling policies and the last deployment."""

    name: str
    config_name: str
    status: EndpointStatus
    created_at: float
    updated_at: float
    failure_reason: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScalingActivity:
    """One autoscaling or capacity change of an endpoint variant."""

    endpoint: str
    variant: str
    timestamp: float
    from_replicas: int
    to_replicas: int
    cause: str
    status: str = "Successful"


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
