"""Typed job specs (pydantic). A spec is what a user asks for; it is stored as JSON with the
job and read back by the job runner in the job's own process.

Names follow SageMaker's CreateTrainingJob / CreateProcessingJob / CreateTransformJob where
they fit: channels, hyperparameters, metric definitions, resource config, stopping condition.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from mlyard.errors import ValidationError
from mlyard.serving.transform import TransformOptions

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
    """How much of the machine a job gets. ``num_threads`` 0 means all cores; ``device``
    is ``auto`` (CUDA when present), ``cpu`` or ``cuda``."""

    instance_count: int = Field(default=1, ge=1, le=1)
    num_threads: int = Field(default=0, ge=0, le=1024)
    device: Literal["auto", "cpu", "cuda"] = "auto"


class TrainingJobSpec(_Spec):
    """A training job: a built-in ``algorithm`` or a user script (``entry_point``)."""

    kind: Literal["training"] = "training"
    algorithm: str | None = None
    entry_point: str | None = None
    source_dir: str | None = None
    python: str | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    channels: list[Channel] = Field(default_factory=list)
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    resources: ResourceConfig = Field(default_factory=ResourceConfig)
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1)
    seed: int = 0


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
    """A processing job: a user script with inputs, outputs and arguments.

    ``{input:NAME}`` and ``{output:NAME}`` in ``arguments`` are replaced by the local folders.
    """

    kind: Literal["processing"] = "processing"
    entry_point: str
    source_dir: str | None = None
    python: str | None = None
    arguments: list[str] = Field(default_factory=list)
    inputs: list[ProcessingInput] = Field(default_factory=list)
    outputs: list[ProcessingOutput] = Field(default_factory=list)
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1)


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


JobSpec = Annotated[
    TrainingJobSpec | ProcessingJobSpec | TransformJobSpec, Field(discriminator="kind")
]
_JOB_SPEC: TypeAdapter[TrainingJobSpec | ProcessingJobSpec | TransformJobSpec] = TypeAdapter(
    JobSpec
)


def spec_from_dict(data: dict[str, Any]) -> TrainingJobSpec | ProcessingJobSpec | TransformJobSpec:
    """Parse a stored spec back into its typed class."""
    try:
        return _JOB_SPEC.validate_python(data)
    except ValueError as exc:
        raise ValidationError(f"invalid job spec: {exc}") from None
