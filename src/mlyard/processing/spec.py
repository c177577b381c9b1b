"""The processing job's spec: a user script or any command, optionally in a container
image, with inputs staged into ``input/<name>`` and outputs stored from ``output/<name>``
(SageMaker's CreateProcessingJob)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlyard.core.specs import JobSpec, MetricDefinitionSpec, Spec


class ProcessingInput(Spec):
    """A processing input copied (or linked) into the job's ``input/<name>`` folder."""

    name: str = Field(alias="InputName")
    source: str = Field(alias="Source")


class ProcessingOutput(Spec):
    """A processing output: what the script writes to ``output/<name>`` is stored at
    ``destination`` (an artifact URI or local path; default under the job's artifacts)."""

    name: str = Field(alias="OutputName")
    destination: str | None = Field(default=None, alias="Destination")


class ProcessingJobSpec(JobSpec):
    """A processing job: a user script (``entry_point``, run with ``python``) or any
    ``command``, optionally in a container ``image``, with inputs, outputs and arguments.

    ``{input:NAME}`` and ``{output:NAME}`` in ``arguments`` are replaced by the local folders.
    """

    kind: Literal["processing"] = "processing"
    entry_point: str | None = None
    command: list[str] | None = None
    source_dir: str | None = None
    python: str | None = None
    image: str | None = Field(default=None, alias="ImageUri")
    arguments: list[str] = Field(default_factory=list, alias="ContainerArguments")
    inputs: list[ProcessingInput] = Field(default_factory=list, alias="ProcessingInputs")
    outputs: list[ProcessingOutput] = Field(default_factory=list, alias="ProcessingOutputs")
    metric_definitions: list[MetricDefinitionSpec] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    max_runtime_seconds: int | None = Field(default=None, ge=1, alias="MaxRuntimeInSeconds")

    @model_validator(mode="after")
    def _check(self) -> ProcessingJobSpec:
        if (self.entry_point is None) == (self.command is None):
            raise ValueError("a processing job needs exactly one of entry_point or command")
        if self.command is not None and not self.command:
            raise ValueError("command must not be empty")
        return self


