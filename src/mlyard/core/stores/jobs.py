"""The jobs domain: jobs, their captured log lines and their metric points.

Status changes are compare-and-set so that several processes may update one job safely.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

from mlyard.core.records import JobRecord, JobStatus, LogLine, MetricPoint
from mlyard.core.stores.domain import StoreDomain


class JobStore(StoreDomain):
    """Jobs, their logs and their metrics: what the job runner and executors need."""

    # -- jobs -------------------------------------------------------------------------
    @abstractmethod
    def create_job(self, name: str, job_type: str, spec: dict[str, Any],
                   output_uri: str | None = None) -> JobRecord:
        """Insert a Pending job of kind ``job_type``; :class:`~mlyard.errors.ConflictError`
        if the name exists."""

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
