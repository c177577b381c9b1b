"""``Estimator``: train a built-in algorithm or a user script, SageMaker style."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.specs import Channel, MetricDefinitionSpec, ResourceConfig
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.sdk.jobs import TrainingJob
from mlyard.sdk.model import Model
from mlyard.sdk.session import default_workspace
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.profiler import ProfilerConfig
from mlyard.training.spec import CheckpointConfig, DistributionConfig, SpotConfig, TrainingJobSpec


def distribution_config(distribution: DistributionConfig | Mapping[str, Any] | None
                        ) -> DistributionConfig | None:
    """A :class:`DistributionConfig` from mlyard's own form or SageMaker's PyTorch estimator
    forms (``{"torch_distributed": {"enabled": True}}``, ``{"pytorchddp": ...}``,
    ``{"fsdp": {"enabled": True}}``), with an optional ``processes_per_host``."""
    if distribution is None or isinstance(distribution, DistributionConfig):
        return distribution
    given = dict(distribution)
    per_host = int(given.pop("processes_per_host", 1))
    strategy = given.pop("strategy", None)
    for key in list(given):
        enabled = isinstance(given[key], Mapping) and given[key].get("enabled", True)
        if key in ("torch_distributed", "pytorchddp", "smdistributed") and enabled:
            strategy = strategy or "ddp"
        elif key == "fsdp" and enabled:
            strategy = "fsdp"
        else:
            raise ValidationError(
                f"distribution: unknown or disabled option {key!r}; use torch_distributed, "
                "pytorchddp, fsdp, strategy=ddp|fsdp and processes_per_host")
    return DistributionConfig(strategy=strategy or "ddp", processes_per_host=per_host)


class Estimator:
    """Train ``algorithm`` (e.g. ``"blazingtext"``) or ``entry_point`` (a script run with
    the SageMaker script-mode contract).

    >>> est = Estimator(algorithm="blazingtext", hyperparameters={"epochs": 10})
    >>> est.fit({"train": "train.csv", "validation": "val.csv"}, job_name="bt-1")
    >>> model = est.model

    Training at scale uses SageMaker's argument names: ``instance_count`` and
    ``distribution`` (``{"torch_distributed": {"enabled": True}, "processes_per_host": 2}``
    or ``{"fsdp": {"enabled": True}}``), ``checkpoint_s3_uri`` (any local folder or artifact
    URI), ``use_spot_instances`` with ``max_wait`` (and ``spot_config`` for the simulated
    reclaims), ``rules`` (Debugger rule names or :class:`RuleConfig`),
    ``debugger_hook_config`` and ``profiler_config``. ``command`` runs any command instead
    of a script, and ``image_uri`` runs the script or command in a container image.
    """

    def __init__(self, algorithm: str | None = None, *, entry_point: str | None = None,
                 source_dir: str | None = None, hyperparameters: Mapping[str, Any] | None = None,
                 metric_definitions: list[dict[str, str]] | None = None,
                 num_threads: int = 0, device: str = "auto",
                 environment: Mapping[str, str] | None = None,
                 max_run: int | None = None, python: str | None = None, seed: int = 0,
                 instance_count: int = 1,
                 distribution: DistributionConfig | Mapping[str, Any] | None = None,
                 checkpoint_s3_uri: str | None = None,
                 checkpoint_config: CheckpointConfig | None = None,
                 use_spot_instances: bool = False, max_wait: int | None = None,
                 spot_config: SpotConfig | None = None,
                 rules: list[RuleConfig | str] | None = None,
                 debugger_hook_config: DebuggerConfig | None = None,
                 profiler_config: ProfilerConfig | None = None,
                 command: list[str] | None = None, image_uri: str | None = None,
                 workspace: Workspace | None = None) -> None:
        given = [x for x in (algorithm, entry_point, command) if x is not None]
        if len(given) != 1:
            raise ValidationError(
                "Estimator needs exactly one of algorithm=, entry_point= or command=")
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
        self.instance_count = instance_count
        self.distribution = distribution_config(distribution)
        if checkpoint_s3_uri is not None:
            base = checkpoint_config or CheckpointConfig()
            checkpoint_config = CheckpointConfig(**{**base.model_dump(),
                                                    "uri": checkpoint_s3_uri})
        self.checkpoint_config = checkpoint_config
        self.use_spot_instances = use_spot_instances
        self.max_wait = max_wait
        self.spot_config = spot_config
        self.command = command
        self.image_uri = image_uri
        self.profiler_config = profiler_config
        rule_configs = [r if isinstance(r, RuleConfig) else RuleConfig(name=r)
                        for r in rules or []]
        if rule_configs:
            base_hook = debugger_hook_config or DebuggerConfig()
            debugger_hook_config = DebuggerConfig(**{**base_hook.model_dump(),
                                                     "rules": rule_configs})
        self.debugger_hook_config = debugger_hook_config
        self.workspace = workspace or default_workspace()
        self.latest_training_job: TrainingJob | None = None

    def set_hyperparameters(self, **hyperparameters: Any) -> None:
        """Set or replace hyperparameters (as SageMaker's Estimator does)."""
        self.hyperparameters.update(hyperparameters)

    def spec(self, inputs: Mapping[str, str | Path]) -> TrainingJobSpec:
        """The training job spec ``fit`` would submit."""
        try:
            return TrainingJobSpec(
                algorithm=self.algorithm, entry_point=self.entry_point, command=self.command,
                source_dir=self.source_dir, python=self.python, image=self.image_uri,
                hyperparameters=self.hyperparameters,
                channels=[Channel(name=k, uri=str(v)) for k, v in inputs.items()],
                metric_definitions=[MetricDefinitionSpec(**m) for m in self.metric_definitions],
                resources=ResourceConfig(num_threads=self.num_threads,
                                         device=self.device,  # type: ignore[arg-type]
                                         instance_count=self.instance_count),
                environment=self.environment, max_runtime_seconds=self.max_run, seed=self.seed,
                distribution=self.distribution, checkpoint=self.checkpoint_config,
                use_spot=self.use_spot_instances, max_wait_seconds=self.max_wait,
                spot=self.spot_config or SpotConfig(), debugger=self.debugger_hook_config,
                profiler=self.profiler_config,
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
