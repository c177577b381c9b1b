"""The ``transform`` job kind: validation before submission (the model is registered, the
input exists) and the run in the job process (the batch transform engine, then the output
moved to its destination)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from mlyard.core.context import JobContext
from mlyard.core.jobs import check_local_input
from mlyard.core.kinds import JobKind
from mlyard.core.workspace import Workspace
from mlyard.transform.spec import TransformJobSpec


class TransformKind(JobKind[TransformJobSpec]):
    """A batch transform job (see :class:`~mlyard.transform.spec.TransformJobSpec`)."""

    name = "transform"
    spec_type = TransformJobSpec

    def validate(self, ws: Workspace, spec: TransformJobSpec) -> None:
        ws.store.get_model(spec.model_name)
        check_local_input("transform input", spec.input)

    def preload(self, spec: TransformJobSpec) -> Sequence[str]:
        return ["mlyard.transform.engine"]

    def run(self, ctx: JobContext[TransformJobSpec]) -> dict[str, str]:
        from mlyard.transform.engine import run_transform

        spec, ws = ctx.spec, ctx.ws
        model = ws.store.get_model(spec.model_name)
        model_dir = ws.artifacts.materialize(model.uri, ws.cache_dir)
        source = ctx.resolve_input(spec.input, "transform input")
        target = spec.output or ws.artifacts.uri("jobs", ctx.name, "output")
        single_file = (source.is_file() and "://" not in target
                       and Path(target).suffix.lower() in {".jsonl", ".json", ".csv", ".out"})
        if single_file:
            # parts live beside the target so that a re-run into the same file resumes
            out_dir = Path(target).resolve().parent / f".{Path(target).name}.transform"
        elif "://" in target and ws.artifacts.local_path(target) is None:
            out_dir = ctx.staging / "transform-output"
        else:
            out_dir = ws.artifacts.local_path(target) or Path(target)
            out_dir = out_dir.resolve()
        result = run_transform(model_dir, source, out_dir, spec.options, log=ctx.log.write,
                               should_stop=ctx.stop)
        ctx.log.write(f"transform done: {result}")
        if single_file:
            produced = out_dir / f"{source.name}.out"
            final = Path(target).resolve()
            os.replace(produced, final)
            shutil.rmtree(out_dir, ignore_errors=True)
            return {"output": final.as_uri()}
        if "://" in target and ws.artifacts.local_path(target) is None:
            return {"output": ws.artifacts.upload(out_dir, target)}
        return {"output": out_dir.as_uri()}
