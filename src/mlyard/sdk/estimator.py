"""``Estimator``: train a built-in algorithm, a user script or any command, SageMaker style."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.specs import Channel, MetricDefinitionSpec, ResourceConfig
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError, problem_text
from mlyard.sdk.jobs import TrainingJob
from mlyard.sdk.model import Model
from mlyard.sdk.session import default_workspace
from mlyard.sdk.settings import training_settings
from mlyard.training.debugger import DebuggerConfig
from mlyard.training.profiler import ProfilerConfig
from mlyard.training.spec import CheckpointConfig, DistributionConfig, SpotConfig, TrainingJobSpec


class Estimator:
    """Train ``algorithm`` (e.g. ``"blazingtext"``), ``entry_point`` (a script run with
    the SageMaker script-mode contract) or ``command`` (any program).

    >>> est = Estimator(algorithm="blazingtext", hyperparameters={"epochs": 10})
    >>> est.fit({"train": "train.csv", "validation": "val.csv"}, job_name="bt-1")
    >>> model = est.model

    Settings come in the groups of a training job spec: ``resources``
    (:class:`ResourceConfig`: instance count, threads, device), ``checkpoint``, ``spot``
    (giving it makes a managed spot job, with ``max_wait_seconds``), ``distribution``
    (mlyard's :class:`DistributionConfig` or SageMaker's PyTorch forms such as
    ``{"torch_distributed": {"enabled": True}, "processes_per_host": 2}``), ``debugger``,
    ``profiler``; each a config object or a mapping of its fields. Code written for the
    SageMaker Python SDK may pass its flat names instead (``instance_count``,
    ``checkpoint_s3_uri``, ``use_spot_instances``, ``max_wait``, ``rules``,
    ``debugger_hook_config``, ``profiler_config``, ``image_uri``, ``max_run``, ...):
    :mod:`mlyard.sdk.settings` folds them into the groups. ``skip_bad_rows`` (built-in
    algorithms) skips and counts bad rows of the channels instead of refusing the data.
    """

    def __init__(self, algorithm: str | None = None, *, entry_point: str | None = None,
                 command: list[str] | None = None, source_dir: str | None = None,
                 python: str | None = None,
                 hyperparameters: Mapping[str, Any] | None = None,
                 metric_definitions: list[dict[str, str]] | None = None, seed: int = 0,
                 resources: ResourceConfig | Mapping[str, Any] | None = None,
                 checkpoint: CheckpointConfig | Mapping[str, Any] | None = None,
                 spot: SpotConfig | Mapping[str, Any] | None = None,
                 distribution: DistributionConfig | Mapping[str, Any] | None = None,
                 debugger: DebuggerConfig | Mapping[str, Any] | None = None,
                 profiler: ProfilerConfig | Mapping[str, Any] | None = None,
                 max_runtime_seconds: int | None = None, max_wait_seconds: int | None = None,
                 image: str | None = None, environment: Mapping[str, str] | None = None,
                 skip_bad_rows: bool = False,
                 workspace: Workspace | None = None, **sagemaker_args: Any) -> None:
        given = [x for x in (algorithm, entry_point, command) if x is not None]
        if len(given) != 1:
            raise ValidationError(
                "Estimator needs exactly one of algorithm=, entry_point= or command=")
        self.algorithm = algorithm
        self.entry_point = entry_point
        self.command = command
        self.source_dir = source_dir
        self.python = python
        self.hyperparameters = dict(hyperparameters or {})
        self.metric_definitions = list(metric_definitions or [])
        self.seed = seed
        self.skip_bad_rows = skip_bad_rows
        self.settings = training_settings(
            resources=resources, checkpoint=checkpoint, spot=spot, distribution=distribution,
            debugger=debugger, profiler=profiler, max_wait_seconds=max_wait_seconds,
            max_runtime_seconds=max_runtime_seconds, image=image, environment=environment,
            flat=sagemaker_args)
        self.workspace = workspace or default_workspace()
        self.latest_training_job: TrainingJob | None = None

    def set_hyperparameters(self, **hyperparameters: Any) -> None:
        """Set or replace hyperparameters (as SageMaker's Estimator does)."""
        self.hyperparameters.update(hyperparameters)

    def spec(self, inputs: Mapping[str, str | Path]) -> TrainingJobSpec:
        """The training job spec ``fit`` would submit."""
        st = self.settings
        try:
            return TrainingJobSpec(
                algorithm=self.algorithm, entry_point=self.entry_point, command=self.command,
                source_dir=self.source_dir, python=self.python, image=st.image,
                hyperparameters=self.hyperparameters,
                channels=[Channel(name=k, uri=str(v)) for k, v in inputs.items()],
                metric_definitions=[MetricDefinitionSpec(**m) for m in self.metric_definitions],
                resources=st.resources, environment=st.environment,
                max_runtime_seconds=st.max_runtime_seconds, seed=self.seed,
                distribution=st.distribution, checkpoint=st.checkpoint, use_spot=st.use_spot,
                max_wait_seconds=st.max_wait_seconds, spot=st.spot, debugger=st.debugger,
                profiler=st.profiler, skip_bad_rows=self.skip_bad_rows,
            )
        except ValueError as exc:
            raise ValidationError(f"invalid training job: {problem_text(exc)}") from None

    def fit(self, inputs: Mapping[str, str | Path] | str | Path, *, job_name: str | None = None,
            wait: bool = True, logs: bool = False, progress: bool = True) -> TrainingJob:
        """Start a training job on ``inputs`` (channel name -> path/URI; a single path is
        the ``train`` channel); with ``wait`` block until it ends, showing a progress line
        (status, epoch, last metric, elapsed: one line updated in place on a terminal,
        periodic lines otherwise; ``progress=False`` for none) or, with ``logs=True``, the
        job's whole log as it arrives."""
        channels = inputs if isinstance(inputs, Mapping) else {"train": inputs}
        name = job_name or unique_job_name(self.algorithm or Path(self.entry_point or "job").stem)
        submit_job(self.workspace, self.spec(channels), name)
        self.latest_training_job = TrainingJob(self.workspace, name)
        if wait:
            self.latest_training_job.wait(logs=logs, progress=progress)
        return self.latest_training_job

    @property
    def model(self) -> Model:
        """The model of the latest training job (which must have Completed)."""
        if self.latest_training_job is None:
            raise ValidationError("fit() has not been called")
        return Model(self.latest_training_job.model_name, workspace=self.workspace)
