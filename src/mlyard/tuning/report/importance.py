"""Which tuned hyperparameters mattered: Optuna's fANOVA importance over a job's completed
trials (:func:`parameter_importance`). Optuna is imported when importance is computed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlyard.tuning.report.trials import (
    COMPLETED,
    LOG_RATIO,
    TrialRow,
    by_number,
    is_number,
    maximize_direction,
    param_names,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution


def _choice(value: Any) -> bool | int | float | str | None:
    """``value`` as a choice optuna's CategoricalDistribution accepts."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def infer_distribution(values: Sequence[Any]) -> tuple[BaseDistribution, list[Any]]:
    """The optuna distribution inferred from the values seen, and the values converted for it:
    all integers -> IntDistribution, all numbers -> FloatDistribution (both log-scaled when
    min > 0 and max/min >= 100), anything else -> CategoricalDistribution."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if all(is_number(v) for v in values):
        ints = all(isinstance(v, numbers.Integral) for v in values)
        converted: list[Any] = [int(v) if ints else float(v) for v in values]
        if ints or all(math.isfinite(v) for v in converted):
            low, high = min(converted), max(converted)
            use_log = low > 0 and high / low >= LOG_RATIO
            if ints:
                return IntDistribution(low, high, log=use_log), converted
            return FloatDistribution(low, high, log=use_log), converted
    choices = [_choice(v) for v in values]
    unique = list(dict.fromkeys(choices))
    return CategoricalDistribution(unique), choices


def importance_with_reason(
    rows: Sequence[TrialRow], direction: str
) -> tuple[dict[str, float], str]:
    """Importances (see :func:`parameter_importance`) and, when empty, why."""
    maximize = maximize_direction(direction)
    trials = [
        r
        for r in by_number(rows)
        if r.status == COMPLETED and not r.is_warm_start and r.value is not None
    ]
    if len(trials) < 2:
        return {}, (
            f"parameter importance needs at least 2 completed trials with an objective value; "
            f"this job has {len(trials)}"
        )
    names = [n for n in param_names(trials) if all(n in t.hyperparameters for t in trials)]
    if not names:
        return {}, "no tuned hyperparameter is set in every completed trial"
    values = {n: [t.hyperparameters[n] for t in trials] for n in names}
    varying = [n for n in names if len({repr(_choice(v)) for v in values[n]}) > 1]
    constant = [n for n in names if n not in varying]
    if not varying:
        return {}, "every completed trial used the same hyperparameter values"
    objectives = [t.value for t in trials]
    if len(set(objectives)) < 2:
        return {}, "every completed trial reached the same objective value"

    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    inferred = {n: infer_distribution(values[n]) for n in varying}
    distributions = {n: dist for n, (dist, _) in inferred.items()}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize" if maximize else "minimize")
        study.add_trials(
            [
                optuna.trial.create_trial(
                    value=objectives[i],
                    params={n: inferred[n][1][i] for n in varying},
                    distributions=distributions,
                )
                for i in range(len(trials))
            ]
        )
        raw = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    finally:
        optuna.logging.set_verbosity(verbosity)
    result = {n: float(raw.get(n, 0.0)) for n in varying}
    total = sum(result.values())
    if total > 0:
        result = {n: v / total for n, v in result.items()}
    else:  # optuna spreads evenly when fANOVA finds nothing; keep that
        result = {n: 1.0 / len(varying) for n in varying}
    ranked = sorted(result.items(), key=lambda item: (-item[1], names.index(item[0])))
    return {**dict(ranked), **dict.fromkeys(constant, 0.0)}, ""


def parameter_importance(rows: Sequence[TrialRow], direction: str) -> dict[str, float]:
    """Importance of each tuned hyperparameter for the objective, most important first.

    Computed over this job's Completed trials with a finite objective (warm-start trials
    excluded) by Optuna's ``get_param_importances`` with ``FanovaImportanceEvaluator(seed=0)``
    on an in-memory study built from the rows. Distributions are inferred from the values seen
    (see :func:`infer_distribution`). A hyperparameter with a single value seen gets 0 and is left
    out of the optuna call; one missing from some completed trial is left out entirely.
    Returns {} when there are fewer than 2 such trials, no hyperparameter varies or the
    objective never varies; otherwise the values sum to 1.
    """
    return importance_with_reason(rows, direction)[0]
