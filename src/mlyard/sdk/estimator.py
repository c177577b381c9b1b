"""``Estimator``: train a built-in algorithm or a user script, SageMaker style."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.specs import Channel, MetricDefinitionSpec, ResourceConfig, TrainingJobSpec
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.sdk.jobs import TrainingJob
from mlyard.sdk.model import Model
from mlyard.sdk.session import default_workspace


class Estimator:
    """Train ``algorithm`` (e.g. ``"blazingtext"``) or ``entry_point`` (a script run with
    the SageMaker script-mode contract).

    >>> est = Estimator(algorithm="blazingtext", hyperparameters={"epochs": 10})
    >>> est.fit({"train": "train.csv", "validation": "val.csv"}, job_name="bt-1")
    >>> model = est.model
    """

    def __init__(self, algorithm: str | None = None, *, entry_point: str | None = None,
                 source_dir: str | None = None, hyperparameters: Mapping[str, Any] | None = None,
                 metric_definitions: list[dict[str, str]] | None = None,
                 num_threads: int = 0, device: str = "auto",
                 environment: Mapping[str, str] | None = None,
                 max_run: int | None = None, python: str | None = None, seed: int = 0,
                 workspace: Workspace | None = None) -> None:
        if (algorithm is None) == (entry_point is None):
            raise ValidationError("Estimator needs exactly one of algorithm= or entry_point=")
        self.algorithm = algorithm
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.hyperparameters = dict(hyperparameters or {})
        self.metric_definitions = list(metric_definitions or [])
        self.num_threads = num_threads
        self.device = device
        self.environment = dict(environment or {})
        self.max_run = max_run
        self.python = python
        self.seed = seed
        self.workspace = workspace or default_workspace()
        self.latest_training_job: TrainingJob | None = None

    def set_hyperparameters(self, **hyperparameters: Any) -> None:
        """Set or replace hyperparameters (as SageMaker's Estimator does)."""
        self.hyperparameters.update(hyperparameters)

    def spec(self, inputs: Mapping[str, str | Path]) -> TrainingJobSpec:
        """The training job spec ``fit`` would submit."""
        try:
            return TrainingJobSpec(
                algorithm=self.algorithm, entry_point=self.entry_point,
                source_dir=self.source_dir, python=self.python,
                hyperparameters=self.hyperparameters,
                channels=[Channel(name=k, uri=str(v)) for k, v in inputs.items()],
                metric_definitions=[MetricDefinitionSpec(**m) for m in self.metric_definitions],
                resources=ResourceConfig(num_threads=self.num_threads,
                                         device=self.device),  # type: ignore[arg-type]
                environment=self.environment, max_runtime_seconds=self.max_run, seed=self.seed,
            )
        except ValueError as exc:
            raise ValidationError(f"invalid training job: {exc}") from None

    def fit(self, inputs: Mapping[str, str | Path] | str | Path, *, job_name: str | None = None,
            wait: bool = True, logs: bool = False) -> TrainingJob:
        """Start a training job on ``inputs`` (channel name -> path/URI; a single path is
        the ``train`` channel); with ``wait`` block until it ends."""
        channels = inputs if isinstance(inputs, Mapping) else {"train": inputs}
        name = job_name or unique_job_name(self.algorithm or Path(self.entry_point or "job").stem)
        submit_job(self.workspace, self.spec(channels), name)
        self.latest_training_job = TrainingJob(self.workspace, name)
        if wait:
            self.latest_training_job.wait(logs=logs)
        return self.latest_training_job

    @property
    def model(self) -> Model:
        """The model of the latest training job (which must have Completed)."""
        if self.latest_training_job is None:
            raise ValidationError("fit() has not been called")
        return Model(self.latest_training_job.model_name, workspace=self.workspace)
