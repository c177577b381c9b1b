"""The ``pipeline`` job's spec: which pipeline execution its driver runs, and how many of
the execution's steps may run at once."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field

from mlyard.core.specs import JobSpec


def default_parallelism() -> int:
    """Steps running at once unless told: the CPU count, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


class PipelineExecutionJobSpec(JobSpec):
    """The driver job of pipeline execution ``execution_id`` (the execution, its
    definition and parameters are in the pipelines' store)."""

    kind: Literal["pipeline"] = "pipeline"
    execution_id: str = Field(alias="PipelineExecutionId")
    parallelism: int | None = Field(default=None, ge=1, le=256, alias="MaxParallelExecutionSteps")
