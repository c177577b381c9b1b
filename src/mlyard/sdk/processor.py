"""``Processor``: run a processing job (your script or any command), SageMaker style.

>>> proc = mlyard.Processor(entry_point="prep.py", source_dir="code/")
>>> job = proc.run(inputs={"raw": "data/raw.csv"}, outputs=["train", "test"],
...                arguments=["--split", "0.9"], job_name="prep-1")
>>> job.outputs["train"]          # where output/train was stored

Inside the job the script finds its inputs under ``{input:NAME}`` (also
``MLYARD_INPUT_<NAME>``) and writes each output to ``{output:NAME}`` (also
``MLYARD_OUTPUT_<NAME>``); ``{input:NAME}``/``{output:NAME}`` in ``arguments`` are replaced by
those folders. SageMaker's flat names are accepted where they differ: ``image_uri``,
``env``, ``max_runtime_in_seconds``, and ``code=`` in :meth:`Processor.run` for the script.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.core.specs import MetricDefinitionSpec
from mlyard.core.workspace import Workspace, default_workspace
from mlyard.errors import ValidationError, problem_text
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput
from mlyard.sdk.jobs import ProcessingJob


class Processor:
    """Runs ``entry_point`` (a script, with ``python`` or the job's interpreter) or
    ``command`` (any program), optionally in the container ``image_uri``."""

    def __init__(self, *, entry_point: str | None = None, command: Sequence[str] | None = None,
                 source_dir: str | None = None, python: str | None = None,
                 image_uri: str | None = None, env: Mapping[str, str] | None = None,
                 max_runtime_in_seconds: int | None = None,
                 metric_definitions: Sequence[Mapping[str, str]] | None = None,
                 workspace: Workspace | None = None) -> None:
        self.entry_point = entry_point
        self.command = list(command) if command is not None else None
        self.source_dir = source_dir
        self.python = python
        self.image_uri = image_uri
        self.env = dict(env or {})
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.metric_definitions = [dict(m) for m in metric_definitions or []]
        self.workspace = workspace or default_workspace()
        self.latest_job: ProcessingJob | None = None

    def spec(self, inputs: Mapping[str, str | Path] | Sequence[ProcessingInput] = (),
             outputs: Sequence[str | ProcessingOutput] | Mapping[str, str | None] = (),
             arguments: Sequence[str] = (), code: str | None = None) -> ProcessingJobSpec:
        """The processing job spec :meth:`run` would submit."""
        entry_point = code if code is not None else self.entry_point
        if code is not None and self.entry_point is not None and code != self.entry_point:
            raise ValidationError(f"code={code!r} and entry_point={self.entry_point!r} "
                                  "differ; give one")
        ins = (list(inputs) if not isinstance(inputs, Mapping) else
               [ProcessingInput(name=k, source=str(v)) for k, v in inputs.items()])
        if isinstance(outputs, Mapping):
            outs = [ProcessingOutput(name=k, destination=v) for k, v in outputs.items()]
        else:
            outs = [o if isinstance(o, ProcessingOutput) else ProcessingOutput(name=o)
                    for o in outputs]
        try:
            return ProcessingJobSpec(
                entry_point=entry_point, command=self.command, source_dir=self.source_dir,
                python=self.python, image=self.image_uri, arguments=[str(a) for a in arguments],
                inputs=ins, outputs=outs, environment=self.env,
                max_runtime_seconds=self.max_runtime_in_seconds,
                metric_definitions=[MetricDefinitionSpec(**m) for m in self.metric_definitions])
        except ValueError as exc:
            raise ValidationError(f"invalid processing job: {problem_text(exc)}") from None

    def run(self, inputs: Mapping[str, str | Path] | Sequence[ProcessingInput] = (),
            outputs: Sequence[str | ProcessingOutput] | Mapping[str, str | None] = (),
            arguments: Sequence[str] = (), *, code: str | None = None,
            job_name: str | None = None, wait: bool = True,
            logs: bool = False) -> ProcessingJob:
        """Start the processing job; with ``wait`` block until it ends (raising
        :class:`~mlyard.errors.JobFailedError` unless it Completed)."""
        spec = self.spec(inputs, outputs, arguments, code)
        stem = Path(spec.entry_point).stem if spec.entry_point else "processing"
        name = job_name or unique_job_name(stem)
        submit_job(self.workspace, spec, name)
        self.latest_job = ProcessingJob(self.workspace, name)
        if wait:
            self.latest_job.wait(logs=logs)
        return self.latest_job
