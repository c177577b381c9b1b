"""The pipeline execution's driver: runs the steps of one execution in dependency order.

Runs in the ``pipeline`` job's own process (:mod:`mlyard.pipelines.kind`). Everything
durable is in the pipelines' store (:mod:`mlyard.pipelines.store`): each step's row (status,
attempt, job, properties) is written before and after every change, so a driver that starts
again (resume after it was killed, retry) keeps the Succeeded steps, re-attaches to step
jobs still running (or reads the final status of those that ended meanwhile) and goes on.

The loop (every :data:`POLL_SECONDS`): poll the running step jobs (a finished one stores its
SageMaker-shaped properties; a failed one is retried per its retry policies, else it fails
the execution: no new step starts, running ones finish); then start every step whose
upstream steps Succeeded (steps of a condition's branch only once the condition chose that
branch; the other branch's steps, and steps that depend on them, never run), up to the
execution's parallelism. Job steps (Processing, Training, Tuning, Transform, Function) are
jobs; Condition, Model, RegisterModel and Fail steps run inline. A step with caching on
whose key (:mod:`mlyard.pipelines.cache`) matches a Succeeded step within its
``ExpireAfter`` reuses that step's properties and job: no job is started.

Stop (the driver job's stop signal, or the execution set to Stopping): running step jobs
are asked to stop, their steps and the execution end Stopped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlyard.core.logcapture import JobLog
from mlyard.core.records import JobRecord, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError, NotFoundError, ValidationError
from mlyard.pipelines.spec import PipelineExecutionJobSpec, default_parallelism
from mlyard.pipelines.store import (
    STEP_TERMINAL,
    PipelineExecutionRecord,
    PipelineStore,
    StepExecutionRecord,
)

POLL_SECONDS = 0.05
#: Step types whose work is a job.
JOB_STEPS = ("Processing", "Training", "Tuning", "Transform", "Function")
#: The seconds stop waits for the running step jobs to end before giving up on them.
STOP_GRACE_SECONDS = 60.0


def _kind_preload(step_type: str, arguments: dict[str, Any]) -> list[str]:
    """The modules the job kind of a step would have a standby import (a training step's
    algorithm when the definition names it; the kind's own modules otherwise)."""
    from mlyard.core.kinds import get_job_kind

    sample: dict[str, Any]
    if step_type == "Training" and isinstance(arguments.get("AlgorithmName"), str):
        sample = {"kind": "training", "algorithm": arguments["AlgorithmName"]}
    elif step_type == "Training":
        sample = {"kind": "training", "command": ["true"]}
    elif step_type in ("Processing", "Function"):
        sample = {"kind": "processing", "command": ["true"]}
    else:
        return []
    kind = get_job_kind(sample["kind"])
    return list(kind.preload(kind.parse_spec(sample)))


def step_job_name(execution_id: str, step: str, attempt: int) -> str:
    """The job of attempt ``attempt`` of ``step``: ``<execution>-<step>-<attempt>`` within
    the 63-character job-name rule (shortened with a hash of the full name if needed)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", step).strip("-").lower() or "step"
    name = f"{execution_id}-{slug}-{attempt}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(f"{execution_id}/{step}".encode()).hexdigest()[:6]
    head = f"{execution_id[:36].rstrip('-')}-{slug[:12].strip('-')}"
    return f"{head}-{digest}-{attempt}"


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


@dataclass
class Running:
    """A step whose job has not ended yet."""

    step: str
    job: str
    attempt: int
    cache_key: str | None = None


class ExecutionScope:
    """The :class:`~mlyard.pipelines.definition.Scope` of one execution: its bound
    parameters, execution variables, Succeeded steps' properties and property files."""

    def __init__(self, driver: PipelineDriver) -> None:
        self.driver = driver
        self._files: dict[tuple[str, str], Any] = {}

    def parameter(self, name: str) -> Any:
        params = self.driver.execution.parameters
        if name not in params:
            raise ValidationError(f"unknown parameter {name!r}")
        return params[name]

    def execution_variable(self, name: str) -> Any:
        ex = self.driver.execution
        started = ex.started_at or ex.created_at
        values = {
            "PipelineExecutionId": ex.execution_id,
            "PipelineExecutionArn": ex.execution_id,
            "PipelineName": ex.pipeline,
            "PipelineExecutionDisplayName": ex.display_name or ex.execution_id,
            "StartDateTime": dt.datetime.fromtimestamp(started, dt.UTC).isoformat(),
            "CurrentDateTime": dt.datetime.now(dt.UTC).isoformat(),
        }
        if name not in values:
            raise ValidationError(f"unknown execution variable {name!r}")
        return values[name]

    def step_properties(self, step: str) -> dict[str, Any]:
        record = self.driver.steps.get(step)
        if record is None or record.status != "Succeeded":
            raise ValidationError(f"step {step!r} has not Succeeded; its properties are "
                                  "not available")
        return record.properties

    def property_file(self, step: str, name: str) -> Any:
        key = (step, name)
        if key not in self._files:
            self._files[key] = self.driver.read_property_file(step, name)
        return self._files[key]


class PipelineDriver:
    """Runs one pipeline execution (see the module docstring)."""

    def __init__(self, ws: Workspace, job_name: str, spec: PipelineExecutionJobSpec,
                 log: JobLog, should_stop: Callable[[], bool]) -> None:
        from mlyard.pipelines.definition import parse_definition

        self.ws = ws
        self.pipes = PipelineStore.of(ws.store)
        self.job_name = job_name
        self.execution_id = spec.execution_id
        self.parallelism = spec.parallelism or default_parallelism()
        self.log = log
        self.should_stop = should_stop
        self.execution: PipelineExecutionRecord = self.pipes.get_execution(spec.execution_id)
        self.defn = parse_definition(self.pipes.get_execution_definition(spec.execution_id))
        self.steps: dict[str, StepExecutionRecord] = {}
        self.running: dict[str, Running] = {}
        self._warmed = False
        self.retry_at: dict[str, tuple[float, int]] = {}  # step -> (when, next attempt)
        self.retry_reason: dict[str, str] = {}  # step -> why its last attempt failed
        self._memo: dict[str, str] = {}  # step states of the current scheduling pass
        self.failure: str | None = None
        self.scope = ExecutionScope(self)

    # -- helpers ---------------------------------------------------------------------------
    def _put(self, record: StepExecutionRecord,
             cache_key: str | None = None) -> StepExecutionRecord:
        self.steps[record.step_name] = self.pipes.put_step(record, cache_key=cache_key)
        return self.steps[record.step_name]

    def _transition(self, step: str, to: str, expected: tuple[str, ...], *,
                    failure_reason: str | None = None,
                    properties: dict[str, Any] | None = None,
                    metadata: dict[str, Any] | None = None) -> None:
        self.pipes.transition_step(self.execution_id, step, to, expected=expected,
                                   failure_reason=failure_reason, properties=properties,
                                   metadata=metadata)
        self.steps[step] = self.pipes.get_step(self.execution_id, step)

    def read_property_file(self, step: str, name: str) -> Any:
        """The parsed JSON of ``step``'s property file ``name``."""
        sdef = self.defn.steps.get(step)
        pfile = next((p for p in (sdef.property_files if sdef else ()) if p.name == name),
                     None)
        if pfile is None:
            raise ValidationError(f"step {step!r} has no property file {name!r}")
        props = self.scope.step_properties(step)
        uri = _dig(props, "ProcessingOutputConfig", "Outputs", pfile.output_name,
                   "S3Output", "S3Uri")
        if not isinstance(uri, str):
            raise ValidationError(f"step {step!r} has no output {pfile.output_name!r} for "
                                  f"property file {name!r}")
        root = self.ws.artifacts.materialize(uri, self.ws.cache_dir)
        path = root / pfile.path if root.is_dir() else root
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise ValidationError(f"property file {name!r} of step {step!r}: {pfile.path} "
                                  f"is not in output {pfile.output_name!r}") from None
        except ValueError as exc:
            raise ValidationError(f"property file {name!r} of step {step!r}: {pfile.path} "
                                  f"is not JSON ({exc})") from None

    def _step_state(self, name: str) -> str:
        """``done`` (Succeeded), ``failed`` (Failed/Stopped), ``skipped`` (never runs: a
        branch not taken, or it depends on such a step), ``ready``, ``waiting``,
        ``running`` or ``retry``. Memoized within one scheduling pass (cleared whenever a
        step starts), so wide diamonds of dependencies are walked once."""
        if name in self._memo:
            return self._memo[name]
        state = self._compute_state(name)
        self._memo[name] = state
        return state

    def _compute_state(self, name: str) -> str:
        record = self.steps.get(name)
        if name in self.running:
            return "running"
        if name in self.retry_at:
            return "retry"
        if record is not None and record.status == "Succeeded":
            return "done"
        if record is not None and record.status in ("Failed", "Stopped"):
            return "failed"
        sdef = self.defn.steps[name]
        if sdef.branch_of is not None:
            cond, branch = sdef.branch_of
            cond_record = self.steps.get(cond)
            if cond_record is not None and cond_record.status == "Succeeded":
                outcome = cond_record.properties.get("Outcome")
                if (outcome == "True") != (branch == "if"):
                    return "skipped"
        waiting = False
        for up in self.defn.upstream(name):
            state = self._step_state(up)
            if state == "skipped":
                return "skipped"
            if state != "done":
                waiting = True
        return "waiting" if waiting else "ready"

    # -- starting steps --------------------------------------------------------------------
    def _start(self, name: str, attempt: int) -> None:
        from mlyard.pipelines.definition import resolve

        sdef = self.defn.steps[name]
        now = time.time()
        base = StepExecutionRecord(self.execution_id, name, sdef.type, "Starting",
                                   attempt=attempt, started_at=now)
        try:
            arguments = resolve(sdef.arguments, self.scope)
        except ValidationError as exc:
            self._put(base)
            self._fail_step(name, f"arguments: {exc.message}")
            return
        key: str | None = None
        if sdef.cache is not None and sdef.cache.enabled and sdef.type in JOB_STEPS:
            from mlyard.pipelines.cache import cache_key

            key = cache_key(sdef.type, arguments, self.ws.artifacts.local_path)
            expire = sdef.cache.expire_after_seconds
            hit = self.pipes.find_cached_step(key, 0.0 if expire is None else now - expire)
            if hit is not None:
                # a hit's row is not stored under the key: expiry counts from the run that
                # produced the result, not from its latest reuse
                source = hit.cache_hit_source or hit.execution_id
                self._put(StepExecutionRecord(
                    self.execution_id, name, sdef.type, "Succeeded", attempt=attempt,
                    job_name=hit.job_name, cache_hit_source=source, started_at=now,
                    ended_at=time.time(), properties=hit.properties,
                    metadata=hit.metadata))
                self.log.write(f"step {name}: cache hit (job {hit.job_name} of execution "
                               f"{source})")
                return
        if sdef.type in JOB_STEPS:
            self._start_job(name, sdef.type, arguments, base, key)
        else:
            self._put(base)
            self._run_inline(name, sdef.type, arguments)

    def _job_spec(self, name: str, step_type: str, arguments: dict[str, Any],
                  attempt: int) -> Any:
        if step_type == "Processing":
            from mlyard.processing.spec import ProcessingJobSpec

            return ProcessingJobSpec.model_validate(arguments)
        if step_type == "Training":
            from mlyard.training.spec import TrainingJobSpec

            return TrainingJobSpec.model_validate(arguments)
        if step_type == "Tuning":
            from mlyard.tuning.spec import TuningJobSpec

            return TuningJobSpec.model_validate(arguments)
        if step_type == "Transform":
            from mlyard.transform.spec import TransformJobSpec

            return TransformJobSpec.model_validate(arguments)
        return self._function_spec(name, arguments, attempt)

    def _function_spec(self, name: str, arguments: dict[str, Any], attempt: int) -> Any:
        from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput

        folder = self.ws.job_dir(self.job_name) / "functions" / f"{name}-{attempt}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "args.json").write_text(json.dumps(
            {"Args": arguments.get("Args") or [], "Kwargs": arguments.get("Kwargs") or {}}))
        python = arguments.get("Python") or sys.executable
        return ProcessingJobSpec(
            command=[python, "-m", "mlyard.pipelines.function_runner"],
            source_dir=arguments.get("SourceDir"),
            arguments=[str(arguments["Function"]), "{input:args}/args.json",
                       "{output:result}"],
            inputs=[ProcessingInput(name="args", source=str(folder))],
            outputs=[ProcessingOutput(name="result")])

    def _start_job(self, name: str, step_type: str, arguments: dict[str, Any],
                   base: StepExecutionRecord, key: str | None) -> None:
        from mlyard.core.jobs import submit_job
        from mlyard.errors import problem_text

        job = step_job_name(self.execution_id, name, base.attempt)
        try:
            spec = self._job_spec(name, step_type, arguments, base.attempt)
        except (ValueError, KeyError) as exc:
            self._put(base)
            self._fail_step(name, f"arguments do not make a {step_type} job: "
                                  f"{problem_text(exc) if isinstance(exc, ValueError) else exc}")
            return
        self._put(dataclasses.replace(base, job_name=job), cache_key=key)
        try:
            self.ws.store.get_job(job)
        except NotFoundError:
            try:
                submit_job(self.ws, spec, job)
            except MlyardError as exc:
                self._fail_step(name, f"could not start job {job}: {exc}")
                return
        self._transition(name, "Executing", ("Starting",))
        self.running[name] = Running(name, job, base.attempt, key)
        self.log.write(f"step {name} ({step_type}): job {job} started"
                       + (f" (attempt {base.attempt})" if base.attempt > 1 else ""))
        self._warm_for_later_steps()

    def _warm_for_later_steps(self) -> None:
        """Once a step's job has started and job steps are still to come, ask the executor
        (in the background, once per driver) to keep one standby job process warm, so the
        next step's job starts in milliseconds instead of paying a cold process start
        (:meth:`mlyard.core.executors.base.Executor.warm`; executors without standbys
        ignore it). An execution whose job steps are all cache hits warms nothing."""
        if self._warmed:
            return
        later = [s for n, s in self.defn.steps.items()
                 if s.type in JOB_STEPS and n not in self.steps and n not in self.running]
        if not later:
            return
        self._warmed = True
        preload: set[str] = set()
        for sdef in later:
            with contextlib.suppress(MlyardError, ValueError):
                preload.update(_kind_preload(sdef.type, sdef.arguments))

        def warm() -> None:
            with contextlib.suppress(Exception):  # an optimization: a failure costs speed only
                self.ws.executor.warm(1, preload=sorted(preload), timeout=60)

        threading.Thread(target=warm, daemon=True, name="mlyard-warm").start()

    def _run_inline(self, name: str, step_type: str, arguments: dict[str, Any]) -> None:
        try:
            if step_type == "Condition":
                from mlyard.pipelines.definition import evaluate_conditions

                outcome = "True" if evaluate_conditions(arguments["Conditions"],
                                                        self.scope) else "False"
                self._succeed(name, {"Outcome": outcome}, {"Condition": {"Outcome": outcome}})
                self.log.write(f"step {name}: condition is {outcome}")
            elif step_type == "Fail":
                message = str(arguments.get("ErrorMessage") or f"fail step {name}")
                self._transition(name, "Failed", ("Starting",), failure_reason=message,
                                 metadata={"Fail": {"ErrorMessage": message}})
                self._note_failure(message)
                self.log.write(f"step {name}: Fail step: {message}")
            elif step_type == "Model":
                self._model_step(name, arguments)
            elif step_type == "RegisterModel":
                self._register_step(name, arguments)
            else:
                raise ValidationError(f"unknown step type {step_type!r}")
        except MlyardError as exc:
            self._fail_step(name, exc.message if hasattr(exc, "message") else str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            self._fail_step(name, f"{type(exc).__name__}: {exc}")

    def _model_step(self, name: str, arguments: dict[str, Any]) -> None:
        from mlyard.errors import ConflictError

        model_name = str(arguments.get("ModelName") or
                         step_job_name(self.execution_id, name, 1)[:-2])
        source = arguments.get("SourceModelName")
        uri = _dig(arguments, "PrimaryContainer", "ModelDataUrl")
        job_name: str | None = None
        if source:
            src = self.ws.store.get_model(str(source))
            uri, flavor, job_name = uri or src.uri, src.flavor, src.job_name
        elif isinstance(uri, str):
            from mlyard.models.base import read_manifest

            local = self.ws.artifacts.materialize(uri, self.ws.cache_dir)
            flavor = read_manifest(local).flavor
        else:
            raise ValidationError("a Model step needs PrimaryContainer.ModelDataUrl or "
                                  "SourceModelName")
        try:
            self.ws.store.create_model(model_name, str(uri), flavor, job_name=job_name,
                                       metadata={"PipelineExecutionId": self.execution_id,
                                                 "StepName": name})
        except ConflictError:
            existing = self.ws.store.get_model(model_name)
            if existing.uri != uri:
                raise
        self._succeed(name, {"ModelName": model_name,
                             "PrimaryContainer": {"ModelDataUrl": uri}},
                      {"Model": {"Arn": model_name, "Name": model_name}})
        self.log.write(f"step {name}: model {model_name} created")

    def _register_step(self, name: str, arguments: dict[str, Any]) -> None:
        from mlyard.registry.service import (  # type: ignore[import-untyped,unused-ignore]
            register_model_version,
        )

        group = str(arguments["ModelPackageGroupName"])
        package = register_model_version(
            self.ws, group, model_name=str(arguments["ModelName"]),
            approval_status=str(arguments.get("ModelApprovalStatus")
                                or "PendingManualApproval"),
            description=arguments.get("ModelPackageDescription"),
            inference_specification=arguments.get("InferenceSpecification"),
            model_metrics=arguments.get("ModelMetrics"),
            source={"PipelineExecutionId": self.execution_id, "StepName": name},
            created_by=f"pipeline execution {self.execution_id}")
        self._succeed(name, {"ModelPackageArn": package.arn, "ModelPackageGroupName": group,
                             "ModelPackageVersion": package.version,
                             "ModelApprovalStatus": str(package.approval_status)},
                      {"RegisterModel": {"Arn": package.arn}})
        self.log.write(f"step {name}: registered {package.arn}")

    def _succeed(self, name: str, properties: dict[str, Any],
                 metadata: dict[str, Any] | None = None) -> None:
        self._transition(name, "Succeeded", ("Starting", "Executing"), properties=properties,
                         metadata=metadata)

    def _fail_step(self, name: str, reason: str) -> None:
        self._transition(name, "Failed", ("Starting", "Executing"), failure_reason=reason)
        self._note_failure(f"step {name} failed: {reason}")
        self.log.write(f"step {name} failed: {reason}")

    def _note_failure(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason

    # -- job steps -------------------------------------------------------------------------
    def _poll(self, run: Running) -> bool:
        """Update one running job step; True when it ended."""
        from mlyard.core.jobs import reconcile

        try:
            job = reconcile(self.ws, self.ws.store.get_job(run.job))
        except NotFoundError:
            self._fail_step(run.step, f"job {run.job} is gone")
            return True
        if not job.status.terminal:
            return False
        if job.status is JobStatus.COMPLETED:
            try:
                props = self._job_properties(run.step, job)
            except (MlyardError, OSError, ValueError) as exc:
                self._fail_step(run.step, f"reading the results of job {job.name}: {exc}")
                return True
            meta_key = {"Processing": "ProcessingJob", "Training": "TrainingJob",
                        "Tuning": "TuningJob", "Transform": "TransformJob",
                        "Function": "ProcessingJob"}[self.defn.steps[run.step].type]
            self._succeed(run.step, props, {meta_key: {"Arn": job.name}})
            self.log.write(f"step {run.step}: job {job.name} Completed")
        elif job.status is JobStatus.STOPPED:
            self._transition(run.step, "Stopped", ("Starting", "Executing", "Stopping"),
                             failure_reason=job.failure_reason or "stopped")
            self._note_failure(f"step {run.step} was stopped: "
                               f"{job.failure_reason or 'stopped'}")
        else:
            reason = job.failure_reason or "job failed"
            wait = self._retry_wait(run.step, run.attempt)
            if wait is not None and self.failure is None:
                self.retry_at[run.step] = (time.monotonic() + wait, run.attempt + 1)
                self.retry_reason[run.step] = reason
                self.log.write(f"step {run.step}: job {job.name} failed ({reason}); retrying "
                               f"in {wait:.3g} s (attempt {run.attempt + 1})")
            else:
                self._fail_step(run.step, reason)
        return True

    def _abandon_retries(self) -> None:
        """The execution is failing: steps waiting for their next attempt (or to start
        again after a resume) end Failed; retrying the execution runs them again."""
        for name in list(self.retry_at):
            why = self.retry_reason.pop(name, "not started")
            with contextlib.suppress(NotFoundError):
                self.pipes.transition_step(
                    self.execution_id, name, "Failed", expected=["Starting", "Executing"],
                    failure_reason=f"{why}; not retried: the execution failed")
                self.steps[name] = self.pipes.get_step(self.execution_id, name)
        self.retry_at.clear()

    def _retry_wait(self, step: str, attempt: int) -> float | None:
        """Seconds before the next attempt of a failed job step, or None if its retry
        policies allow no more. Locally every job failure counts as each exception type."""
        for policy in self.defn.steps[step].retry_policies:
            if attempt < policy.max_attempts:
                return float(policy.interval_seconds * policy.backoff_rate ** (attempt - 1))
        return None

    def _job_properties(self, step: str, job: JobRecord) -> dict[str, Any]:
        step_type = self.defn.steps[step].type
        status = job.status.value
        if step_type == "Processing":
            outputs = {name: {"OutputName": name, "S3Output": {"S3Uri": uri}}
                       for name, uri in job.outputs.items()}
            return {"ProcessingJobName": job.name, "ProcessingJobStatus": status,
                    "ProcessingJobArn": job.name,
                    "ProcessingOutputConfig": {"Outputs": outputs}}
        if step_type == "Training":
            finals: dict[str, float] = {}
            for point in self.ws.store.get_metrics(job.name):
                finals[point.name] = point.value
            return {"TrainingJobName": job.name, "TrainingJobStatus": status,
                    "TrainingJobArn": job.name,
                    "ModelArtifacts": {"S3ModelArtifacts": job.outputs.get("model")},
                    "FinalMetricDataList": {k: {"MetricName": k, "Value": v}
                                            for k, v in finals.items()},
                    "HyperParameters": job.spec.get("hyperparameters", {}),
                    "OutputDataConfig": {"S3OutputPath": job.outputs.get("output")}}
        if step_type == "Tuning":
            from mlyard.tuning.analytics import describe_tuning

            desc = describe_tuning(self.ws, job.name)
            return {"HyperParameterTuningJobName": job.name,
                    "HyperParameterTuningJobStatus": status,
                    "HyperParameterTuningJobArn": job.name,
                    "BestTrainingJob": desc.get("BestTrainingJob") or {}}
        if step_type == "Transform":
            return {"TransformJobName": job.name, "TransformJobStatus": status,
                    "TransformJobArn": job.name,
                    "TransformOutput": {"S3OutputPath": job.outputs.get("output")}}
        # Function: the return value written by the function runner
        uri = job.outputs.get("result")
        if uri is None:
            raise ValidationError("the function step's job stored no result")
        root = self.ws.artifacts.materialize(uri, self.ws.cache_dir)
        result = json.loads((root / "result.json").read_text())
        return {"ReturnValue": result.get("ReturnValue"), "ProcessingJobName": job.name}

    # -- stop ------------------------------------------------------------------------------
    def _stop_requested(self) -> bool:
        if self.should_stop():
            return True
        with contextlib.suppress(NotFoundError):
            return self.pipes.get_execution(self.execution_id).status == "Stopping"
        return False

    def _stop_all(self) -> None:
        reason = f"pipeline execution {self.execution_id} was stopped"
        for run in self.running.values():
            with contextlib.suppress(MlyardError):
                self.ws.store.request_stop(run.job, reason=reason)
            with contextlib.suppress(MlyardError):
                self._transition(run.step, "Stopping", ("Starting", "Executing"))
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.running and time.monotonic() < deadline:
            for name in list(self.running):
                job = self.ws.store.get_job(self.running[name].job)
                if job.status.terminal:
                    to = "Succeeded" if job.status is JobStatus.COMPLETED else job.status.value
                    if to == "Succeeded":
                        self._succeed(name, self._job_properties(name, job))
                    else:
                        self._transition(name, to, ("Starting", "Executing", "Stopping"),
                                         failure_reason=job.failure_reason or reason)
                    del self.running[name]
            time.sleep(0.1)
        for name in list(self.running):
            self._transition(name, "Stopped", ("Starting", "Executing", "Stopping"),
                             failure_reason=f"{reason} (job {self.running[name].job} did "
                                            "not stop in time)")
        self.running.clear()
        for name in list(self.retry_at):
            self._transition(name, "Stopped", ("Starting", "Executing"),
                             failure_reason=reason)
        self.retry_at.clear()

    # -- the run ---------------------------------------------------------------------------
    def _attach(self) -> None:
        """Take over the stored steps: keep finished ones, re-attach to job steps whose job
        exists (still running or ended meanwhile), restart the rest."""
        for record in self.pipes.list_steps(self.execution_id):
            if record.step_name not in self.defn.steps:
                continue
            self.steps[record.step_name] = record
            if record.status in STEP_TERMINAL:
                continue
            if record.job_name is not None:
                try:
                    self.ws.store.get_job(record.job_name)
                except NotFoundError:
                    pass
                else:
                    if record.status == "Starting":
                        self._transition(record.step_name, "Executing", ("Starting",))
                    self.running[record.step_name] = Running(
                        record.step_name, record.job_name, record.attempt)
                    self.log.write(f"step {record.step_name}: re-attached to job "
                                   f"{record.job_name}")
                    continue
            # never started (or its driver died before its job was created): start again
            self.retry_at[record.step_name] = (0.0, record.attempt)
            del self.steps[record.step_name]

    def run(self) -> str:
        """Drive the execution to its end; returns its final status (raises MlyardError
        when it ended Failed or Stopped, so the driver job ends the same way)."""
        ex = self.execution
        if ex.status not in ("Executing", "Stopping"):
            raise MlyardError(f"pipeline execution {ex.execution_id} is {ex.status}; "
                              "resume or retry it first")
        self.pipes.transition_execution(ex.execution_id, ex.status, expected=[ex.status],
                                        driver_job=self.job_name)
        self.execution = self.pipes.get_execution(ex.execution_id)
        self._attach()
        done = sum(1 for s in self.steps.values() if s.status == "Succeeded")
        self.log.write(f"pipeline execution {self.execution_id} of {ex.pipeline} "
                       f"(version {ex.pipeline_version}): {len(self.defn.steps)} step(s), "
                       f"{done} already Succeeded, {len(self.running)} running, up to "
                       f"{self.parallelism} at a time")
        while True:
            if self._stop_requested():
                self._stop_all()
                self.pipes.transition_execution(
                    self.execution_id, "Stopped", expected=["Executing", "Stopping"],
                    failure_reason=self.failure)
                self.log.write("pipeline execution stopped")
                raise MlyardError("pipeline execution stopped")
            for name in list(self.running):
                if self._poll(self.running[name]):
                    del self.running[name]
            if self.failure is not None:
                self._abandon_retries()
                if not self.running:
                    break
            else:
                self._launch_ready()
                if not self.running and not self.retry_at:
                    break
            time.sleep(POLL_SECONDS)
        if self.failure is None and any(s.status in ("Failed", "Stopped")
                                        for s in self.steps.values()):
            self.failure = next(f"step {s.step_name} failed: {s.failure_reason}"
                                for s in self.steps.values()
                                if s.status in ("Failed", "Stopped"))
        if self.failure is not None:
            self.pipes.transition_execution(self.execution_id, "Failed",
                                            expected=["Executing", "Stopping"],
                                            failure_reason=self.failure)
            self.log.write(f"pipeline execution Failed: {self.failure}")
            raise MlyardError(self.failure)
        self.pipes.transition_execution(self.execution_id, "Succeeded",
                                        expected=["Executing", "Stopping"])
        self.log.write("pipeline execution Succeeded")
        return "Succeeded"

    def _launch_ready(self) -> None:
        now = time.monotonic()
        self._memo.clear()
        for name in self.defn.steps:
            if self.failure is not None or len(self.running) >= self.parallelism:
                return
            if name in self.running:
                continue
            if name in self.retry_at:
                when, attempt = self.retry_at[name]
                if when > now:
                    continue
                if self._step_state_without_retry(name) != "ready":
                    continue
                del self.retry_at[name]
                self.retry_reason.pop(name, None)
                self._start(name, attempt)
                self._memo.clear()
                continue
            if self._step_state(name) == "ready":
                previous = self.steps.get(name)
                self._start(name, previous.attempt if previous else 1)
                self._memo.clear()

    def _step_state_without_retry(self, name: str) -> str:
        pending = self.retry_at.pop(name)
        self._memo.clear()
        try:
            return self._step_state(name)
        finally:
            self._memo.clear()
            self.retry_at[name] = pending

