"""The hyperparameter tuning job's spec: a training template, parameter ranges, the
objective, the strategy and its limits (SageMaker's CreateHyperParameterTuningJob)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlyard.core.specs import JobSpec, Spec
from mlyard.training.spec import TrainingJobSpec
from mlyard.tuning.ranges import ParameterRange


class TuningObjective(Spec):
    """The metric a tuning job optimizes (any metric its training jobs report: an
    algorithm's declared metric or a script's metric definition) and its direction."""

    metric_name: str = Field(alias="MetricName")
    type: Literal["Maximize", "Minimize"] = Field(default="Maximize", alias="Type")


class WarmStartConfig(Spec):
    """Reuse up to 5 parent tuning jobs' trials to seed the search.
    ``IdenticalDataAndAlgorithm``: same algorithm/script and channels, the parents' trials
    count as evaluated points; ``TransferLearning``: data, ranges or static hyperparameters
    may differ (parents' trials inside the new ranges seed the search)."""

    parents: list[str] = Field(min_length=1, max_length=5,
                               alias="ParentHyperParameterTuningJobs")
    type: Literal["IdenticalDataAndAlgorithm", "TransferLearning"] = Field(
        default="IdenticalDataAndAlgorithm", alias="WarmStartType")


class TuningJobSpec(JobSpec):
    """A hyperparameter tuning job: ``training`` is the template every trial runs with its
    static hyperparameters, plus values drawn from ``ranges``.

    Strategies: ``Random``, ``Grid`` (categorical and integer ranges), ``Bayesian`` (TPE,
    or a Gaussian process with ``bayesian_sampler="gp"``) and ``Hyperband`` (trials report
    the objective each epoch; poor ones stop at rungs of ``resource_parameter``).
    ``early_stopping="Auto"`` stops trials whose intermediate objective falls below the
    median of earlier trials at the same epoch."""

    kind: Literal["tuning"] = "tuning"
    training: TrainingJobSpec = Field(alias="TrainingJobDefinition")
    ranges: dict[str, ParameterRange] = Field(alias="ParameterRanges")
    objective: TuningObjective = Field(alias="HyperParameterTuningJobObjective")
    strategy: Literal["Random", "Grid", "Bayesian", "Hyperband"] = "Bayesian"
    bayesian_sampler: Literal["tpe", "gp"] = "tpe"
    max_jobs: int = Field(default=10, ge=1, le=10_000, alias="MaxNumberOfTrainingJobs")
    max_parallel_jobs: int = Field(default=1, ge=1, le=256, alias="MaxParallelTrainingJobs")
    early_stopping: Literal["Off", "Auto"] = Field(default="Off",
                                                   alias="TrainingJobEarlyStoppingType")
    warm_start: WarmStartConfig | None = Field(default=None, alias="WarmStartConfig")
    seed: int = 0
    resource_parameter: str = "epochs"
    hyperband_min_resource: int = Field(default=1, ge=1)
    hyperband_reduction_factor: int = Field(default=3, ge=2)
    max_runtime_seconds: int | None = Field(default=None, ge=1, alias="MaxRuntimeInSeconds")

    @model_validator(mode="after")
    def _check(self) -> TuningJobSpec:
        if self.max_parallel_jobs > self.max_jobs:
            raise ValueError(f"max_parallel_jobs ({self.max_parallel_jobs}) is more than "
                             f"max_jobs ({self.max_jobs})")
        if not self.ranges:
            raise ValueError("a tuning job needs at least one hyperparameter range")
        if self.training.use_spot or self.training.world_size > 1:
            raise ValueError("tuning trials run as single-process, on-demand training jobs")
        return self


