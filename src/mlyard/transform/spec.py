"""The batch transform job's spec: a registered model run over a file or folder
(SageMaker's CreateTransformJob)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlyard.core.specs import JobSpec
from mlyard.transform.engine import TransformOptions


class TransformJobSpec(JobSpec):
    """A batch transform job: run a registered model over a file or folder.

    ``output`` is a folder (one ``<input file>.out`` per input file, as SageMaker) or, when
    the input is one file and ``output`` ends in ``.jsonl``/``.json``/``.csv``, that file.
    """

    kind: Literal["transform"] = "transform"
    model_name: str = Field(alias="ModelName")
    input: str = Field(alias="TransformInput")
    output: str | None = Field(default=None, alias="TransformOutput")
    options: TransformOptions = Field(default_factory=TransformOptions)


