"""The client side of pipelines: store a definition (``upsert_pipeline``), start an
execution (records it and submits its ``pipeline`` driver job), and follow, stop, retry or
resume it (:class:`PipelineExecution`), in SageMaker's shapes.

An execution whose driver job ended without finishing it (killed, host lost) is shown
Failed with "driver job X exited without finishing" (:func:`reconcile_execution`); resume
starts the driver again and it goes on from the stored steps.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from mlyard.core.records import JobStatus
from mlyard.core.specs import check_job_name
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, JobFailedError, NotFoundError, ValidationError
from mlyard.pipelines.spec import PipelineExecutionJobSpec
from mlyard.pipelines.store import (
    EXECUTION_TERMINAL,
    STEP_TERMINAL,
    PipelineExecutionRecord,
    PipelineRecord,
    PipelineStore,
    StepExecutionRecord,
)

#: How long ``stop`` waits for the driver to stop the execution's steps.
STOP_WAIT_SECONDS = 90.0


def _store(ws: Workspace) -> PipelineStore:
    return PipelineStore.of(ws.store)


def new_execution_id(pipeline: str) -> str:
    """``<pipeline>-<yyyymmddHHMMSS>-<4 hex>``, job-name safe and at most 63 characters."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"{pipeline[:43].rstrip('-')}-{stamp}-{secrets.token_hex(2)}"


# -- pipelines -----------------------------------------------------------------------------
def upsert_pipeline(ws: Workspace, name: str, definition: dict[str, Any] | str, *,
                    description: str | None = None) -> PipelineRecord:
    """Create or update pipeline ``name`` from its definition JSON (checked first: nothing
    is stored when it does not validate)."""
    from mlyard.pipelines.definition import parse_definition

    check_job_name(name)
    data = json.loads(definition) if isinstance(definition, str) else definition
    parse_definition(data)
    return _store(ws).put_pipeline(name, data, description)


def list_pipelines(ws: Workspace) -> list[PipelineRecord]:
    """Every pipeline, by name."""
    return _store(ws).list_pipelines(limit=10_000)


def describe_pipeline(ws: Workspace, name: str) -> dict[str, Any]:
    """SageMaker's DescribePipeline: name, definition (a JSON string), description,
    version, times, and the latest execution's id and status."""
    record = _store(ws).get_pipeline(name)
    latest = _store(ws).list_executions(name, limit=1)
    return {"PipelineArn": record.name, "PipelineName": record.name,
            "PipelineDisplayName": record.name,
            "PipelineDefinition": json.dumps(record.definition),
            "PipelineDescription": record.description, "PipelineStatus": "Active",
            "PipelineVersion": record.version, "CreationTime": record.created_at,
            "LastModifiedTime": record.updated_at,
            "LastExecution": None if not latest else {
                "PipelineExecutionArn": latest[0].execution_id,
                "PipelineExecutionStatus": reconcile_execution(ws, latest[0]).status}}


def list_executions(ws: Workspace, pipeline: str, limit: int = 100
                    ) -> list[PipelineExecutionRecord]:
    """Executions of ``pipeline``, newest first (NotFoundError for an unknown pipeline)."""
    _store(ws).get_pipeline(pipeline)
    return [reconcile_execution(ws, r) for r in _store(ws).list_executions(pipeline, limit)]


def executions_with_steps(ws: Workspace, limit: int = 100_000
                          ) -> tuple[list[PipelineExecutionRecord],
                                     dict[str, list[StepExecutionRecord]]]:
    """Every pipeline execution of ``ws`` (newest first, at most ``limit``) and each one's
    steps by execution id: what lineage and experiments derive their records from."""
    pipes = _store(ws)
    executions = pipes.list_executions(limit=limit)
    return executions, {e.execution_id: list(pipes.list_steps(e.execution_id))
                        for e in executions}


def delete_pipeline(ws: Workspace, name: str) -> None:
    """Remove a pipeline with its executions' records (their jobs and artifacts stay);
    ConflictError while an execution runs."""
    for record in _store(ws).list_executions(name, limit=10_000):
        reconcile_execution(ws, record)
    _store(ws).delete_pipeline(name)


# -- executions ----------------------------------------------------------------------------
def start_pipeline(ws: Workspace, name: str, parameters: Mapping[str, Any] | None = None, *,
                   display_name: str | None = None,
                   parallelism: int | None = None) -> PipelineExecution:
    """Start an execution of pipeline ``name``: parameters are bound (and checked) first,
    then the execution is recorded (Executing) and its driver job submitted."""
    from mlyard.core.jobs import submit_job
    from mlyard.pipelines.definition import bind_parameters, parse_definition

    pipes = _store(ws)
    pipeline = pipes.get_pipeline(name)
    defn = parse_definition(pipeline.definition)
    bound = bind_parameters(defn, dict(parameters or {}))
    if parallelism is not None and not 1 <= parallelism <= 256:
        raise ValidationError(f"parallelism must be 1-256, not {parallelism}")
    eid = new_execution_id(name)
    spec = PipelineExecutionJobSpec(execution_id=eid, parallelism=parallelism)
    pipes.create_execution(PipelineExecutionRecord(
        eid, name, pipeline.version, "Executing", bound, time.time(), started_at=time.time(),
        driver_job=eid, display_name=display_name), pipeline.definition)
    try:
        submit_job(ws, spec, eid)
    except Exception as exc:
        pipes.transition_execution(eid, "Failed", expected=["Executing"],
                                   failure_reason=f"could not start the driver job: {exc}")
        raise
    return PipelineExecution(ws, eid)


def reconcile_execution(ws: Workspace, record: PipelineExecutionRecord
                        ) -> PipelineExecutionRecord:
    """The execution as it is: Failed ("driver job X exited without finishing") or Stopped
    when its driver job ended without finishing it."""
    from mlyard.core.jobs import reconcile

    if record.status in EXECUTION_TERMINAL or record.driver_job is None:
        return record
    try:
        job = reconcile(ws, ws.store.get_job(record.driver_job))
    except NotFoundError:
        return record
    if not job.status.terminal:
        return record
    # the driver ends the execution before its job ends: read it again first
    record = _store(ws).get_execution(record.execution_id)
    if record.status in EXECUTION_TERMINAL:
        return record
    if record.status == "Stopping":
        _stop_steps(ws, record.execution_id, "pipeline execution was stopped")
        _store(ws).transition_execution(record.execution_id, "Stopped",
                                        expected=["Stopping"])
    else:
        why = f": {job.failure_reason}" if job.failure_reason else ""
        _store(ws).transition_execution(
            record.execution_id, "Failed", expected=["Executing"],
            failure_reason=f"driver job {job.name} exited without finishing{why}")
    return _store(ws).get_execution(record.execution_id)


def _stop_steps(ws: Workspace, execution_id: str, reason: str) -> None:
    """Stop the running step jobs of an execution whose driver is gone; mark them."""
    from mlyard.core.jobs import stop_job

    for step in _store(ws).list_steps(execution_id):
        if step.status in STEP_TERMINAL:
            continue
        if step.job_name is not None:
            with contextlib.suppress(NotFoundError):
                stop_job(ws, step.job_name, grace=30.0, reason=reason)
        _store(ws).transition_step(execution_id, step.step_name, "Stopped",
                                   expected=["Starting", "Executing", "Stopping"],
                                   failure_reason=reason)


def _driver_alive(ws: Workspace, record: PipelineExecutionRecord) -> bool:
    from mlyard.core.jobs import reconcile

    if record.driver_job is None:
        return False
    try:
        job = reconcile(ws, ws.store.get_job(record.driver_job))
    except NotFoundError:
        return False
    return not job.status.terminal


def _restart_driver(ws: Workspace, record: PipelineExecutionRecord) -> None:
    """Start the execution's driver job again (the same job, reopened)."""
    name = record.driver_job or record.execution_id
    try:
        ws.store.get_job(name)
    except NotFoundError:
        from mlyard.core.jobs import submit_job

        submit_job(ws, PipelineExecutionJobSpec(execution_id=record.execution_id), name)
        return
    # the previous driver ends right after it ended the execution: let it (and reap it)
    deadline = time.monotonic() + 15
    while ws.executor.is_running(ws.store.get_job(name)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if ws.executor.is_running(ws.store.get_job(name)):
        raise ConflictError(f"driver job {name!r} of execution {record.execution_id} is "
                            "still running")
    if not ws.store.reopen_job(name, expected=[JobStatus.FAILED, JobStatus.STOPPED,
                                               JobStatus.COMPLETED, JobStatus.IN_PROGRESS,
                                               JobStatus.STOPPING]):
        raise ConflictError(f"driver job {name!r} of execution {record.execution_id} is "
                            f"{ws.store.get_job(name).status.value}; cannot restart it")
    try:
        ws.executor.submit(name)
    except Exception as exc:
        ws.store.transition_job(name, JobStatus.FAILED, expected=[JobStatus.PENDING],
                                failure_reason=f"could not launch: {exc}")
        _store(ws).transition_execution(record.execution_id, "Failed",
                                        expected=["Executing"],
                                        failure_reason=f"could not start the driver: {exc}")
        raise


def resume_execution(ws: Workspace, execution_id: str) -> PipelineExecution:
    """Start the driver of an execution whose driver died (or that Failed or was Stopped)
    again: Succeeded steps are kept, running step jobs re-attached, the rest goes on."""
    record = reconcile_execution(ws, _store(ws).get_execution(execution_id))
    if record.status == "Succeeded":
        raise ConflictError(f"pipeline execution {execution_id} already Succeeded")
    if _driver_alive(ws, record):
        raise ConflictError(f"pipeline execution {execution_id} is still running (driver "
                            f"job {record.driver_job})")
    if not _store(ws).transition_execution(execution_id, "Executing",
                                           expected=["Failed", "Stopped", "Executing"]):
        raise ConflictError(f"pipeline execution {execution_id} is "
                            f"{_store(ws).get_execution(execution_id).status}")
    _restart_driver(ws, record)
    return PipelineExecution(ws, execution_id)


def retry_execution(ws: Workspace, execution_id: str) -> PipelineExecution:
    """Run a Failed or Stopped execution again from where it ended: its Failed and Stopped
    steps run again (next attempt), Succeeded ones are kept."""
    pipes = _store(ws)
    record = reconcile_execution(ws, pipes.get_execution(execution_id))
    if record.status not in ("Failed", "Stopped"):
        raise ConflictError(f"pipeline execution {execution_id} is {record.status}; only a "
                            "Failed or Stopped execution can be retried")
    for step in pipes.list_steps(execution_id):
        if step.status in ("Failed", "Stopped"):
            pipes.put_step(StepExecutionRecord(execution_id, step.step_name, step.step_type,
                                               "Starting", attempt=step.attempt + 1))
    if not pipes.transition_execution(execution_id, "Executing",
                                      expected=["Failed", "Stopped"]):
        raise ConflictError(f"pipeline execution {execution_id} changed meanwhile")
    _restart_driver(ws, record)
    return PipelineExecution(ws, execution_id)


def stop_execution(ws: Workspace, execution_id: str,
                   wait: float = STOP_WAIT_SECONDS) -> PipelineExecutionRecord:
    """Stop an execution: its running steps' jobs are stopped, it ends Stopped. Waits up
    to ``wait`` seconds for that; ConflictError if it already ended."""
    pipes = _store(ws)
    record = reconcile_execution(ws, pipes.get_execution(execution_id))
    if record.status in EXECUTION_TERMINAL:
        raise ConflictError(f"pipeline execution {execution_id} already {record.status}")
    pipes.transition_execution(execution_id, "Stopping", expected=["Executing"])
    if _driver_alive(ws, record):
        assert record.driver_job is not None
        with contextlib.suppress(NotFoundError):
            ws.store.request_stop(record.driver_job,
                                  reason=f"pipeline execution {execution_id} was stopped")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            record = reconcile_execution(ws, pipes.get_execution(execution_id))
            if record.status in EXECUTION_TERMINAL:
                return record
            time.sleep(0.1)
        return record
    _stop_steps(ws, execution_id, f"pipeline execution {execution_id} was stopped")
    pipes.transition_execution(execution_id, "Stopped", expected=["Stopping", "Executing"])
    return pipes.get_execution(execution_id)


def describe_execution(ws: Workspace, execution_id: str) -> dict[str, Any]:
    """SageMaker's DescribePipelineExecution."""
    record = reconcile_execution(ws, _store(ws).get_execution(execution_id))
    return {
        "PipelineArn": record.pipeline,
        "PipelineName": record.pipeline,
        "PipelineExecutionArn": record.execution_id,
        "PipelineExecutionDisplayName": record.display_name or record.execution_id,
        "PipelineExecutionStatus": record.status,
        "FailureReason": record.failure_reason,
        "PipelineVersionId": record.pipeline_version,
        "CreationTime": record.created_at,
        "StartTime": record.started_at,
        "EndTime": record.ended_at,
        "LastModifiedTime": record.ended_at or record.started_at or record.created_at,
        "PipelineParameters": [{"Name": k, "Value": v} for k, v in record.parameters.items()],
        "DriverJobName": record.driver_job,
    }


_JOB_METADATA = {"Processing": "ProcessingJob", "Training": "TrainingJob",
                 "Tuning": "TuningJob", "Transform": "TransformJob",
                 "Function": "ProcessingJob"}


def step_summary(step: StepExecutionRecord) -> dict[str, Any]:
    """One step in SageMaker's ListPipelineExecutionSteps shape (plus ``StepType`` and
    ``JobName``)."""
    metadata = dict(step.metadata)
    if step.job_name and step.step_type in _JOB_METADATA:
        metadata.setdefault(_JOB_METADATA[step.step_type], {"Arn": step.job_name})
    out: dict[str, Any] = {
        "StepName": step.step_name, "StepType": step.step_type,
        "StepStatus": step.status, "StartTime": step.started_at, "EndTime": step.ended_at,
        "AttemptCount": step.attempt, "JobName": step.job_name, "Metadata": metadata}
    if step.failure_reason:
        out["FailureReason"] = step.failure_reason
    if step.cache_hit_source:
        out["CacheHitResult"] = {"SourcePipelineExecutionArn": step.cache_hit_source}
    return out


class PipelineExecution:
    """A handle on one pipeline execution."""

    def __init__(self, ws: Workspace, execution_id: str) -> None:
        self.ws = ws
        self.execution_id = execution_id

    def __repr__(self) -> str:
        return f"PipelineExecution({self.execution_id!r})"

    @property
    def arn(self) -> str:
        """The execution id (SageMaker's PipelineExecutionArn)."""
        return self.execution_id

    @property
    def record(self) -> PipelineExecutionRecord:
        """The execution's record, reconciled with its driver job."""
        return reconcile_execution(self.ws, _store(self.ws).get_execution(self.execution_id))

    def wait(self, timeout: float | None = None, *, raise_on_failure: bool = True,
             poll: float = 0.1) -> PipelineExecutionRecord:
        """Block until the execution ended; JobFailedError unless it Succeeded (unless
        told not to), TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            record = self.record
            if record.status in EXECUTION_TERMINAL:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"pipeline execution {self.execution_id} still "
                                   f"{record.status} after {timeout} s")
            time.sleep(poll)
        if raise_on_failure and record.status != "Succeeded":
            raise JobFailedError(f"pipeline execution {self.execution_id} {record.status}: "
                                 f"{record.failure_reason or 'no reason'}")
        return record

    def describe(self) -> dict[str, Any]:
        """SageMaker's DescribePipelineExecution."""
        return describe_execution(self.ws, self.execution_id)

    def list_steps(self) -> list[dict[str, Any]]:
        """The steps that started, in the order they started (SageMaker's
        ListPipelineExecutionSteps entries)."""
        self.record  # noqa: B018 - reconcile first
        return [step_summary(s) for s in _store(self.ws).list_steps(self.execution_id)]

    def stop(self) -> PipelineExecutionRecord:
        """Stop the execution (see :func:`stop_execution`)."""
        return stop_execution(self.ws, self.execution_id)

    def retry(self) -> PipelineExecution:
        """Re-run the Failed/Stopped steps (see :func:`retry_execution`)."""
        return retry_execution(self.ws, self.execution_id)

    def resume(self) -> PipelineExecution:
        """Restart a dead driver (see :func:`resume_execution`)."""
        return resume_execution(self.ws, self.execution_id)
