"""The spec base every typed spec derives from, the job-spec base, and the pieces several job
kinds share (channels, metric definitions, resources, the job-name rule).

A spec is what a user asks for (pydantic, frozen, unknown fields refused). Job specs are
stored as JSON with the job, in their Python (snake_case) field names, and read back by
the job runner in the job's own process. Each job kind's spec lives in the kind's package
(``training/spec.py``, ``processing/spec.py``, ...).

**One alias policy for every spec**: each field also has SageMaker's PascalCase name, the
explicit ``Field(alias=...)`` where SageMaker's API names it differently
(``HyperParameters``, ``MaxRuntimeInSeconds``, ...) and the field name in PascalCase
otherwise (``instance_count`` -> ``InstanceCount``). Specs parse from either spelling and
print in SageMaker's with ``to_sagemaker()`` (``model_dump(by_alias=True)``).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mlyard.errors import ValidationError

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


def pascal_case(name: str) -> str:
    """``max_runtime_seconds`` -> ``MaxRuntimeSeconds`` (the default SageMaker-style alias)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class Spec(BaseModel):
    """Base of every spec: frozen, unknown fields refused, parsed from snake_case or
    SageMaker's PascalCase names (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=pascal_case,
                              validate_by_name=True, validate_by_alias=True,
                              loc_by_alias=False)

    def to_sagemaker(self) -> dict[str, Any]:
        """The spec as JSON-ready data in SageMaker's (PascalCase) names."""
        return self.model_dump(mode="json", by_alias=True)


class JobSpec(Spec):
    """Base of every job kind's spec: ``kind`` names the :class:`~mlyard.core.kinds.JobKind`
    that runs it (subclasses narrow it to a ``Literal``)."""

    kind: str


class Channel(Spec):
    """A named input: a local path or artifact URI to a file or folder."""

    name: str = Field(alias="ChannelName")
    uri: str = Field(alias="Uri")
    content_type: str | None = Field(default=None, alias="ContentType")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CHANNEL_NAME_RE.match(v):
            raise ValueError(f"invalid channel name {v!r}")
        return v


class MetricDefinitionSpec(Spec):
    """A metric parsed from log lines: the regex's first group is the value."""

    name: str = Field(alias="Name")
    regex: str = Field(alias="Regex")

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


class ResourceConfig(Spec):
    """How much of the machine a job gets. ``instance_count`` hosts (simulated on this
    machine as ``algo-1``, ``algo-2``, ... or Ray workers on a cluster); ``num_threads`` 0
    means all cores (shared by the job's processes); ``device`` is ``auto`` (CUDA when
    present), ``cpu`` or ``cuda``."""

    instance_count: int = Field(default=1, ge=1, le=64)
    num_threads: int = Field(default=0, ge=0, le=1024)
    device: Literal["auto", "cpu", "cuda"] = "auto"
