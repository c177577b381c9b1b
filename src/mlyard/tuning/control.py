"""Client-side control of tuning jobs: resume a tuning job whose driver died or was stopped,
and stop one (its running trials stop with it)."""

from __future__ import annotations

from mlyard.core.jobs import stop_job
from mlyard.core.records import JobRecord, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError
from mlyard.tuning.analytics import tuning_spec


def resume_tuning(ws: Workspace, name: str) -> JobRecord:
    """Start tuning job ``name``'s driver again. It rebuilds the search from the stored
    trials, re-attaches to trials still running and goes on to ``max_jobs``. A Completed job,
    or one whose driver is still alive, is refused."""
    tuning_spec(ws, name)
    record = ws.store.get_job(name)
    if record.status is JobStatus.COMPLETED:
        raise ConflictError(f"tuning job {name!r} already Completed; nothing to resume")
    if (record.status in (JobStatus.IN_PROGRESS, JobStatus.STOPPING) and record.pid
            and ws.executor.is_running(record)):
        raise ConflictError(f"tuning job {name!r} is still running (pid {record.pid})")
    if not ws.store.reopen_job(name, expected=[JobStatus.IN_PROGRESS, JobStatus.STOPPING,
                                               JobStatus.FAILED, JobStatus.STOPPED]):
        raise ConflictError(f"tuning job {name!r} is {ws.store.get_job(name).status.value}; "
                            "cannot resume it")
    ws.executor.submit(name)
    return ws.store.get_job(name)


def stop_tuning(ws: Workspace, name: str) -> JobRecord:
    """Stop a tuning job: its driver stops the running trials, then itself."""
    tuning_spec(ws, name)
    return stop_job(ws, name, grace=60.0, reason=f"tuning job {name} was stopped")
