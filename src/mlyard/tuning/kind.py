"""The ``tuning`` job kind: a hyperparameter tuning job. Validation checks the training
template like a training job and then the tuning settings (:mod:`mlyard.tuning.validate`);
the run is the Optuna driver (:class:`~mlyard.tuning.driver.TuningDriver`) in the job's
process, whose trials are ordinary training jobs."""

from __future__ import annotations

from collections.abc import Sequence

from mlyard.core.context import JobContext
from mlyard.core.kinds import JobKind
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError
from mlyard.training.kind import TrainingKind
from mlyard.tuning.spec import TuningJobSpec


class TuningKind(JobKind[TuningJobSpec]):
    """A hyperparameter tuning job (see :class:`~mlyard.tuning.spec.TuningJobSpec`)."""

    name = "tuning"
    spec_type = TuningJobSpec

    def validate(self, ws: Workspace, spec: TuningJobSpec) -> None:
        from mlyard.tuning.validate import validate_tuning

        TrainingKind().validate(ws, spec.training)
        validate_tuning(ws, spec)

    def preload(self, spec: TuningJobSpec) -> Sequence[str]:
        return ["mlyard.tuning.driver"]

    def run(self, ctx: JobContext[TuningJobSpec]) -> dict[str, str]:
        from mlyard.tuning.driver import TuningDriver

        spec, log = ctx.spec, ctx.log
        log.write(f"tuning job {ctx.name}: trials are training jobs {ctx.name[:58]}-NNN")
        driver = TuningDriver(ctx.ws, ctx.name, spec, log, ctx.stop)
        summary = driver.run()
        outputs = dict(driver.outputs)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items()))
        if summary["best"] is None:
            raise MlyardError(f"no trial completed with an objective value ({counts})")
        outputs["best_training_job"] = summary["best"].training_job
        log.write(f"tuning done: {counts}; {summary['early_stopped']} stopped early; best "
                  f"{summary['best'].training_job} {spec.objective.metric_name}="
                  f"{summary['best'].objective:.6g} with {summary['best'].hyperparameters}")
        return outputs
