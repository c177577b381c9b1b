"""Typed job specs (pydantic). A spec is what a user asks for; it is stored as JSON with the
job and read back by the job runner in the job's own process.

Names follow SageMaker's CreateTrainingJob / CreateProcessingJob / CreateTransformJob where
they fit: channels, hyperparameters, metric definitions, resource config, stopping condition.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from mlyard.errors import ValidationError
from mlyard.serving.transform import TransformOptions
from mlyard.training.debugger.config import DebuggerConfig
from mlyard.training.profiler.config import ProfilerConfig
from mlyard.tuning.ranges import ParameterRange

JOB_NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def check_job_name(name: str) -> str:
    """SageMaker's job-name rule: 1-63 letters, digits and single inner hyphens."""
    if not JOB_NAME_RE.match(name):
        raise ValidationError(
            f"invalid job name {name!r}: use 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return name


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(_Spec):
    """A named input: a local path or artifact URI to a file or folder."""

    name: str
    uri: str
    content_type: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CHANNEL_NAME_RE.match(v):
            raise ValueError(f"invalid channel name {v!r}")
        return v


class MetricDefinitionSpec(_Spec):
    """A metric parsed from log lines: the regex's first group is the value."""

    name: str
    regex: str

    @field_validator("regex")
    @classmethod
    def _regex(cls, v: str) -> str:
        try:
            compiled = re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid metric regex {v!r}: {exc}") from None
        if compiled.groups < 1:
            raise ValueError(f"metric regex {v!r} needs a capture group for the value")
        return v


class ResourceConfig(_Spec):
    """How much of the machine a job gets. ``instance_count`` hosts (simulated on this
    machine as ``algo-1``, ``algo-2``, ... or Ray workers on a cluster); ``num_threads`` 0
    means all cores (shared by the job's processes); ``device`` is ``auto`` (CUDA when
    present), ``cpu`` or ``cuda``."""

    instance_count: int = Field(default=1, ge=1, le=64)
    num_threads: int = Field(default=0, ge=0, le=1024)
    device: Literal["auto", "cpu", "cuda"] = "auto"


class CheckpointConfig(_Spec):
    """Where and how often a training job checkpoints (SageMaker's ``checkpoint_s3_uri``).

    ``uri``: a local folder or artifact URI; default ``<home>/jobs/<job>/checkpoints``. A
    job pointed at a location holding checkpoints resumes from the newest. ``on_invalid``:
    ``fail`` (a corrupt checkpoint or one from another model is an error) or ``restart``
    (move it aside and train from scratch)."""

    uri: str | None = None
    every_steps: int = Field(default=500, ge=0)
    every_seconds: float | None = Field(default=None, gt=0)
    keep: int = Field(default=2, ge=1, le=100)
    on_invalid: Literal["fail", "restart"] = "fail"


class SpotConfig(_Spec):
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


class DistributionConfig(_Spec):
    """Data-parallel training: ``processes_per_host`` workers on each of the
    ``resources.instance_count`` hosts; ``ddp`` (replicated model, averaged gradients) or
    ``fsdp`` (sharded parameters, gradients and optimizer state)."""

    strategy: Literal["ddp", "fsdp"] = "ddp"
    processes_per_host: int = Field(default=1, ge=1, le=64)
    backend: Literal["auto", "gloo", "nccl"] = "auto"


class TrainingJobSpec(_Spec):
    """A training job: a built-in ``algorithm``, a user script (``entry_point``, run with
    ``python`` or the job's interpreter) or any ``command`` (run as is, optionally inside a
    container ``image``), all with the same ``SM_*`` environment."""

    kind: Literal["training"] = "training"
    algorithm: str | None = None
    entry_point: str | None = None
    command: list[str] | None = None
    source_dir: str | None = None
    python: str | None = None
    image: str | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    channels: list[Channel] = Field(default_factory=list)
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    resources: ResourceConfig = Field(default_factory=ResourceConfig)
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1)
    seed: int = 0
    checkpoint: CheckpointConfig | None = None
    use_spot: bool = False
    max_wait_seconds: int | None = Field(default=None, ge=1)
    spot: SpotConfig = Field(default_factory=SpotConfig)
    distribution: DistributionConfig | None = None
    debugger: DebuggerConfig | None = None
    profiler: ProfilerConfig | None = None

    @model_validator(mode="after")
    def _check(self) -> TrainingJobSpec:
        given = [k for k in ("algorithm", "entry_point", "command")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("a training job needs exactly one of algorithm, entry_point or "
                             f"command (got {', '.join(given) or 'none'})")
        if self.command is not None and not self.command:
            raise ValueError("command must not be empty")
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


class ProcessingInput(_Spec):
    """A processing input copied (or linked) into the job's ``input/<name>`` folder."""

    name: str
    source: str


class ProcessingOutput(_Spec):
    """A processing output: what the script writes to ``output/<name>`` is stored at
    ``destination`` (an artifact URI or local path; default under the job's artifacts)."""

    name: str
    destination: str | None = None


class ProcessingJobSpec(_Spec):
    """A processing job: a user script (``entry_point``, run with ``python``) or any
    ``command``, optionally in a container ``image``, with inputs, outputs and arguments.

    ``{input:NAME}`` and ``{output:NAME}`` in ``arguments`` are replaced by the local folders.
    """

    kind: Literal["processing"] = "processing"
    entry_point: str | None = None
    command: list[str] | None = None
    source_dir: str | None = None
    python: str | None = None
    image: str | None = None
    arguments: list[str] = Field(default_factory=list)
    inputs: list[ProcessingInput] = Field(default_factory=list)
    outputs: list[ProcessingOutput] = Field(default_factory=list)
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> ProcessingJobSpec:
        if (self.entry_point is None) == (self.command is None):
            raise ValueError("a processing job needs exactly one of entry_point or command")
        if self.command is not None and not self.command:
            raise ValueError("command must not be empty")
        return self


class TransformJobSpec(_Spec):
    """A batch transform job: run a registered model over a file or folder.

    ``output`` is a folder (one ``<input file>.out`` per input file, as SageMaker) or, when
    the input is one file and ``output`` ends in ``.jsonl``/``.json``/``.csv``, that file.
    """

    kind: Literal["transform"] = "transform"
    model_name: str
    input: str
    output: str | None = None
    options: TransformOptions = Field(default_factory=TransformOptions)


class TuningObjective(_Spec):
    """The metric a tuning job optimizes (any metric its training jobs report: an
    algorithm's declared metric or a script's metric definition) and its direction."""

    metric_name: str
    type: Literal["Maximize", "Minimize"] = "Maximize"


class WarmStartConfig(_Spec):
    """Reuse up to 5 parent tuning jobs' trials to seed the search.
    ``IdenticalDataAndAlgorithm``: same algorithm/script and channels, the parents' trials
    count as evaluated points; ``TransferLearning``: data, ranges or static hyperparameters
    may differ (parents' trials inside the new ranges seed the search)."""

    parents: list[str] = Field(min_length=1, max_length=5)
    type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"] = "IdenticalDataAndAlgorithm"


class TuningJobSpec(_Spec):
    """A hyperparameter tuning job: ``training`` is the template every trial runs with its
    static hyperparameters, plus values drawn from ``ranges``.

    Strategies: ``Random``, ``Grid`` (categorical and integer ranges), ``Bayesian`` (TPE,
    or a Gaussian process with ``bayesian_sampler="gp"``) and ``Hyperband`` (trials report
    the objective each epoch; poor ones stop at rungs of ``resource_parameter``).
    ``early_stopping="Auto"`` stops trials whose intermediate objective falls below the
    median of earlier trials at the same epoch."""

    kind: Literal["tuning"] = "tuning"
    training: TrainingJobSpec
    ranges: dict[str, ParameterRange]
    objective: TuningObjective
    strategy: Literal["Random", "Grid", "Bayesian", "Hyperband"] = "Bayesian"
    bayesian_sampler: Literal["tpe", "gp"] = "tpe"
    max_jobs: int = Field(default=10, ge=1, le=10_000)
    max_parallel_jobs: int = Field(default=1, ge=1, le=256)
    early_stopping: Literal["Off", "Auto"] = "Off"
    warm_start: WarmStartConfig | None = None
    seed: int = 0
    resource_parameter: str = "epochs"
    hyperband_min_resource: int = Field(default=1, ge=1)
    hyperband_reduction_factor: int = Field(default=3, ge=2)
    max_runtime_seconds: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _check(self) -> TuningJobSpec:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(f"max_parallel_jobs ({self.max_parallel_jobs}) is more than "
                             f"max_jobs ({self.max_jobs})")
        if not self.ranges:
            raise ValueError("a tuning job needs at least one hyperparameter range")
        if self.training.use_spot or self.training.world_size > 1:
            raise ValueError("tuning trials run as single-process, on-demand training jobs")
        return self


JobSpec = Annotated[
    TrainingJobSpec | ProcessingJobSpec | TransformJobSpec | TuningJobSpec,
    Field(discriminator="kind"),
]
AnyJobSpec = TrainingJobSpec | ProcessingJobSpec | TransformJobSpec | TuningJobSpec
_JOB_SPEC: TypeAdapter[AnyJobSpec] = TypeAdapter(JobSpec)


def spec_from_dict(data: dict[str, Any]) -> AnyJobSpec:
    """Parse a stored spec back into its typed class."""
    try:
        return _JOB_SPEC.validate_python(data)
    except ValueError as exc:
        raise ValidationError(f"invalid job spec: {exc}") from None
