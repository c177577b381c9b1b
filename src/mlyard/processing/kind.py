"""The ``processing`` job kind: validation before submission and the run in the job
process (stage inputs, run the script or command, store the outputs after it succeeded)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from mlyard.core.context import JobContext
from mlyard.core.jobs import check_local_input, script_path
from mlyard.core.kinds import JobKind
from mlyard.core.workspace import Workspace
from mlyard.processing.spec import ProcessingJobSpec


class ProcessingKind(JobKind[ProcessingJobSpec]):
    """A processing job (see :class:`~mlyard.processing.spec.ProcessingJobSpec`)."""

    name = "processing"
    spec_type = ProcessingJobSpec

    def validate(self, ws: Workspace, spec: ProcessingJobSpec) -> None:
        if spec.entry_point is not None and spec.image is None:
            check_local_input("entry point", script_path(spec.entry_point, spec.source_dir))
        if spec.image is not None:
            from mlyard.training.container import container_runtime

            container_runtime()
        for inp in spec.inputs:
            check_local_input(f"input {inp.name!r}", inp.source)

    def preload(self, spec: ProcessingJobSpec) -> Sequence[str]:
        return ["mlyard.training.script_mode"]

    def run(self, ctx: JobContext[ProcessingJobSpec]) -> dict[str, str]:
        from mlyard.training.script_mode import run_command, stage_channel

        spec = ctx.spec
        root = ctx.staging / "processing"
        env = {"MLYARD_JOB_NAME": ctx.name, "PROCESSING_JOB_NAME": ctx.name}
        replacements: dict[str, str] = {}
        for inp in spec.inputs:
            dest = stage_channel(ctx.resolve_input(inp.source, f"input {inp.name!r}"),
                                 root / "input" / inp.name)
            replacements[f"{{input:{inp.name}}}"] = str(dest)
            env[f"MLYARD_INPUT_{inp.name.upper().replace('-', '_')}"] = str(dest)
        for out in spec.outputs:
            dest = root / "output" / out.name
            dest.mkdir(parents=True, exist_ok=True)
            replacements[f"{{output:{out.name}}}"] = str(dest)
            env[f"MLYARD_OUTPUT_{out.name.upper().replace('-', '_')}"] = str(dest)
        args = []
        for arg in spec.arguments:
            for key, value in replacements.items():
                arg = arg.replace(key, value)
            args.append(arg)
        env.update(spec.environment)
        if spec.entry_point is not None:
            script = (Path(spec.source_dir or ".") / spec.entry_point).resolve()
            python = spec.python or ("python" if spec.image else sys.executable)
            command, cwd = [python, str(script), *args], script.parent
        else:
            assert spec.command is not None
            command, cwd = [*spec.command, *args], Path(spec.source_dir or ".").resolve()
        if spec.image is not None:
            from mlyard.training.container import container_command, container_runtime

            mounts = [root, cwd, *(Path(v) for v in replacements.values())]
            command = container_command(container_runtime(), spec.image, command, env,
                                        mounts, cwd)
        run_command(command, env, cwd=cwd, on_line=ctx.log.write, should_stop=ctx.stop)
        outputs: dict[str, str] = {}
        for out in spec.outputs:
            local = root / "output" / out.name
            if out.destination and "://" not in out.destination:
                dest = Path(out.destination).resolve()
                dest.parent.mkdir(parents=True, exist_ok=True)
                outputs[out.name] = ctx.ws.artifacts.upload(local, dest.as_uri())
            elif out.destination:
                outputs[out.name] = ctx.ws.artifacts.upload(local, out.destination)
            else:
                outputs[out.name] = ctx.store_output(local, "output", out.name)
        return outputs
