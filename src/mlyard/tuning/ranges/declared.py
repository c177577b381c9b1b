"""Ranges and an algorithm's declared hyperparameters: the declared default ranges
(:func:`default_ranges`) and the check of a tuning job's ranges against the declarations
(:func:`validate_ranges`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from mlyard.core.params import Hyperparameter
from mlyard.errors import ValidationError
from mlyard.tuning.ranges.models import (
    CategoricalParameter,
    ContinuousParameter,
    IntegerParameter,
    ParameterRange,
    build_range,
    num_text,
    same_value,
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def default_ranges(hyperparameters: Sequence[Hyperparameter]) -> dict[str, ParameterRange]:
    """The declared default tuning ranges of an algorithm's tunable hyperparameters.

    Numeric ranges span ``tuning_min..tuning_max`` (the allowed ``min_value``/``max_value``
    where those are unset) with the declared scaling; categoricals try every choice and
    booleans ``[False, True]``. Raises :class:`ValidationError` for a tunable numeric
    hyperparameter declared without bounds.
    """
    out: dict[str, ParameterRange] = {}
    for h in hyperparameters:
        if not h.tunable:
            continue
        where = f"default tuning range of hyperparameter {h.name!r}"
        if h.kind == "boolean":
            out[h.name] = CategoricalParameter(values=[False, True])
            continue
        if h.kind == "categorical":
            out[h.name] = build_range(CategoricalParameter, where, values=list(h.choices))
            continue
        lo = h.tuning_min if h.tuning_min is not None else h.min_value
        hi = h.tuning_max if h.tuning_max is not None else h.max_value
        if lo is None or hi is None:
            raise ValidationError(f"{where}: no tuning_min/tuning_max (or min/max) declared")
        if h.kind == "integer":
            if h.scaling == "ReverseLogarithmic":
                raise ValidationError(
                    f"{where}: ReverseLogarithmic scaling applies only to continuous ranges"
                )
            out[h.name] = build_range(IntegerParameter, where, min_value=math.ceil(lo),
                                 max_value=math.floor(hi), scaling=h.scaling)
        else:
            out[h.name] = build_range(ContinuousParameter, where, min_value=float(lo),
                                 max_value=float(hi), scaling=h.scaling)
    return out


def _allowed(h: Hyperparameter) -> str:
    def fmt(x: float) -> str:
        if h.kind == "integer" and float(x).is_integer():
            return str(int(x))
        return num_text(x)

    if h.min_value is not None and h.max_value is not None:
        return f"{fmt(h.min_value)}..{fmt(h.max_value)}"
    if h.min_value is not None:
        return f">= {fmt(h.min_value)}"
    return f"<= {fmt(h.max_value)}" if h.max_value is not None else "any value"


def _range_problems(name: str, rng: ParameterRange, h: Hyperparameter) -> list[str]:
    """What is wrong with searching ``rng`` for the declared ``h``."""
    kind = "categorical" if h.kind == "boolean" else h.kind
    article = "an" if h.kind == "integer" else "a"
    if isinstance(rng, ContinuousParameter) and h.kind != "continuous":
        suggestion = "an integer range (MIN:MAX)" if h.kind == "integer" else (
            "a categorical range ([A,B,...])")
        return [f"{name} is {article} {h.kind} hyperparameter: use {suggestion}, "
                "not a continuous range"]
    if isinstance(rng, IntegerParameter) and kind == "categorical":
        return [f"{name} is {article} {h.kind} hyperparameter: use a categorical range "
                "([A,B,...]), not an integer range"]
    if isinstance(rng, CategoricalParameter):
        problems: list[str] = []
        parsed: list[tuple[Any, Any]] = []
        for value in rng.values:
            try:
                p = h.parse(value)
            except ValidationError as exc:
                reason = exc.message.removeprefix(f"hyperparameter {h.name!r}: ")
                problems.append(f"{name} range value {value!r}: {reason}")
                continue
            for other, q in parsed:
                if same_value(p, q):
                    problems.append(
                        f"{name} range values {other!r} and {value!r} are both {p!r}"
                    )
                    break
            else:
                parsed.append((value, p))
        return problems
    lo, hi = rng.min_value, rng.max_value
    below = h.min_value is not None and lo < h.min_value
    above = h.max_value is not None and hi > h.max_value
    if below or above:
        return [f"{name} range {num_text(lo)}..{num_text(hi)} goes outside the allowed "
                f"{_allowed(h)}"]
    return []


def validate_ranges(ranges: Mapping[str, ParameterRange],
                    hyperparameters: Sequence[Hyperparameter] | None,
                    static: Mapping[str, Any] = _EMPTY,
                    owner: str = "") -> None:
    """Check a tuning job's ranges; raise one :class:`ValidationError` listing every problem.

    Problems: no ranges at all; a range on a name that is also a ``static`` hyperparameter;
    and, when ``hyperparameters`` is given (built-in algorithms; a script's hyperparameters
    are free-form, pass ``None``): a name the algorithm does not declare, a range kind that
    does not fit the declared kind (a continuous range on an integer, categorical or boolean
    hyperparameter; an integer range on a categorical or boolean one -- an integer range on a
    continuous one is fine), bounds outside the declared allowed ``min_value..max_value``, and
    categorical values the hyperparameter cannot parse or does not allow (or that parse to
    the same value). ``owner`` (e.g. ``"algorithm 'blazingtext'"``) prefixes the message.
    """
    problems: list[str] = []
    if not ranges:
        problems.append("no hyperparameter ranges to tune: give at least one range")
    overlap = [name for name in ranges if name in static]
    problems += [f"{name} is given both as a range and as a static hyperparameter"
                 for name in overlap]
    if hyperparameters is not None:
        declared = {h.name: h for h in hyperparameters}
        tunable = ", ".join(h.name for h in hyperparameters if h.tunable) or "none"
        for name, rng in ranges.items():
            h = declared.get(name)
            if h is None:
                problems.append(f"{name} is not a hyperparameter of this algorithm "
                                f"(tunable: {tunable})")
            else:
                problems += _range_problems(name, rng, h)
    if problems:
        prefix = f"{owner}: " if owner else ""
        raise ValidationError(prefix + "; ".join(problems))
