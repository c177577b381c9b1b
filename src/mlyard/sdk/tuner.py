"""``HyperparameterTuner``: tune an :class:`~mlyard.sdk.estimator.Estimator`, SageMaker style.

>>> est = mlyard.Estimator("blazingtext", hyperparameters={"epochs": 10})
>>> tuner = mlyard.HyperparameterTuner(
...     est, "validation:accuracy",
...     {"learning_rate": mlyard.ContinuousParameter(min_value=0.01, max_value=1.0,
...                                                  scaling="Logarithmic"),
...      "word_ngrams": mlyard.IntegerParameter(min_value=1, max_value=3)},
...     strategy="Bayesian", max_jobs=20, max_parallel_jobs=2, early_stopping_type="Auto")
>>> tuner.fit({"train": "train.csv", "validation": "val.csv"}, job_name="tune-1")
>>> tuner.best_training_job(); tuner.analytics().dataframe(); tuner.deploy("reviews")
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlyard.core.jobs import submit_job, unique_job_name, wait_for_job
from mlyard.core.records import JobRecord
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError, problem_text
from mlyard.sdk.estimator import Estimator
from mlyard.sdk.model import Model
from mlyard.sdk.progress import JobProgress
from mlyard.tuning.ranges import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
)
from mlyard.tuning.spec import TuningJobSpec, TuningObjective, WarmStartConfig


def _choice(what: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` in its documented (SageMaker's) casing, matched in any case, as the CLI's
    choices are; a ValidationError listing ``allowed`` otherwise."""
    for option in allowed:
        if isinstance(value, str) and value.lower() == option.lower():
            return option
    raise ValidationError(f"{what} must be one of {', '.join(allowed)} (any case), "
                          f"got {value!r}")


def tuning_detail(ws: Workspace, record: JobRecord) -> str:
    """``trials 4/10 done, 2 running, best validation:accuracy=0.91``: the progress line's
    detail for a tuning job, from its stored trials."""
    from mlyard.tuning.store import TrialStore

    trials = TrialStore.of(ws.store).list_trials(record.name)
    objective = record.spec.get("objective") or {}
    done = sum(1 for t in trials if t.status.terminal)
    running = sum(1 for t in trials if not t.status.terminal)
    text = f"trials {done}/{record.spec.get('max_jobs', '?')} done, {running} running"
    scores = [t.objective for t in trials if t.objective is not None]
    if scores:
        best = min(scores) if objective.get("type") == "Minimize" else max(scores)
        text += f", best {objective.get('metric_name', 'objective')}={best:.4g}"
    return text


class TuningJobAnalytics:
    """SageMaker's ``HyperparameterTuningJobAnalytics``: every trial as a DataFrame."""

    def __init__(self, tuner: HyperparameterTuner, name: str) -> None:
        self._tuner = tuner
        self.name = name

    def dataframe(self) -> Any:
        """One row per trial: tuned hyperparameters, status, final objective, times."""
        from mlyard.tuning.analytics import trial_rows
        from mlyard.tuning.report import analytics_frame

        return analytics_frame(trial_rows(self._tuner.estimator.workspace, self.name))

    def report(self, path: str | Path) -> Path:
        """Write the HTML report (objective over time, parallel coordinates, importance)."""
        from mlyard.tuning.analytics import trial_rows
        from mlyard.tuning.report import write_report

        spec = self._tuner.spec_of(self.name)
        return write_report(trial_rows(self._tuner.estimator.workspace, self.name), Path(path),
                            title=f"tuning job {self.name}",
                            objective=spec.objective.metric_name,
                            direction=spec.objective.type)


class HyperparameterTuner:
    """Runs a tuning job over ``estimator``'s training job (see the module docstring).

    ``strategy``: ``Random``, ``Grid``, ``Bayesian`` (``bayesian_sampler="gp"`` for a
    Gaussian process) or ``Hyperband``; ``early_stopping_type``: ``Off`` or ``Auto``;
    ``warm_start_config``: a :class:`~mlyard.tuning.spec.WarmStartConfig` or
    ``{"parents": [...], "type": "TransferLearning"}``.
    """

    def __init__(self, estimator: Estimator, objective_metric_name: str,
                 hyperparameter_ranges: Mapping[str, ParameterRange], *,
                 objective_type: str = "Maximize", strategy: str = "Bayesian",
                 max_jobs: int = 10, max_parallel_jobs: int = 1,
                 early_stopping_type: str = "Off",
                 warm_start_config: WarmStartConfig | Mapping[str, Any] | None = None,
                 bayesian_sampler: str = "tpe", seed: int = 0) -> None:
        if estimator.algorithm is None and estimator.entry_point is None \
                and estimator.command is None:
            raise ValidationError("HyperparameterTuner needs an Estimator")
        self.estimator = estimator
        self.objective_metric_name = objective_metric_name
        for key, rng in dict(hyperparameter_ranges).items():
            if not isinstance(rng, ContinuousParameter | IntegerParameter
                              | CategoricalParameter):
                raise ValidationError(
                    f"hyperparameter range {key!r}: must be a ContinuousParameter, "
                    f"IntegerParameter or CategoricalParameter, not {type(rng).__name__} "
                    "(a fixed value goes in the Estimator's hyperparameters)")
        self.hyperparameter_ranges = dict(hyperparameter_ranges)
        self.objective_type = _choice("objective_type", objective_type,
                                      ("Maximize", "Minimize"))
        self.strategy = _choice("strategy", strategy,
                                ("Random", "Grid", "Bayesian", "Hyperband"))
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.early_stopping_type = _choice("early_stopping_type", early_stopping_type,
                                           ("Off", "Auto"))
        if warm_start_config is not None and not isinstance(warm_start_config,
                                                            WarmStartConfig):
            try:
                warm_start_config = WarmStartConfig(**dict(warm_start_config))
            except ValueError as exc:
                raise ValidationError(f"warm_start_config: {problem_text(exc)}") from None
        self.warm_start_config = warm_start_config
        self.bayesian_sampler = bayesian_sampler
        self.seed = seed
        self.latest_tuning_job: str | None = None

    def spec(self, inputs: Mapping[str, str | Path]) -> TuningJobSpec:
        """The tuning job spec :meth:`fit` would submit."""
        try:
            return TuningJobSpec(
                training=self.estimator.spec(inputs), ranges=self.hyperparameter_ranges,
                objective=TuningObjective(metric_name=self.objective_metric_name,
                                          type=self.objective_type),  # type: ignore[arg-type]
                strategy=self.strategy,  # type: ignore[arg-type]
                bayesian_sampler=self.bayesian_sampler,  # type: ignore[arg-type]
                max_jobs=self.max_jobs, max_parallel_jobs=self.max_parallel_jobs,
                early_stopping=self.early_stopping_type,  # type: ignore[arg-type]
                warm_start=self.warm_start_config, seed=self.seed)
        except ValueError as exc:
            raise ValidationError(f"invalid tuning job: {problem_text(exc)}") from None

    def spec_of(self, name: str) -> TuningJobSpec:
        from mlyard.tuning.analytics import tuning_spec

        return tuning_spec(self.estimator.workspace, name)

    def fit(self, inputs: Mapping[str, str | Path] | str | Path, *,
            job_name: str | None = None, wait: bool = True, progress: bool = True) -> str:
        """Start the tuning job (and wait for it unless ``wait=False``, showing a progress
        line of trials done, running and the best objective so far unless
        ``progress=False``); returns its name."""
        channels = inputs if isinstance(inputs, Mapping) else {"train": inputs}
        stem = self.estimator.algorithm or Path(self.estimator.entry_point or "job").stem
        name = job_name or unique_job_name(f"tune-{stem}")
        submit_job(self.estimator.workspace, self.spec(channels), name)
        self.latest_tuning_job = name
        if wait:
            self.wait(progress=progress)
        return name

    def _name(self) -> str:
        if self.latest_tuning_job is None:
            raise ValidationError("fit() has not been called")
        return self.latest_tuning_job

    def wait(self, timeout: float | None = None, progress: bool = False) -> None:
        """Block until the tuning job ends (JobFailedError if it Failed/Stopped); with
        ``progress`` show its progress line meanwhile."""
        ws, name = self.estimator.workspace, self._name()
        show = JobProgress(ws, name, detail=tuning_detail) if progress else None
        wait_for_job(ws, name, timeout=timeout, on_poll=show)

    def describe(self) -> dict[str, Any]:
        from mlyard.tuning.analytics import describe_tuning

        return describe_tuning(self.estimator.workspace, self._name())

    def best_training_job(self) -> str:
        """The name of the training job with the best final objective."""
        best = self.describe()["BestTrainingJob"]
        if best is None:
            raise ValidationError(f"tuning job {self._name()!r} has no completed trial yet")
        return str(best["TrainingJobName"])

    def best_estimator_model(self) -> Model:
        """The best trial's model."""
        return Model(self.best_training_job(), workspace=self.estimator.workspace)

    def analytics(self) -> TuningJobAnalytics:
        return TuningJobAnalytics(self, self._name())

    def deploy(self, endpoint_name: str, **kwargs: Any) -> Any:
        """Deploy the best trial's model to a real-time endpoint (a Predictor)."""
        return self.best_estimator_model().deploy(endpoint_name, **kwargs)

    def stop(self) -> None:
        """Stop the tuning job and its running trials."""
        from mlyard.tuning.control import stop_tuning

        stop_tuning(self.estimator.workspace, self._name())


__all__ = ["CategoricalParameter", "ContinuousParameter", "HyperparameterTuner",
           "IntegerParameter", "TuningJobAnalytics"]
