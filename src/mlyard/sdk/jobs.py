"""Handles on jobs: what ``Estimator.fit``, ``Processor.run`` and ``Transformer.transform``
return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from mlyard.core.jobs import describe_job, stop_job, wait_for_job
from mlyard.core.records import JobRecord, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.sdk.progress import JobProgress


class Job:
    """A handle on one job by name."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, status={self.status.value})"

    @property
    def record(self) -> JobRecord:
        """The job's current record."""
        return self.workspace.store.get_job(self.name)

    @property
    def status(self) -> JobStatus:
        """The job's current status."""
        return self.record.status

    def wait(self, logs: bool = False, timeout: float | None = None,
             on_log: Callable[[str], None] | None = None,
             progress: bool = False) -> JobRecord:
        """Block until the job ends; raise :class:`~mlyard.errors.JobFailedError` unless it
        Completed. ``logs=True`` prints its log lines as they arrive; otherwise
        ``progress=True`` shows one progress line (status, epoch, last metric, elapsed;
        :class:`~mlyard.sdk.progress.JobProgress`)."""
        sink = on_log if on_log is not None else (print if logs else None)
        show = JobProgress(self.workspace, self.name) if progress and sink is None else None
        return wait_for_job(self.workspace, self.name, timeout=timeout, on_log=sink,
                            on_poll=show)

    def describe(self) -> dict[str, Any]:
        """A SageMaker-style description (status, failure reason, times, final metrics)."""
        return describe_job(self.workspace, self.name)

    def stop(self) -> JobRecord:
        """Ask the job to stop and wait until it did."""
        return stop_job(self.workspace, self.name)

    def logs(self) -> list[str]:
        """The log lines captured so far."""
        return [line.line for line in self.workspace.store.get_logs(self.name)]

    def metrics(self) -> pd.DataFrame:
        """The job's metric time series: columns name, value, step, timestamp."""
        points = self.workspace.store.get_metrics(self.name)
        return pd.DataFrame(
            [(p.name, p.value, p.step, p.timestamp) for p in points],
            columns=["name", "value", "step", "timestamp"],
        )


class TrainingJob(Job):
    """A training job handle; ``model`` once it Completed."""

    @property
    def model_name(self) -> str:
        """The name of the model this job registers (the job's name)."""
        return self.name


class TransformJob(Job):
    """A batch transform job handle."""

    @property
    def output(self) -> str | None:
        """Where the predictions are, once Completed."""
        return self.record.outputs.get("output")


class ProcessingJob(Job):
    """A processing job handle."""

    @property
    def outputs(self) -> dict[str, str]:
        """Where each output folder was stored (output name -> URI), once Completed."""
        return dict(self.record.outputs)
