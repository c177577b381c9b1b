"""MLflow-like tracking for user code: ``start_run``, ``log_param(s)``,
``log_metric(s)``, ``log_artifact`` and ``end_run``.

Outside a job, ``start_run()`` starts a new run (experiment ``Default`` unless named) and
``log_*`` without a run starts one. Inside an mlyard job (``MLYARD_JOB_NAME`` is set) the
default run is the job's own run: the run named after the job, in experiment ``Default`` or
``MLYARD_EXPERIMENT_NAME``, the same run :func:`mlyard.experiments.collect.sync` fills with
the job's hyperparameters and metrics; its status follows the job's. The workspace is the
one passed, else the process' default (:func:`mlyard.core.workspace.default_workspace`,
the ``MLYARD_*`` settings a job process gets).

    with start_run(experiment="reviews", run_name="lr-0.1") as run:
        log_params({"lr": 0.1})
        for epoch in range(3):
            log_metric("loss", loss, step=epoch)
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlyard.errors import ValidationError
from mlyard.experiments.collect import EXPERIMENT_ENV
from mlyard.experiments.store import DEFAULT_EXPERIMENT, ExperimentStore, RunMetric, RunRecord

if TYPE_CHECKING:
    from mlyard.core.workspace import Workspace

JOB_ENV = "MLYARD_JOB_NAME"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ActiveRun:
    """A run being logged to; a context manager that ends it (Failed if the block
    raised). A job's own run is not ended by user code: the job's status decides."""

    def __init__(self, ws: Workspace, record: RunRecord, *, owned_by_job: bool) -> None:
        self.ws = ws
        self.record = record
        self.owned_by_job = owned_by_job

    @property
    def experiment(self) -> str:
        """The run's experiment."""
        return self.record.experiment

    @property
    def name(self) -> str:
        """The run's name."""
        return self.record.name

    @property
    def store(self) -> ExperimentStore:
        """The experiments store the run is in."""
        return ExperimentStore.of(self.ws.store)

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters (a key logged again is replaced)."""
        self.store.log_params(self.experiment, self.name, params)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log one value of each metric, at ``step`` (optional), now."""
        now = time.time()
        points = []
        for key, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValidationError(f"metric {key!r}: {value!r} is not a number") from None
            points.append(RunMetric(str(key), number, step, now))
        self.store.log_metrics(self.experiment, self.name, points)

    def log_artifact(self, path: str | Path, name: str | None = None) -> str:
        """Copy a local file or folder into the artifact store under the run and record
        it (as ``name``, default the file's name); its URI."""
        local = Path(path)
        if not local.exists():
            raise ValidationError(f"log_artifact: {str(path)!r} does not exist")
        label = name or local.name
        root = self.ws.settings.artifact_root.rstrip("/")
        dest = (f"{root}/experiments/{_SAFE.sub('_', self.experiment)}/"
                f"{_SAFE.sub('_', self.name)}/{_SAFE.sub('_', label)}")
        uri = self.ws.artifacts.upload(local, dest)
        self.store.log_artifacts(self.experiment, self.name, {label: uri})
        return uri

    def end(self, status: str = "Finished") -> None:
        """End the run with ``status`` (a job's own run is left to the job)."""
        if not self.owned_by_job:
            self.record = self.store.update_run(self.experiment, self.name, status=status,
                                                ended_at=time.time())

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        end_run("Failed" if kind is not None else "Finished", run=self)


_local = threading.local()


def _stack() -> list[ActiveRun]:
    if not hasattr(_local, "runs"):
        _local.runs = []
    runs: list[ActiveRun] = _local.runs
    return runs


def _workspace(ws: Workspace | None) -> Workspace:
    if ws is not None:
        return ws
    from mlyard.core.workspace import default_workspace

    return default_workspace()


def active_run() -> ActiveRun | None:
    """The innermost run started in this thread, or None."""
    stack = _stack()
    return stack[-1] if stack else None


def start_run(experiment: str | None = None, run_name: str | None = None, *,
              ws: Workspace | None = None) -> ActiveRun:
    """Start (or, for an existing name, resume) a run and make it the active one.

    Inside a job, leaving ``run_name`` out gives the job's own run."""
    workspace = _workspace(ws)
    job = os.environ.get(JOB_ENV)
    exp = experiment or (os.environ.get(EXPERIMENT_ENV) if job else None) or DEFAULT_EXPERIMENT
    owned = bool(job) and run_name is None
    if owned:
        assert job is not None
        name, source = job, {"JobName": job}
    else:
        name = run_name or time.strftime("run-%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        source = {}
    record = ExperimentStore.of(workspace.store).ensure_run(
        RunRecord(exp, name, time.time(), "Running", None, source))
    run = ActiveRun(workspace, record, owned_by_job=owned)
    _stack().append(run)
    return run


def _current() -> ActiveRun:
    return active_run() or start_run()


def end_run(status: str = "Finished", *, run: ActiveRun | None = None) -> None:
    """End the active run (or ``run``) with ``status`` and drop it from the active ones."""
    target = run or active_run()
    if target is None:
        return
    stack = _stack()
    if target in stack:
        stack.remove(target)
    target.end(status)


def log_param(key: str, value: Any) -> None:
    """Log one parameter of the active run (started if none)."""
    _current().log_params({key: value})


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters of the active run (started if none)."""
    _current().log_params(params)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    """Log one metric value of the active run (started if none), at ``step``."""
    _current().log_metrics({key: value}, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log one value of each metric of the active run (started if none)."""
    _current().log_metrics(metrics, step)


def log_artifact(path: str | Path, name: str | None = None) -> str:
    """Copy a file or folder into the active run's artifacts (started if none); its URI."""
    return _current().log_artifact(path, name)
