"""Checks on a tuning job before any trial runs (refused with a clear message)."""

from __future__ import annotations

from typing import Any

from mlyard.core.records import TERMINAL_STATUSES
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.tuning import ranges as rng
from mlyard.tuning.spec import TuningJobSpec


def _corners(spec: TuningJobSpec) -> list[dict[str, Any]]:
    """Two points of the search space: every range at its low end, then at its high end."""
    low: dict[str, Any] = {}
    high: dict[str, Any] = {}
    for name, r in spec.ranges.items():
        if isinstance(r, rng.CategoricalParameter):
            low[name], high[name] = r.values[0], r.values[-1]
        else:
            low[name], high[name] = r.min_value, r.max_value
    return [low, high]


def validate_tuning(ws: Workspace, spec: TuningJobSpec) -> None:
    """Ranges against the algorithm's declarations, the objective metric, the strategy's
    needs and the warm-start parents; :class:`ValidationError` on the first problem."""
    training = spec.training
    objective = spec.objective.metric_name
    if training.algorithm is not None:
        from mlyard.algorithms import get_algorithm

        algo = get_algorithm(training.algorithm)
        owner = f"algorithm {algo.name!r}"
        rng.validate_ranges(spec.ranges, algo.HYPERPARAMETERS, training.hyperparameters,
                            owner=owner)
        emitted = [m.name for m in algo.METRICS]
        if objective not in emitted:
            raise ValidationError(f"{owner} never emits the objective metric {objective!r}; "
                                  f"it emits: {', '.join(emitted)}")
        for point in _corners(spec):
            algo.resolve_hyperparameters({**training.hyperparameters, **point})
    else:
        rng.validate_ranges(spec.ranges, None, training.hyperparameters, owner="script")
        defined = [m.name for m in training.metric_definitions]
        if objective not in defined:
            raise ValidationError(
                f"the objective metric {objective!r} is not among the training job's metric "
                f"definitions ({', '.join(defined) or 'none'}); add one that parses it from "
                "the script's output")
    if spec.strategy == "Grid":
        rng.grid_space(spec.ranges)
    if spec.strategy == "Hyperband":
        from mlyard.tuning.driver import max_resource

        top = max_resource(spec)
        if top <= spec.hyperband_min_resource:
            raise ValidationError(
                f"Hyperband: the largest {spec.resource_parameter} ({top}) must be above the "
                f"minimum resource ({spec.hyperband_min_resource})")
    if spec.warm_start is not None:
        _check_parents(ws, spec)


def _check_parents(ws: Workspace, spec: TuningJobSpec) -> None:
    assert spec.warm_start is not None
    for parent in spec.warm_start.parents:
        try:
            record = ws.store.get_job(parent)
        except NotFoundError:
            raise ValidationError(f"warm start: no tuning job named {parent!r}") from None
        if record.job_type != "tuning":
            raise ValidationError(f"warm start: {parent!r} is a {record.job_type} job, "
                                  "not a tuning job")
        if record.status not in TERMINAL_STATUSES:
            raise ValidationError(f"warm start: parent {parent!r} is still "
                                  f"{record.status.value}; parents must have ended")
        if spec.warm_start.type != "IdenticalDataAndAlgorithm":
            continue
        parent_spec = TuningJobSpec.model_validate(record.spec)
        mine, theirs = spec.training, parent_spec.training
        for field in ("algorithm", "entry_point", "command", "channels"):
            if getattr(mine, field) != getattr(theirs, field):
                raise ValidationError(
                    f"warm start IdenticalDataAndAlgorithm: parent {parent!r} has a different "
                    f"{field} ({getattr(theirs, field)!r}); use TransferLearning")
