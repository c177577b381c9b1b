"""The metadata store interface: jobs, their logs and metrics, models, catalog tables.

Every implementation must pass :mod:`mlyard.testing.stores` (the conformance suite).
Status changes are compare-and-set so that several processes may update one job safely.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from mlyard.core.records import (
    EndpointConfigRecord,
    EndpointRecord,
    EndpointStatus,
    JobRecord,
    JobStatus,
    LogLine,
    MetricPoint,
    ModelRecord,
    RuleStatus,
    ScalingActivity,
    TableRecord,
    TrialRecord,
)


class MetadataStore(ABC):
    """Where mlyard keeps everything but artifact bytes."""

    # -- jobs -------------------------------------------------------------------------
    @abstractmethod
    def create_job(self, name: str, job_type: str, spec: dict[str, Any],
                   output_uri: str | None = None) -> JobRecord:
        """Insert a Pending job; :class:`~mlyard.errors.ConflictError` if the name exists."""

    @abstractmethod
    def get_job(self, name: str) -> JobRecord:
        """The job called ``name``; :class:`~mlyard.errors.NotFoundError` if none."""

    @abstractmethod
    def list_jobs(self, job_type: str | None = None, status: JobStatus | None = None,
                  limit: int = 100) -> list[JobRecord]:
        """Jobs, newest first."""

    @abstractmethod
    def transition_job(self, name: str, to: JobStatus, *, expected: Iterable[JobStatus],
                       failure_reason: str | None = None,
                       outputs: dict[str, str] | None = None) -> bool:
        """Set the status to ``to`` if it is now one of ``expected``; True if it changed.
        Sets start/end times on entering InProgress/terminal states."""

    @abstractmethod
    def set_job_process(self, name: str, *, executor: str, pid: int | None,
                        host: str | None) -> None:
        """Record where the job runs."""

    @abstractmethod
    def request_stop(self, name: str, reason: str | None = None) -> JobRecord:
        """Flag a job to stop; a Pending job becomes Stopped at once. ``reason`` becomes the
        job's failure reason when it ends Stopped. Returns the record."""

    @abstractmethod
    def reopen_job(self, name: str, expected: Iterable[JobStatus]) -> bool:
        """Put a job whose status is in ``expected`` back to Pending (failure reason, stop
        flag, end time and process cleared), to run it again (a tuning job resuming after
        its driver died). False when its status is not in ``expected``."""

    # -- logs and metrics ---------------------------------------------------------------
    @abstractmethod
    def append_logs(self, name: str, lines: Sequence[tuple[float, str]]) -> None:
        """Append ``(timestamp, line)`` pairs to a job's log."""

    @abstractmethod
    def get_logs(self, name: str, after_seq: int = 0, limit: int = 10_000) -> list[LogLine]:
        """Log lines with sequence number greater than ``after_seq``."""

    @abstractmethod
    def put_metrics(self, name: str, points: Sequence[MetricPoint]) -> None:
        """Append metric points to a job's time series."""

    @abstractmethod
    def get_metrics(self, name: str, metric: str | None = None) -> list[MetricPoint]:
        """A job's metric points in insertion order (optionally one metric only)."""

    # -- models ----------------------------------------------------------------------
    @abstractmethod
    def create_model(self, name: str, uri: str, flavor: str, job_name: str | None = None,
                     metadata: dict[str, Any] | None = None) -> ModelRecord:
        """Register a model; ConflictError if the name exists."""

    @abstractmethod
    def get_model(self, name: str) -> ModelRecord:
        """The model called ``name``; NotFoundError if none."""

    @abstractmethod
    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        """Models, newest first."""

    @abstractmethod
    def delete_model(self, name: str) -> None:
        """Remove a model's registration (its artifacts stay)."""

    # -- catalog ---------------------------------------------------------------------
    @abstractmethod
    def put_table(self, table: TableRecord, replace: bool = False) -> TableRecord:
        """Register a table; ConflictError if it exists and ``replace`` is false."""

    @abstractmethod
    def get_table(self, database: str, name: str) -> TableRecord:
        """One table; NotFoundError if none."""

    @abstractmethod
    def list_tables(self, database: str | None = None) -> list[TableRecord]:
        """Tables sorted by database and name."""

    @abstractmethod
    def delete_table(self, database: str, name: str) -> None:
        """Remove a table's registration (its files stay)."""

    # -- endpoints -------------------------------------------------------------------
    @abstractmethod
    def create_endpoint_config(self, name: str, spec: dict[str, Any]) -> EndpointConfigRecord:
        """Store an endpoint config; ConflictError if the name exists."""

    @abstractmethod
    def get_endpoint_config(self, name: str) -> EndpointConfigRecord:
        """One endpoint config; NotFoundError if none."""

    @abstractmethod
    def list_endpoint_configs(self) -> list[EndpointConfigRecord]:
        """Endpoint configs, newest first."""

    @abstractmethod
    def delete_endpoint_config(self, name: str) -> None:
        """Remove an endpoint config."""

    @abstractmethod
    def create_endpoint(self, name: str, config_name: str,
                        state: dict[str, Any]) -> EndpointRecord:
        """Store a Creating endpoint; ConflictError if the name exists."""

    @abstractmethod
    def get_endpoint(self, name: str) -> EndpointRecord:
        """One endpoint; NotFoundError if none."""

    @abstractmethod
    def list_endpoints(self) -> list[EndpointRecord]:
        """Endpoints, newest first."""

    @abstractmethod
    def update_endpoint(self, name: str, *, status: EndpointStatus | None = None,
                        config_name: str | None = None, state: dict[str, Any] | None = None,
                        failure_reason: str | None = None,
                        clear_failure: bool = False) -> EndpointRecord:
        """Change the given fields of an endpoint."""

    @abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Remove an endpoint and its scaling history."""

    @abstractmethod
    def add_scaling_activity(self, activity: ScalingActivity) -> None:
        """Append to an endpoint's scaling history."""

    @abstractmethod
    def list_scaling_activities(self, endpoint: str) -> list[ScalingActivity]:
        """An endpoint's scaling history, oldest first."""

    # -- tuning trials ------------------------------------------------------------------
    @abstractmethod
    def put_trial(self, trial: TrialRecord) -> None:
        """Insert or replace trial ``trial.number`` of a tuning job (NotFoundError: no such
        tuning job)."""

    @abstractmethod
    def list_trials(self, tuning_job: str) -> list[TrialRecord]:
        """A tuning job's trials, by number."""

    # -- debugger / profiler rules ------------------------------------------------------
    @abstractmethod
    def put_rule_status(self, status: RuleStatus) -> None:
        """Insert or replace the status of one rule of a job (NotFoundError: no such job)."""

    @abstractmethod
    def get_rule_statuses(self, job_name: str, kind: str | None = None) -> list[RuleStatus]:
        """A job's rule statuses (optionally only ``debugger`` or ``profiler`` ones), sorted
        by kind and rule name."""

    # -- housekeeping ----------------------------------------------------------------
    @abstractmethod
    def schema_version(self) -> int:
        """The schema version the database is at."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
