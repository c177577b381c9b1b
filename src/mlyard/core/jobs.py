"""Submitting, waiting for, stopping and describing jobs (the client side of jobs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlyard.core.kinds import get_job_kind, kind_of
from mlyard.core.records import TERMINAL_STATUSES, JobRecord, JobStatus
from mlyard.core.specs import JobSpec, check_job_name
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, ValidationError

#: A job whose process is gone must have reported within this many seconds.
ORPHAN_GRACE_SECONDS = 3.0


def unique_job_name(prefix: str) -> str:
    """``prefix`` plus a timestamp, SageMaker style (``blazingtext-2026-11-23-11-02-03-123``)."""
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    millis = int((time.time() % 1) * 1000)
    return f"{prefix[:38].rstrip('-')}-{stamp}-{millis:03d}"


def _is_uri(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def check_local_input(what: str, location: str) -> None:
    """A ValidationError if ``location`` is a local path (or ``file://`` URI) that does not
    exist; artifact URIs are checked when the job reads them."""
    if _is_uri(location):
        return
    path = Path(location[7:] if location.startswith("file://") else location)
    if not path.exists():
        raise ValidationError(f"{what}: {location} does not exist")


def script_path(entry_point: str, source_dir: str | None) -> str:
    """Where a script job's entry point is: inside ``source_dir`` if given."""
    return str(Path(source_dir) / entry_point) if source_dir else entry_point


def validate_spec(ws: Workspace, spec: JobSpec) -> None:
    """Checks done before a job is created, so bad requests never leave a job behind: the
    job kind's own :meth:`~mlyard.core.kinds.JobKind.validate`."""
    kind_of(spec).validate(ws, spec)


def submit_job(ws: Workspace, spec: JobSpec, name: str, *, launch: bool = True) -> JobRecord:
    """Validate ``spec``, record the job as Pending and hand it to the executor."""
    check_job_name(name)
    validate_spec(ws, spec)
    record = ws.store.create_job(name, spec.kind, spec.model_dump(mode="json"),
                                 output_uri=ws.artifacts.uri("jobs", name))
    if launch:
        try:
            ws.executor.submit(name)
        except Exception as exc:
            ws.store.transition_job(name, JobStatus.FAILED, expected=[JobStatus.PENDING],
                                    failure_reason=f"could not launch: {exc}")
            raise
    return record


def reconcile(ws: Workspace, record: JobRecord) -> JobRecord:
    """Mark a job Failed (or Stopped) when its process is gone without having reported."""
    if record.status in TERMINAL_STATUSES:
        return record
    alive = ws.executor.is_running(record) if record.executor or record.pid else None
    if alive is not False:
        return record
    time.sleep(0.2)
    record = ws.store.get_job(record.name)
    if record.status in TERMINAL_STATUSES:
        return record
    if time.time() - record.updated_at < ORPHAN_GRACE_SECONDS:
        return record
    if record.status is JobStatus.STOPPING:
        ws.store.transition_job(record.name, JobStatus.STOPPED, expected=[JobStatus.STOPPING],
                                failure_reason="job process ended while stopping")
    else:
        launcher = ws.job_dir(record.name) / "launcher.log"
        tail = ""
        if launcher.exists():
            tail = " | ".join(launcher.read_text(errors="replace").strip().splitlines()[-3:])
        ws.store.transition_job(
            record.name, JobStatus.FAILED,
            expected=[JobStatus.PENDING, JobStatus.IN_PROGRESS],
            failure_reason="job process exited without reporting a result"
            + (f": {tail}" if tail else ""),
        )
    return ws.store.get_job(record.name)


def list_jobs(ws: Workspace, *, job_type: str | None = None, status: JobStatus | None = None,
              limit: int = 100) -> list[JobRecord]:
    """Jobs, newest first, after :func:`reconcile` marked those whose process died
    without reporting (as ``describe_job`` does), so a list never shows a dead job as
    running. Filters apply to the reconciled statuses."""
    for live in (JobStatus.PENDING, JobStatus.IN_PROGRESS, JobStatus.STOPPING):
        for record in ws.store.list_jobs(job_type=job_type, status=live, limit=10_000):
            reconcile(ws, record)
    return ws.store.list_jobs(job_type=job_type, status=status, limit=limit)


def wait_for_job(ws: Workspace, name: str, *, timeout: float | None = None,
                 poll: float = 0.25, on_log: Callable[[str], None] | None = None,
                 raise_on_failure: bool = True,
                 on_poll: Callable[[JobRecord], None] | None = None) -> JobRecord:
    """Block until the job is terminal; stream its log lines to ``on_log`` meanwhile and
    hand the job's record to ``on_poll`` at every poll (the last call has the terminal
    record; progress displays use it).

    Raises :class:`JobFailedError` if it ended Failed/Stopped (unless told not to) and
    ``TimeoutError`` after ``timeout`` seconds.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    seq = 0
    while True:
        record = reconcile(ws, ws.store.get_job(name))
        if on_log is not None:
            for line in ws.store.get_logs(name, after_seq=seq):
                on_log(line.line)
                seq = line.seq
        if record.status in TERMINAL_STATUSES:
            if on_log is not None:
                for line in ws.store.get_logs(name, after_seq=seq):
                    on_log(line.line)
            if on_poll is not None:
                on_poll(record)
            break
        if on_poll is not None:
            on_poll(record)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {name!r} still {record.status.value} after {timeout} s")
        time.sleep(poll)
    if raise_on_failure and record.status is not JobStatus.COMPLETED:
        raise JobFailedError(
            f"job {name!r} ended {record.status.value}: {record.failure_reason or 'no reason'}"
        )
    return record


def stop_job(ws: Workspace, name: str, *, grace: float = 15.0,
             reason: str | None = None) -> JobRecord:
    """Ask a job to stop; the job process stops its work and reports Stopped (with
    ``reason``, if given). A process that does not answer within ``grace`` seconds is
    killed."""
    record = ws.store.request_stop(name, reason=reason)
    if record.status in TERMINAL_STATUSES:
        return record
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        record = ws.store.get_job(name)
        if record.status in TERMINAL_STATUSES:
            return record
        time.sleep(0.2)
    ws.executor.kill(record)
    ws.store.transition_job(name, JobStatus.STOPPED,
                            expected=[JobStatus.STOPPING, JobStatus.IN_PROGRESS],
                            failure_reason=f"killed: no answer to stop within {grace} s")
    return ws.store.get_job(name)


def describe_job(ws: Workspace, name: str) -> dict[str, Any]:
    """A SageMaker-style description: status, reason, times, spec, outputs, final metrics,
    and the fields the job's kind adds (:meth:`~mlyard.core.kinds.JobKind.describe`)."""
    record = reconcile(ws, ws.store.get_job(name))
    finals: dict[str, float] = {}
    for point in ws.store.get_metrics(name):
        finals[point.name] = point.value
    extra = get_job_kind(record.job_type).describe(ws, record, finals)
    return {
        "JobName": record.name,
        "JobType": record.job_type,
        "JobStatus": record.status.value,
        "FailureReason": record.failure_reason,
        "CreationTime": record.created_at,
        "StartTime": record.started_at,
        "EndTime": record.ended_at,
        "DurationSeconds": record.duration,
        "Executor": record.executor,
        "ArtifactUri": record.output_uri,
        "Outputs": record.outputs,
        "FinalMetrics": finals,
        **extra,
        "Spec": record.spec,
    }
