"""The job runner: the body of ``mlyard job run <name>``, executed in the job's own process.

It claims the Pending job (compare-and-set to InProgress), captures logs and metrics, runs
the work for the job type, stores outputs, and reports exactly one terminal status:
Completed (outputs stored, model registered), Failed (with the reason) or Stopped. Outputs
are staged in a job-local folder and copied to the artifact store only after the work
succeeded, so a failed job never registers partial outputs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from mlyard.core.logcapture import JobLog, LogStream
from mlyard.core.records import JobStatus
from mlyard.core.specs import (
    ProcessingJobSpec,
    TrainingJobSpec,
    TransformJobSpec,
    TuningJobSpec,
    spec_from_dict,
)
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, MlyardError, NotFoundError, ValidationError


class StopSignal:
    """Turns true when the job was asked to stop: a stop request in the store, SIGTERM, or
    the max runtime passing. A watcher thread polls the store."""

    def __init__(self, ws: Workspace, job_name: str, max_runtime: float | None,
                 poll: float = 0.5) -> None:
        self.event = threading.Event()
        self.reason = "stop requested"
        self._ws = ws
        self._name = job_name
        self._deadline = None if max_runtime is None else time.monotonic() + max_runtime
        self._done = threading.Event()
        self._poll = poll
        self._thread = threading.Thread(target=self._watch, daemon=True, name="mlyard-stop")
        self._thread.start()

    def __call__(self) -> bool:
        return self.event.is_set()

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def _watch(self) -> None:
        while not self._done.wait(self._poll):
            if self._deadline is not None and time.monotonic() > self._deadline:
                self.set("MaxRuntimeExceeded")
            try:
                record = self._ws.store.get_job(self._name)
                if record.stop_requested:
                    self.set(record.failure_reason or "stop requested")
            except MlyardError:
                continue

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def resolve_input(ws: Workspace, location: str, what: str) -> Path:
    """A local path for a channel/input location (local path, ``file://`` or artifact URI)."""
    if "://" in location:
        local = ws.artifacts.local_path(location)
        if local is None:
            return ws.artifacts.materialize(location, ws.cache_dir)
    else:
        local = Path(location)
    if not local.exists():
        raise ValidationError(f"{what}: {location} does not exist")
    return local.resolve()


class JobRunner:
    """Runs one job in this process. Use :func:`run_job`."""

    def __init__(self, ws: Workspace, name: str) -> None:
        self.ws = ws
        self.name = name
        self.record = ws.store.get_job(name)
        self.spec = spec_from_dict(self.record.spec)
        self.scratch = ws.job_dir(name)
        self.staging = self.scratch / "staging"

    # -- helpers shared by the job types -------------------------------------------------
    def _metric_regexes(self) -> list[tuple[str, str]]:
        defs = getattr(self.spec, "metric_definitions", [])
        return [(d.name, d.regex) for d in defs]

    def _store_output(self, local: Path, *parts: str) -> str:
        return self.ws.artifacts.upload(local, self.ws.artifacts.uri("jobs", self.name, *parts))

    # -- job types -----------------------------------------------------------------------
    def _training(self, spec: TrainingJobSpec, log: JobLog, stop: StopSignal) -> dict[str, str]:
        from mlyard.training.run import TrainingRun

        layout = TrainingRun(self.ws, self.name, spec, log, stop, self.staging,
                             self.scratch).execute()
        return self._finish_training(layout, spec.algorithm or "script")

    def _finish_training(self, layout: Any, flavor: str) -> dict[str, str]:
        """Store the model and output folders and register the model.

        A script-mode model without a manifest whose folder has ``code/inference.py``, or
        whose training script's folder has an ``inference.py`` (copied to
        ``code/inference.py``, as SageMaker's ``PyTorchModel(entry_point="inference.py")``
        packs it), gets a ``pytorch-handler`` manifest (:mod:`mlyard.models.handler`), so it
        serves through SageMaker's ``model_fn``/``input_fn``/``predict_fn``/``output_fn``.
        """
        from mlyard.models import MANIFEST_NAME, read_manifest

        if flavor == "script" and not (layout.model_dir / MANIFEST_NAME).exists():
            self._add_inference_handler(layout.model_dir)
        metadata: dict[str, Any] = {}
        if (layout.model_dir / MANIFEST_NAME).exists():
            manifest = read_manifest(layout.model_dir)
            flavor = manifest.flavor
            metadata = {"task": manifest.task, "labels": manifest.labels}
        elif flavor != "script":
            raise ValidationError(f"algorithm {flavor!r} wrote no model manifest")
        try:
            self.ws.store.get_model(self.name)
            raise ConflictError(f"a model named {self.name!r} already exists")
        except NotFoundError:
            pass
        model_uri = self._store_output(layout.model_dir, "model")
        output_uri = self._store_output(layout.output_dir, "output")
        self.ws.store.create_model(self.name, model_uri, flavor, job_name=self.name,
                                   metadata=metadata)
        return {"model": model_uri, "output": output_uri}

    def _add_inference_handler(self, model_dir: Path) -> None:
        """Write a handler manifest when the script model comes with an ``inference.py``."""
        from mlyard.models import write_manifest
        from mlyard.models.handler import SCRIPT, handler_manifest

        target = model_dir / SCRIPT
        if not target.is_file():
            spec = self.spec
            source = (Path(getattr(spec, "source_dir", None) or ".")
                      / (getattr(spec, "entry_point", None) or "")).parent.resolve()
            found = source / "inference.py"
            if not found.is_file():
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, target)
        write_manifest(model_dir, handler_manifest())

    def _processing(self, spec: ProcessingJobSpec, log: JobLog,
                    stop: StopSignal) -> dict[str, str]:
        from mlyard.training.script_mode import run_command, stage_channel

        root = self.staging / "processing"
        env = {"MLYARD_JOB_NAME": self.name, "PROCESSING_JOB_NAME": self.name}
        replacements: dict[str, str] = {}
        for inp in spec.inputs:
            dest = stage_channel(resolve_input(self.ws, inp.source, f"input {inp.name!r}"),
                                 root / "input" / inp.name)
            replacements[f"{{input:{inp.name}}}"] = str(dest)
            env[f"MLYARD_INPUT_{inp.name.upper().replace('-', '_')}"] = str(dest)
        for out in spec.outputs:
            dest = root / "output" / out.name
            dest.mkdir(parents=True, exist_ok=True)
            replacements[f"{{output:{out.name}}}"] = str(dest)
            env[f"MLYARD_OUTPUT_{out.name.upper().replace('-', '_')}"] = str(dest)
        args = []
        for arg in spec.arguments:
            for key, value in replacements.items():
                arg = arg.replace(key, value)
            args.append(arg)
        env.update(spec.environment)
        if spec.entry_point is not None:
            script = (Path(spec.source_dir or ".") / spec.entry_point).resolve()
            python = spec.python or ("python" if spec.image else sys.executable)
            command, cwd = [python, str(script), *args], script.parent
        else:
            assert spec.command is not None
            command, cwd = [*spec.command, *args], Path(spec.source_dir or ".").resolve()
        if spec.image is not None:
            from mlyard.training.container import container_command, container_runtime

            mounts = [root, cwd, *(Path(v) for v in replacements.values())]
            command = container_command(container_runtime(), spec.image, command, env,
                                        mounts, cwd)
        run_command(command, env, cwd=cwd, on_line=log.write, should_stop=stop)
        outputs: dict[str, str] = {}
        for out in spec.outputs:
            local = root / "output" / out.name
            if out.destination and "://" not in out.destination:
                dest = Path(out.destination).resolve()
                dest.parent.mkdir(parents=True, exist_ok=True)
                outputs[out.name] = self.ws.artifacts.upload(local, dest.as_uri())
            elif out.destination:
                outputs[out.name] = self.ws.artifacts.upload(local, out.destination)
            else:
                outputs[out.name] = self._store_output(local, "output", out.name)
        return outputs

    def _tuning(self, spec: TuningJobSpec, log: JobLog, stop: StopSignal) -> dict[str, str]:
        from mlyard.tuning.driver import TuningDriver

        driver = TuningDriver(self.ws, self.name, spec, log, stop)
        summary = driver.run()
        outputs = dict(getattr(driver, "outputs", {}))
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
        if summary["best"] is None:
            raise MlyardError(f"no trial completed with an objective value ({counts})")
        outputs["best_training_job"] = summary["best"].training_job
        log.write(f"tuning done: {counts}; {summary['early_stopped']} stopped early; best "
                  f"{summary['best'].training_job} {spec.objective.metric_name}="
                  f"{summary['best'].objective:.6g} with {summary['best'].hyperparameters}")
        return outputs

    def _transform(self, spec: TransformJobSpec, log: JobLog, stop: StopSignal) -> dict[str, str]:
        from mlyard.serving.transform import run_transform

        model = self.ws.store.get_model(spec.model_name)
        model_dir = self.ws.artifacts.materialize(model.uri, self.ws.cache_dir)
        source = resolve_input(self.ws, spec.input, "transform input")
        target = spec.output or self.ws.artifacts.uri("jobs", self.name, "output")
        single_file = (source.is_file() and "://" not in target
                       and Path(target).suffix.lower() in {".jsonl", ".json", ".csv", ".out"})
        if single_file:
            # parts live beside the target so that a re-run into the same file resumes
            out_dir = Path(target).resolve().parent / f".{Path(target).name}.transform"
        elif "://" in target and self.ws.artifacts.local_path(target) is None:
            out_dir = self.staging / "transform-output"
        else:
            out_dir = self.ws.artifacts.local_path(target) or Path(target)
            out_dir = out_dir.resolve()
        result = run_transform(model_dir, source, out_dir, spec.options, log=log.write,
                               should_stop=stop)
        log.write(f"transform done: {result}")
        if single_file:
            produced = out_dir / f"{source.name}.out"
            final = Path(target).resolve()
            os.replace(produced, final)
            shutil.rmtree(out_dir, ignore_errors=True)
            return {"output": final.as_uri()}
        if "://" in target and self.ws.artifacts.local_path(target) is None:
            return {"output": self.ws.artifacts.upload(out_dir, target)}
        return {"output": out_dir.as_uri()}

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> JobStatus:
        ws, name = self.ws, self.name
        ws.store.set_job_process(name, executor=self.record.executor or ws.settings.executor,
                                 pid=os.getpid(), host=socket.gethostname())
        if not ws.store.transition_job(name, JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING]):
            status = ws.store.get_job(name).status
            raise ConflictError(f"job {name!r} is {status.value}, not Pending; not running it")
        self.scratch.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        log = JobLog(ws.store, name, self.scratch / "job.log", self._metric_regexes())
        stop = StopSignal(ws, name, getattr(self.spec, "max_runtime_seconds", None))
        if isinstance(self.spec, TuningJobSpec):
            log.write(f"tuning job {name}: trials are training jobs {name[:58]}-NNN")
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set("SIGTERM"))
        stdout, stderr = sys.stdout, sys.stderr
        status = JobStatus.FAILED
        reason: str | None = None
        outputs: dict[str, str] = {}
        stream = LogStream(log)
        try:
            sys.stdout = sys.stderr = stream  # type: ignore[assignment]
            os.environ["MLYARD_JOB_NAME"] = name
            log.write(f"job {name} started on {socket.gethostname()} (pid {os.getpid()})")
            if isinstance(self.spec, TrainingJobSpec):
                outputs = self._training(self.spec, log, stop)
            elif isinstance(self.spec, ProcessingJobSpec):
                outputs = self._processing(self.spec, log, stop)
            elif isinstance(self.spec, TuningJobSpec):
                outputs = self._tuning(self.spec, log, stop)
            else:
                outputs = self._transform(self.spec, log, stop)
            status = JobStatus.COMPLETED
        except BaseException as exc:
            if stop():
                status, reason = JobStatus.STOPPED, stop.reason
                if reason == "MaxRuntimeExceeded":
                    reason = "MaxRuntimeExceeded: the job ran past max_runtime_seconds"
            else:
                kind = exc.code if isinstance(exc, MlyardError) else type(exc).__name__
                reason = f"{kind}: {exc}"
                with contextlib.suppress(Exception):
                    log.write("".join(traceback.format_exception(exc)).rstrip())
            log.write(f"job {name} {status.value}: {reason}")
        finally:
            stream.flush()
            sys.stdout, sys.stderr = stdout, stderr
            signal.signal(signal.SIGTERM, previous)
            stop.close()
            if status is JobStatus.COMPLETED:
                log.write(f"job {name} Completed")
            log.close()
        ws.store.transition_job(
            name, status,
            expected=[JobStatus.IN_PROGRESS, JobStatus.STOPPING],
            failure_reason=reason, outputs=outputs,
        )
        shutil.rmtree(self.staging, ignore_errors=True)
        return status


def run_job(ws: Workspace, name: str) -> JobStatus:
    """Run the Pending job ``name`` to a terminal status in this process."""
    return JobRunner(ws, name).run()
