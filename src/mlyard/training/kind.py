"""The ``training`` job kind: validation before submission, the run in the job process
(:class:`~mlyard.training.run.TrainingRun`, then storing the model and registering it) and
the fields it adds to ``describe_job`` (SageMaker's training times, the spot saving and the
Debugger/Profiler rule statuses)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from shutil import which
from typing import Any

from mlyard.core.context import JobContext
from mlyard.core.jobs import check_local_input, script_path
from mlyard.core.kinds import JobKind
from mlyard.core.records import JobRecord
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.training.rule_store import RuleStore
from mlyard.training.run import TIME_METRICS, TrainingRun, spot_saving_percent
from mlyard.training.spec import TrainingJobSpec


class TrainingKind(JobKind[TrainingJobSpec]):
    """A training job: a built-in algorithm, a script or a command (see
    :class:`~mlyard.training.spec.TrainingJobSpec`)."""

    name = "training"
    spec_type = TrainingJobSpec

    def validate(self, ws: Workspace, spec: TrainingJobSpec) -> None:
        if spec.algorithm is not None:
            from mlyard.algorithms import get_algorithm

            algo = get_algorithm(spec.algorithm)
            algo.resolve_hyperparameters(spec.hyperparameters)
            algo.check_channels({c.name: c.uri for c in spec.channels})
            if spec.world_size > 1 and not algo.SUPPORTS_DISTRIBUTED:
                raise ValidationError(
                    f"algorithm {algo.name!r} trains in one process; it does not support "
                    f"instance_count/processes_per_host > 1 (asked for {spec.world_size})")
        elif spec.entry_point is not None and spec.image is None:
            check_local_input("entry point", script_path(spec.entry_point, spec.source_dir))
        if spec.image is not None:
            from mlyard.training.container import container_runtime

            container_runtime()
        if spec.python is not None and not Path(spec.python).exists() \
                and which(spec.python) is None:
            raise ValidationError(f"python interpreter {spec.python!r} not found")
        names = [c.name for c in spec.channels]
        if len(set(names)) != len(names):
            raise ValidationError(f"duplicate channel names: {names}")
        for channel in spec.channels:
            check_local_input(f"channel {channel.name!r}", channel.uri)

    def preload(self, spec: TrainingJobSpec) -> Sequence[str]:
        modules = ["mlyard.training.run"]
        if spec.algorithm is not None:
            from mlyard.algorithms import available_algorithms

            target = available_algorithms().get(spec.algorithm.lower())
            if target is not None:
                modules.append(target.partition(":")[0])
                from mlyard.algorithms import get_algorithm

                modules.extend(get_algorithm(spec.algorithm).PRELOAD)
        return modules

    def run(self, ctx: JobContext[TrainingJobSpec]) -> dict[str, str]:
        layout = TrainingRun(ctx.ws, ctx.name, ctx.spec, ctx.log, ctx.stop, ctx.staging,
                             ctx.scratch).execute()
        return finish_training(ctx, layout, ctx.spec.algorithm or "script")

    def describe(self, ws: Workspace, record: JobRecord,
                 final_metrics: dict[str, float]) -> dict[str, Any]:
        # SageMaker's DescribeTrainingJob has these at the top level, not as metrics
        times = {key: final_metrics.pop(key) for key in TIME_METRICS if key in final_metrics}
        extra: dict[str, Any] = dict(times)
        if "SpotInterruptions" in times and times.get("TrainingTimeInSeconds"):
            count = int(record.spec.get("resources", {}).get("instance_count", 1) or 1)
            extra["ManagedSpotTrainingSavingsPercent"] = round(spot_saving_percent(
                times["TrainingTimeInSeconds"], times["BillableTimeInSeconds"], count), 1)
        rules = RuleStore.of(ws.store).get_rule_statuses(record.name)
        if rules:
            for kind, key in (("debugger", "DebugRuleEvaluationStatuses"),
                              ("profiler", "ProfilerRuleEvaluationStatuses")):
                extra[key] = [{"RuleConfigurationName": r.rule_name,
                               "RuleEvaluationStatus": r.status.value,
                               "StatusDetails": r.message, "Step": r.step,
                               "LastModifiedTime": r.updated_at}
                              for r in rules if r.kind == kind]
        return extra


def finish_training(ctx: JobContext[TrainingJobSpec], layout: Any, flavor: str) -> dict[str, str]:
    """Store the model and output folders and register the model.

    A script-mode model without a manifest whose folder has ``code/inference.py``, or
    whose training script's folder has an ``inference.py`` (copied to
    ``code/inference.py``, as SageMaker's ``PyTorchModel(entry_point="inference.py")``
    packs it), gets a ``pytorch-handler`` manifest (:mod:`mlyard.models.handler`), so it
    serves through SageMaker's ``model_fn``/``input_fn``/``predict_fn``/``output_fn``.
    """
    from mlyard.models import MANIFEST_NAME, read_manifest

    if flavor == "script" and not (layout.model_dir / MANIFEST_NAME).exists():
        _add_inference_handler(ctx.spec, layout.model_dir)
    metadata: dict[str, Any] = {}
    if (layout.model_dir / MANIFEST_NAME).exists():
        manifest = read_manifest(layout.model_dir)
        flavor = manifest.flavor
        metadata = {"task": manifest.task, "labels": manifest.labels}
    elif flavor != "script":
        raise ValidationError(f"algorithm {flavor!r} wrote no model manifest")
    try:
        ctx.ws.store.get_model(ctx.name)
        raise ConflictError(f"a model named {ctx.name!r} already exists")
    except NotFoundError:
        pass
    model_uri = ctx.store_output(layout.model_dir, "model")
    output_uri = ctx.store_output(layout.output_dir, "output")
    ctx.ws.store.create_model(ctx.name, model_uri, flavor, job_name=ctx.name,
                              metadata=metadata)
    return {"model": model_uri, "output": output_uri}


def _add_inference_handler(spec: TrainingJobSpec, model_dir: Path) -> None:
    """Write a handler manifest when the script model comes with an ``inference.py``."""
    from mlyard.models import write_manifest
    from mlyard.models.handler import SCRIPT, handler_manifest

    target = model_dir / SCRIPT
    if not target.is_file():
        source = (Path(spec.source_dir or ".") / (spec.entry_point or "")).parent.resolve()
        found = source / "inference.py"
        if not found.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(found, target)
    write_manifest(model_dir, handler_manifest())
