"""The training job's spec: a built-in algorithm, a user script or any command, with its
channels, resources, checkpoints, managed spot, distribution, Debugger and Profiler.

Names follow SageMaker's CreateTrainingJob where they fit (see :class:`mlyard.core.specs.Spec`
for the alias policy).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from mlyard.core.specs import Channel, JobSpec, MetricDefinitionSpec, ResourceConfig, Spec
from mlyard.training.debugger.config import DebuggerConfig
from mlyard.training.profiler.config import ProfilerConfig


class CheckpointConfig(Spec):
    """Where and how often a training job checkpoints (SageMaker's ``checkpoint_s3_uri``).

    ``uri``: a local folder or artifact URI; default ``<home>/jobs/<job>/checkpoints``. A
    job pointed at a location holding checkpoints resumes from the newest. ``on_invalid``:
    ``fail`` (a corrupt checkpoint or one from another model is an error) or ``restart``
    (move it aside and train from scratch)."""

    uri: str | None = Field(default=None, alias="S3Uri")
    every_steps: int = Field(default=500, ge=0)
    every_seconds: float | None = Field(default=None, gt=0)
    keep: int = Field(default=2, ge=1, le=100)
    on_invalid: Literal["fail", "restart"] = "fail"


class SpotConfig(Spec):
    """Simulated spot capacity for ``use_spot`` jobs: when the instance is reclaimed.

    The *i*-th reclaim hits the *i*-th attempt ``interrupt_at_seconds[i]`` seconds after it
    started, or right after that attempt wrote its ``interrupt_after_checkpoints[i]``-th
    checkpoint; ``random_per_hour`` adds reclaims at random (a Poisson process, seeded).
    After a reclaim the job waits ``restart_delay_seconds`` for capacity, then restarts and
    resumes from its last checkpoint. ``price_ratio`` is the spot price as a share of
    on-demand, used for the billable seconds."""

    interrupt_at_seconds: list[float] = Field(default_factory=list)
    interrupt_after_checkpoints: list[int] = Field(default_factory=list)
    random_per_hour: float = Field(default=0.0, ge=0.0)
    restart_delay_seconds: float = Field(default=2.0, ge=0.0)
    max_interruptions: int = Field(default=20, ge=0)
    price_ratio: float = Field(default=0.3, gt=0.0, le=1.0)
    seed: int = 0

    @field_validator("interrupt_at_seconds")
    @classmethod
    def _positive_times(cls, v: list[float]) -> list[float]:
        if any(t <= 0 for t in v):
            raise ValueError("interrupt_at_seconds must be positive")
        return v

    @field_validator("interrupt_after_checkpoints")
    @classmethod
    def _positive_counts(cls, v: list[int]) -> list[int]:
        if any(n < 1 for n in v):
            raise ValueError("interrupt_after_checkpoints must be >= 1")
        return v


class DistributionConfig(Spec):
    """Data-parallel training: ``processes_per_host`` workers on each of the
    ``resources.instance_count`` hosts; ``ddp`` (replicated model, averaged gradients) or
    ``fsdp`` (sharded parameters, gradients and optimizer state)."""

    strategy: Literal["ddp", "fsdp"] = "ddp"
    processes_per_host: int = Field(default=1, ge=1, le=64)
    backend: Literal["auto", "gloo", "nccl"] = "auto"


class TrainingJobSpec(JobSpec):
    """A training job: a built-in ``algorithm``, a user script (``entry_point``, run with
    ``python`` or the job's interpreter) or any ``command`` (run as is, optionally inside a
    container ``image``), all with the same ``SM_*`` environment."""

    kind: Literal["training"] = "training"
    algorithm: str | None = Field(default=None, alias="AlgorithmName")
    entry_point: str | None = None
    command: list[str] | None = None
    source_dir: str | None = None
    python: str | None = None
    image: str | None = Field(default=None, alias="TrainingImage")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, alias="HyperParameters")
    channels: list[Channel] = Field(default_factory=list, alias="InputDataConfig")
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    resources: ResourceConfig = Field(default_factory=ResourceConfig, alias="ResourceConfig")
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1, alias="MaxRuntimeInSeconds")
    seed: int = 0
    checkpoint: CheckpointConfig | None = Field(default=None, alias="CheckpointConfig")
    use_spot: bool = Field(default=False, alias="EnableManagedSpotTraining")
    max_wait_seconds: int | None = Field(default=None, ge=1, alias="MaxWaitTimeInSeconds")
    spot: SpotConfig = Field(default_factory=SpotConfig)
    distribution: DistributionConfig | None = None
    debugger: DebuggerConfig | None = Field(default=None, alias="DebugHookConfig")
    profiler: ProfilerConfig | None = Field(default=None, alias="ProfilerConfig")
    #: Built-in algorithms: skip (and count) bad rows of the channels instead of refusing
    #: the data (:mod:`mlyard.models.datafiles`); a script reads its own data.
    skip_bad_rows: bool = False

    @model_validator(mode="after")
    def _check(self) -> TrainingJobSpec:
        given = [k for k in ("algorithm", "entry_point", "command")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a training job needs exactly one of algorithm, entry_point or "
                             f"command (got {', '.join(given) or 'none'})")
        if self.command is not None and not self.command:
            raise ValueError("command must not be empty")
        if self.skip_bad_rows and self.algorithm is None:
            raise ValueError("skip_bad_rows is for built-in algorithms; a script or command "
                             "reads its own data")
        if self.image is not None and self.algorithm is not None:
            raise ValueError("image runs a script or command; built-in algorithms run in "
                             "mlyard's own environment")
        if self.use_spot:
            if self.max_wait_seconds is None:
                raise ValueError("use_spot needs max_wait_seconds (the longest the job may "
                                 "take, waits for spot capacity included)")
            if self.max_runtime_seconds is not None \
                    and self.max_wait_seconds < self.max_runtime_seconds:
                raise ValueError(f"max_wait_seconds ({self.max_wait_seconds}) must be at "
                                 f"least max_runtime_seconds ({self.max_runtime_seconds})")
        elif self.max_wait_seconds is not None:
            raise ValueError("max_wait_seconds is only for use_spot jobs")
        elif self.spot != SpotConfig():
            raise ValueError("spot settings are only for use_spot jobs")
        return self

    @property
    def world_size(self) -> int:
        """Training processes in all: hosts × processes per host."""
        per_host = self.distribution.processes_per_host if self.distribution else 1
        return self.resources.instance_count * per_host


