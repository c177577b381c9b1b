"""Ranges as an Optuna search space: distributions (:func:`to_distributions`), sampled values
back to hyperparameter values (:func:`decode`) and the inverse (:func:`encode`,
:func:`contains`), and Grid search's space (:func:`grid_space`, :func:`grid_size`).

**Scaling.** ``Auto`` resolves once per range (:func:`resolved_scaling`): logarithmic when the
range is positive and spans at least two orders of magnitude (``min > 0`` and
``max / min >= 100``; for integers ``min >= 1``), linear otherwise. ``ReverseLogarithmic``
(continuous only, ``0 <= min < max < 1``) searches densely near 1: Optuna samples
``z = 1 - x`` on a log scale over ``[1 - max, 1 - min]`` under the hyperparameter's own name,
and :func:`decode` turns ``z`` back into ``x`` (:func:`encode` is the inverse, for trials fed
into a study). Optuna is imported only inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlyard.errors import ValidationError
from mlyard.tuning.ranges.models import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
    num_text,
    same_value,
)
from mlyard.tuning.ranges.text import parse_value

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

#: Most combinations :func:`grid_space` lays out (Optuna's GridSampler lists them all).
MAX_GRID_SIZE = 100_000

#: ``Auto`` scaling turns logarithmic when ``max / min`` reaches this ratio (and min > 0).
AUTO_LOG_RATIO = 100.0


def resolved_scaling(rng: ContinuousParameter | IntegerParameter) -> str:
    """The scaling a numeric range is searched with: ``Auto`` resolved (see module doc)."""
    if rng.scaling != "Auto":
        return rng.scaling
    lo, hi = rng.min_value, rng.max_value
    positive = lo >= 1 if isinstance(rng, IntegerParameter) else lo > 0
    return "Logarithmic" if positive and hi / lo >= AUTO_LOG_RATIO else "Linear"


def _distribution(rng: ParameterRange) -> BaseDistribution:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(rng, CategoricalParameter):
        return CategoricalDistribution(list(rng.values))
    scaling = resolved_scaling(rng)
    if isinstance(rng, IntegerParameter):
        return IntDistribution(rng.min_value, rng.max_value, log=scaling == "Logarithmic")
    if scaling == "ReverseLogarithmic":
        return FloatDistribution(1.0 - rng.max_value, 1.0 - rng.min_value, log=True)
    return FloatDistribution(rng.min_value, rng.max_value, log=scaling == "Logarithmic")


def to_distributions(ranges: Mapping[str, ParameterRange]) -> dict[str, BaseDistribution]:
    """One Optuna distribution per range, under the hyperparameter's name.

    Continuous: ``FloatDistribution`` (``log=True`` when logarithmic); ReverseLogarithmic:
    ``FloatDistribution(1 - max, 1 - min, log=True)`` over ``z = 1 - x`` (see :func:`decode`).
    Integer: ``IntDistribution`` (``log=True`` when logarithmic). Categorical:
    ``CategoricalDistribution(values)``. ``Auto`` resolves by :func:`resolved_scaling`.
    """
    return {name: _distribution(rng) for name, rng in ranges.items()}


def decode(ranges: Mapping[str, ParameterRange], internal: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's sampled values (``trial.params``) as hyperparameter values.

    Applies ``x = 1 - z`` for ReverseLogarithmic ranges (clamped into ``[min, max]`` against
    rounding); returns floats for continuous and ints for integer ranges, categorical values
    as they are. One entry per range; keys not in ``ranges`` are ignored, and a missing one
    raises :class:`ValidationError`.
    """
    missing = [name for name in ranges if name not in internal]
    if missing:
        raise ValidationError(f"no sampled value for {', '.join(missing)}")
    out: dict[str, Any] = {}
    for name, rng in ranges.items():
        z = internal[name]
        if isinstance(rng, ContinuousParameter):
            x = float(z)
            if resolved_scaling(rng) == "ReverseLogarithmic":
                x = min(max(1.0 - x, rng.min_value), rng.max_value)
            out[name] = x
        elif isinstance(rng, IntegerParameter):
            out[name] = int(z)
        else:
            out[name] = z
    return out


def _coerce_number(value: Any, integral: bool) -> float | int | None:
    """``value`` (a number or a numeric string) as a number, or ``None`` if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = parse_value(value)
        if isinstance(value, (bool, str)):
            return None
    if not isinstance(value, (int, float)):
        try:
            value = float(value)  # numpy scalars and the like
        except (TypeError, ValueError):
            return None
    if not math.isfinite(value):
        return None
    if integral:
        if isinstance(value, float) and not value.is_integer():
            return None
        return int(value)
    return float(value)


def _match_choice(rng: CategoricalParameter, value: Any) -> tuple[bool, Any]:
    """``(True, the range's own value)`` matching ``value``, else ``(False, None)``.

    A string matches a non-string value it spells (``"100"`` matches ``100``, ``"true"``
    matches ``True``), as hyperparameters are often stored as strings.
    """
    for choice in rng.values:
        if same_value(choice, value):
            return True, choice
    if isinstance(value, str):
        parsed = parse_value(value)
        for choice in rng.values:
            if not isinstance(choice, str) and same_value(choice, parsed):
                return True, choice
    return False, None


def encode(ranges: Mapping[str, ParameterRange], values: Mapping[str, Any]) -> dict[str, Any]:
    """Hyperparameter values as Optuna's internal values: the inverse of :func:`decode`.

    For feeding known trials (warm start, resume) into a study. Values may be numbers or the
    strings hyperparameters are often stored as. ReverseLogarithmic values become
    ``z = 1 - x`` (clamped into the distribution's bounds against rounding). Keys not in
    ``ranges`` are ignored (a parent job's static hyperparameters); a missing value or one
    outside its range raises :class:`ValidationError` naming every such hyperparameter.
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, rng in ranges.items():
        if name not in values:
            problems.append(f"{name} has no value")
            continue
        value = values[name]
        if isinstance(rng, CategoricalParameter):
            found, choice = _match_choice(rng, value)
            if not found:
                problems.append(f"{name}={value!r} is not one of {rng.values}")
            out[name] = choice
            continue
        number = _coerce_number(value, integral=isinstance(rng, IntegerParameter))
        lo, hi = rng.min_value, rng.max_value
        if number is None:
            kind = "an integer" if isinstance(rng, IntegerParameter) else "a finite number"
            problems.append(f"{name}={value!r} is not {kind}")
            continue
        if not lo <= number <= hi:
            problems.append(f"{name}={value!r} is outside the range {num_text(lo)}..{num_text(hi)}")
            continue
        if isinstance(rng, ContinuousParameter) and (
                resolved_scaling(rng) == "ReverseLogarithmic"):
            number = min(max(1.0 - number, 1.0 - hi), 1.0 - lo)
        out[name] = number
    if problems:
        raise ValidationError("values do not fit the ranges: " + "; ".join(problems))
    return out


def contains(ranges: Mapping[str, ParameterRange], values: Mapping[str, Any]) -> bool:
    """Whether :func:`encode` accepts ``values``: every range has a value inside it."""
    try:
        encode(ranges, values)
    except ValidationError:
        return False
    return True


def _continuous_names(ranges: Mapping[str, ParameterRange]) -> list[str]:
    return [name for name, rng in ranges.items() if isinstance(rng, ContinuousParameter)]


def grid_size(ranges: Mapping[str, ParameterRange]) -> int:
    """How many combinations Grid search tries (1 for no ranges).

    Raises :class:`ValidationError` for a continuous range, as :func:`grid_space` does.
    """
    continuous = _continuous_names(ranges)
    if continuous:
        verb = "is" if len(continuous) == 1 else "are"
        raise ValidationError(
            f"Grid search needs categorical or integer ranges; {', '.join(continuous)} "
            f"{verb} continuous"
        )
    size = 1
    for rng in ranges.values():
        if isinstance(rng, CategoricalParameter):
            size *= len(rng.values)
        elif isinstance(rng, IntegerParameter):
            size *= rng.max_value - rng.min_value + 1
    return size


def grid_space(ranges: Mapping[str, ParameterRange]) -> dict[str, list[Any]]:
    """Grid search's search space: each categorical's values, each integer of a range.

    Raises :class:`ValidationError` for a continuous range or for a grid of more than
    :data:`MAX_GRID_SIZE` combinations.
    """
    size = grid_size(ranges)
    if size > MAX_GRID_SIZE:
        raise ValidationError(
            f"Grid search over {size} combinations is too large (at most {MAX_GRID_SIZE}); "
            "narrow the integer ranges or use another strategy"
        )
    out: dict[str, list[Any]] = {}
    for name, rng in ranges.items():
        if isinstance(rng, CategoricalParameter):
            out[name] = list(rng.values)
        elif isinstance(rng, IntegerParameter):
            out[name] = list(range(rng.min_value, rng.max_value + 1))
    return out
