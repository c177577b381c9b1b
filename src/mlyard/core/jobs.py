"""Submitting, waiting for, stopping and describing jobs (the client side of jobs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlyard.core.records import TERMINAL_STATUSES, JobRecord, JobStatus, JobType
from mlyard.core.specs import (
    ProcessingJobSpec,
    TrainingJobSpec,
    TransformJobSpec,
    TuningJobSpec,
    check_job_name,
)
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, ValidationError

AnySpec = TrainingJobSpec | ProcessingJobSpec | TransformJobSpec | TuningJobSpec
_TYPES: dict[type[Any], JobType] = {
    TrainingJobSpec: JobType.TRAINING,
    ProcessingJobSpec: JobType.PROCESSING,
    TransformJobSpec: JobType.TRANSFORM,
    TuningJobSpec: JobType.TUNING,
}
#: A job whose process is gone must have reported within this many seconds.
ORPHAN_GRACE_SECONDS = 3.0


def unique_job_name(prefix: str) -> str:
    """``prefix`` plus a timestamp, SageMaker style (``blazingtext-2026-11-23-11-02-03-123``)."""
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime())
    millis = int((time.time() % 1) * 1000)
    return f"{prefix[:38].rstrip('-')}-{stamp}-{millis:03d}"


def _is_uri(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


def _check_local_input(what: str, location: str) -> None:
    if _is_uri(location):
        return
    path = Path(location[7:] if location.startswith("file://") else location)
    if not path.exists():
        raise ValidationError(f"{what}: {location} does not exist")


def validate_spec(ws: Workspace, spec: AnySpec) -> None:
    """Checks done before a job is created, so bad requests never leave a job behind."""
    if isinstance(spec, TrainingJobSpec):
        if spec.algorithm is not None:
            from mlyard.algorithms import get_algorithm

            algo = get_algorithm(spec.algorithm)
            algo.resolve_hyperparameters(spec.hyperparameters)
            algo.check_channels({c.name: c.uri for c in spec.channels})
            if spec.world_size > 1 and not algo.SUPPORTS_DISTRIBUTED:
                raise ValidationError(
                    f"algorithm {algo.name!r} trains in one process; it does not support "
                    f"instance_count/processes_per_host > 1 (asked for {spec.world_size})")
        elif spec.entry_point is not None and spec.image is None:
            _check_local_input("entry point", _script_path(spec.entry_point, spec.source_dir))
        if spec.image is not None:
            from mlyard.training.container import container_runtime

            container_runtime()
        if spec.python is not None and not Path(spec.python).exists():
            from shutil import which

            if which(spec.python) is None:
                raise ValidationError(f"python interpreter {spec.python!r} not found")
        names = [c.name for c in spec.channels]
        if len(set(names)) != len(names):
            raise ValidationError(f"duplicate channel names: {names}")
        for channel in spec.channels:
            _check_local_input(f"channel {channel.name!r}", channel.uri)
    elif isinstance(spec, TuningJobSpec):
        from mlyard.tuning.validate import validate_tuning

        validate_spec(ws, spec.training)
        validate_tuning(ws, spec)
    elif isinstance(spec, ProcessingJobSpec):
        if spec.entry_point is not None and spec.image is None:
            _check_local_input("entry point", _script_path(spec.entry_point, spec.source_dir))
        if spec.image is not None:
            from mlyard.training.container import container_runtime

            container_runtime()
        for inp in spec.inputs:
            _check_local_input(f"input {inp.name!r}", inp.source)
    else:
        ws.store.get_model(spec.model_name)
        _check_local_input("transform input", spec.input)


def _script_path(entry_point: str, source_dir: str | None) -> str:
    return str(Path(source_dir) / entry_point) if source_dir else entry_point


def submit_job(ws: Workspace, spec: AnySpec, name: str, *, launch: bool = True) -> JobRecord:
    """Validate ``spec``, record the job as Pending and hand it to the executor."""
    check_job_name(name)
    validate_spec(ws, spec)
    record = ws.store.create_job(name, _TYPES[type(spec)], spec.model_dump(mode="json"),
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


def wait_for_job(ws: Workspace, name: str, *, timeout: float | None = None,
                 poll: float = 0.25, on_log: Callable[[str], None] | None = None,
                 raise_on_failure: bool = True) -> JobRecord:
    """Block until the job is terminal; stream its log lines to ``on_log`` meanwhile.

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
            break
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
    """A SageMaker-style description: status, reason, times, spec, outputs, final metrics."""
    record = reconcile(ws, ws.store.get_job(name))
    finals: dict[str, float] = {}
    for point in ws.store.get_metrics(name):
        finals[point.name] = point.value
    time_keys = ("TrainingTimeInSeconds", "BillableTimeInSeconds", "SpotInterruptions")
    times: dict[str, float] = {key: finals.pop(key) for key in time_keys if key in finals}
    extra: dict[str, Any] = dict(times)
    if "SpotInterruptions" in times and times.get("TrainingTimeInSeconds"):
        from mlyard.training.run import spot_saving_percent

        count = int(record.spec.get("resources", {}).get("instance_count", 1) or 1)
        extra["ManagedSpotTrainingSavingsPercent"] = round(spot_saving_percent(
            times["TrainingTimeInSeconds"], times["BillableTimeInSeconds"], count), 1)
    rules = ws.store.get_rule_statuses(name)
    if rules:
        for kind, key in (("debugger", "DebugRuleEvaluationStatuses"),
                          ("profiler", "ProfilerRuleEvaluationStatuses")):
            extra[key] = [{"RuleConfigurationName": r.rule_name,
                           "RuleEvaluationStatus": r.status.value,
                           "StatusDetails": r.message, "Step": r.step,
                           "LastModifiedTime": r.updated_at}
                          for r in rules if r.kind == kind]
    return {
        "JobName": record.name,
        "JobType": record.job_type.value,
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
