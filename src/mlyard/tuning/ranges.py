"""Hyperparameter ranges of a tuning job, in SageMaker's vocabulary.

A tuning job searches some hyperparameters over *ranges* and keeps the others static:

* :class:`ContinuousParameter` -- a real interval with a scaling (``Auto``, ``Linear``,
  ``Logarithmic``, ``ReverseLogarithmic``);
* :class:`IntegerParameter` -- an inclusive integer interval (``Auto``, ``Linear``,
  ``Logarithmic``);
* :class:`CategoricalParameter` -- a list of values (strings, numbers or booleans).

:data:`ParameterRange` is their union, told apart by ``type`` ("Continuous", "Integer",
"Categorical"), so a range stores as JSON and reads back (:func:`ranges_to_json`,
:func:`ranges_from_json`).

The module also parses the CLI form ``NAME=SPEC`` (:func:`parse_range`), gives an algorithm's
declared default ranges (:func:`default_ranges`), checks ranges against its declarations
(:func:`validate_ranges`), and maps ranges onto Optuna distributions and back
(:func:`to_distributions`, :func:`decode`, :func:`encode`, :func:`grid_space`). Optuna is
imported only inside the functions that need it.

**Scaling.** ``Auto`` resolves once per range (:func:`resolved_scaling`): logarithmic when the
range is positive and spans at least two orders of magnitude (``min > 0`` and
``max / min >= 100``; for integers ``min >= 1``), linear otherwise. ``ReverseLogarithmic``
(continuous only, ``0 <= min < max < 1``) searches densely near 1: Optuna samples
``z = 1 - x`` on a log scale over ``[1 - max, 1 - min]`` under the hyperparameter's own name,
and :func:`decode` turns ``z`` back into ``x`` (:func:`encode` is the inverse, for trials fed
into a study).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from mlyard.core.params import Hyperparameter
from mlyard.errors import ValidationError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

CategoricalValue = str | int | float | bool
"""A value a categorical range may hold."""

#: Most combinations :func:`grid_space` lays out (Optuna's GridSampler lists them all).
MAX_GRID_SIZE = 100_000

#: ``Auto`` scaling turns logarithmic when ``max / min`` reaches this ratio (and min > 0).
AUTO_LOG_RATIO = 100.0

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _num(x: float) -> str:
    """A number as it reads in messages: ints plainly, floats by ``repr`` (``1e-06``)."""
    return repr(x) if isinstance(x, float) else str(x)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"range bounds must be numbers, not {value!r}")
    return value


_Float = Annotated[float, BeforeValidator(_no_bool)]
_Int = Annotated[int, BeforeValidator(_no_bool)]


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContinuousParameter(_Range):
    """A real interval ``[min_value, max_value]`` (``min_value < max_value``).

    ``Logarithmic`` needs ``min_value > 0``; ``ReverseLogarithmic`` needs
    ``0 <= min_value`` and ``max_value < 1``.
    """

    type: Literal["Continuous"] = "Continuous"
    min_value: _Float
    max_value: _Float
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _check(self) -> ContinuousParameter:
        lo, hi = self.min_value, self.max_value
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"range bounds must be finite numbers, got {_num(lo)}..{_num(hi)}")
        if lo == hi:
            raise ValueError(
                f"empty range {_num(lo)}..{_num(hi)}: min_value must be below max_value "
                "(fix the value as a static hyperparameter instead)"
            )
        if lo > hi:
            raise ValueError(
                f"inverted range {_num(lo)}..{_num(hi)}: min_value must be below max_value"
            )
        if self.scaling == "Logarithmic" and lo <= 0:
            raise ValueError(
                f"log ranges must not touch zero: min_value is {_num(lo)}, "
                "Logarithmic scaling needs min_value > 0"
            )
        if self.scaling == "ReverseLogarithmic" and not (lo >= 0 and hi < 1):
            raise ValueError(
                f"ReverseLogarithmic scaling needs 0 <= min_value and max_value < 1, "
                f"got {_num(lo)}..{_num(hi)}"
            )
        return self


class IntegerParameter(_Range):
    """An inclusive integer interval; ``min_value == max_value`` is a single value.

    ``Logarithmic`` needs ``min_value > 0`` (that is, at least 1).
    """

    type: Literal["Integer"] = "Integer"
    min_value: _Int
    max_value: _Int
    scaling: Literal["Auto", "Linear", "Logarithmic"] = "Auto"

    @model_validator(mode="after")
    def _check(self) -> IntegerParameter:
        lo, hi = self.min_value, self.max_value
        if lo > hi:
            raise ValueError(
                f"inverted range {lo}..{hi}: min_value must not be above max_value"
            )
        if self.scaling == "Logarithmic" and lo <= 0:
            raise ValueError(
                f"log ranges must not touch zero: min_value is {lo}, "
                "Logarithmic scaling needs min_value >= 1"
            )
        return self


def _same(a: Any, b: Any) -> bool:
    """Equal as categorical values: booleans never equal numbers (``True != 1`` here)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


class CategoricalParameter(_Range):
    """A list of distinct values (strings, numbers or booleans), tried as they are."""

    type: Literal["Categorical"] = "Categorical"
    values: list[CategoricalValue]

    @model_validator(mode="after")
    def _check(self) -> CategoricalParameter:
        if not self.values:
            raise ValueError("a categorical range needs at least one value")
        bad = [v for v in self.values if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise ValueError(f"categorical values must be finite numbers, got {bad}")
        dups: list[Any] = []
        for i, v in enumerate(self.values):
            # == also matches 1 with True and 1 with 1.0: Optuna finds a choice by ==.
            if any(v == w for w in self.values[:i]) and not any(_same(v, d) for d in dups):
                dups.append(v)
        if dups:
            raise ValueError(
                f"categorical values must be distinct; repeated: {', '.join(map(repr, dups))}"
                " (1, 1.0 and True count as the same value)"
            )
        return self


ParameterRange = Annotated[
    ContinuousParameter | IntegerParameter | CategoricalParameter, Field(discriminator="type")
]
"""Any one range, told apart by its ``type``."""

_ADAPTER: TypeAdapter[ContinuousParameter | IntegerParameter | CategoricalParameter] = (
    TypeAdapter(ParameterRange)
)


def _pydantic_problems(exc: pydantic.ValidationError) -> str:
    """Pydantic's errors as one plain line (without its ``Value error,`` prefixes)."""
    parts = []
    for err in exc.errors():
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
        parts.append(msg if err.get("type") == "value_error" or not loc else f"{loc}: {msg}")
    return "; ".join(parts)


def _build(cls: type[_Range], where: str, **fields: Any) -> Any:
    """``cls(**fields)``, its errors raised as :class:`ValidationError` prefixed by ``where``."""
    try:
        return cls(**fields)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"{where}: {_pydantic_problems(exc)}") from None


# --------------------------------------------------------------------------- CLI form

_SCALING_WORDS: dict[str, str] = {
    "auto": "Auto",
    "linear": "Linear",
    "log": "Logarithmic",
    "logarithmic": "Logarithmic",
    "reverselog": "ReverseLogarithmic",
    "reverselogarithmic": "ReverseLogarithmic",
}
_TYPE_WORDS: dict[str, str] = {
    "int": "Integer",
    "integer": "Integer",
    "float": "Continuous",
    "continuous": "Continuous",
}
_INT_RE = re.compile(r"^[+-]?\d+$")


def parse_value(item: str) -> CategoricalValue:
    """One categorical item as written on the command line.

    An integer (``100``), else a finite float (``0.5``, ``1e-3``), else ``true``/``false``
    (any case), else the string itself; surrounding whitespace is dropped, and quotes
    (``'1'`` or ``"1"``) keep an item a string.
    """
    text = item.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _INT_RE.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(number):
            return number
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _parse_number(text: str, whole: str) -> float | int:
    t = text.strip()
    if _INT_RE.match(t):
        return int(t)
    try:
        value = float(t)
    except ValueError:
        raise ValidationError(f"invalid range {whole!r}: {t!r} is not a number") from None
    if not math.isfinite(value):
        raise ValidationError(f"invalid range {whole!r}: bounds must be finite, got {t!r}")
    return value


def parse_range(text: str) -> tuple[str, ParameterRange]:
    """Parse the CLI form ``NAME=SPEC`` into ``(name, range)``.

    ``SPEC`` is either

    * ``MIN:MAX[:SCALING][:TYPE]`` -- scaling ``auto``, ``linear``, ``log``/``logarithmic``
      or ``reverselog``/``reverselogarithmic`` (any case); type ``int``/``integer`` or
      ``float``/``continuous``. Without a type, both ends written as integers (no ``.`` or
      exponent) give an :class:`IntegerParameter` (unless the scaling is reverse-log), else a
      :class:`ContinuousParameter`: ``learning_rate=0.01:1.0:log``, ``word_ngrams=1:3``,
      ``dropout=0:0.5``, ``epochs=1:20:float``;
    * ``[a,b,c]`` -- a :class:`CategoricalParameter`; each item is read by
      :func:`parse_value` (int, float, boolean, else string): ``vector_dim=[50,100,200]``.

    Raises :class:`ValidationError` naming ``text``.
    """
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name:
        raise ValidationError(
            f"invalid range {text!r}: expected NAME=MIN:MAX[:SCALING] or NAME=[A,B,...]"
        )
    where = f"invalid range {text!r}"
    if spec.startswith("[") or spec.endswith("]"):
        if not (spec.startswith("[") and spec.endswith("]")):
            raise ValidationError(f"{where}: a categorical range is written [A,B,...]")
        inner = spec[1:-1].strip()
        if not inner:
            raise ValidationError(f"{where}: a categorical range needs at least one value")
        items = [item.strip() for item in inner.split(",")]
        if any(not item for item in items):
            raise ValidationError(f"{where}: empty item in the list")
        return name, _build(CategoricalParameter, where, values=[parse_value(i) for i in items])

    parts = [p.strip() for p in spec.split(":")]
    if not 2 <= len(parts) <= 4 or not parts[0] or not parts[1]:
        raise ValidationError(
            f"{where}: expected MIN:MAX[:SCALING][:TYPE] (e.g. 0.01:1.0:log) or [A,B,...]"
        )
    scaling: str | None = None
    kind: str | None = None
    for word in parts[2:]:
        key = word.lower()
        if key in _SCALING_WORDS:
            if scaling is not None:
                raise ValidationError(f"{where}: the scaling is given twice")
            scaling = _SCALING_WORDS[key]
        elif key in _TYPE_WORDS:
            if kind is not None:
                raise ValidationError(f"{where}: the type is given twice")
            kind = _TYPE_WORDS[key]
        else:
            raise ValidationError(
                f"{where}: {word!r} is neither a scaling ({', '.join(_SCALING_WORDS)}) "
                f"nor a type ({', '.join(_TYPE_WORDS)})"
            )
    lo, hi = _parse_number(parts[0], text), _parse_number(parts[1], text)
    if kind is None:
        both_int = isinstance(lo, int) and isinstance(hi, int)
        kind = "Integer" if both_int and scaling != "ReverseLogarithmic" else "Continuous"
    fields: dict[str, Any] = {} if scaling is None else {"scaling": scaling}
    if kind == "Integer":
        if scaling == "ReverseLogarithmic":
            raise ValidationError(
                f"{where}: ReverseLogarithmic scaling applies only to continuous ranges"
            )
        ends = []
        for end in (lo, hi):
            if isinstance(end, float) and not end.is_integer():
                raise ValidationError(f"{where}: {end!r} is not an integer")
            ends.append(int(end))
        return name, _build(
            IntegerParameter, where, min_value=ends[0], max_value=ends[1], **fields
        )
    return name, _build(
        ContinuousParameter, where, min_value=float(lo), max_value=float(hi), **fields
    )


# --------------------------------------------------------------------------- declarations


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
            out[h.name] = _build(CategoricalParameter, where, values=list(h.choices))
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
            out[h.name] = _build(IntegerParameter, where, min_value=math.ceil(lo),
                                 max_value=math.floor(hi), scaling=h.scaling)
        else:
            out[h.name] = _build(ContinuousParameter, where, min_value=float(lo),
                                 max_value=float(hi), scaling=h.scaling)
    return out


def _allowed(h: Hyperparameter) -> str:
    def fmt(x: float) -> str:
        if h.kind == "integer" and float(x).is_integer():
            return str(int(x))
        return _num(x)

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
                if _same(p, q):
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
        return [f"{name} range {_num(lo)}..{_num(hi)} goes outside the allowed {_allowed(h)}"]
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


# --------------------------------------------------------------------------- Optuna glue


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
        if _same(choice, value):
            return True, choice
    if isinstance(value, str):
        parsed = parse_value(value)
        for choice in rng.values:
            if not isinstance(choice, str) and _same(choice, parsed):
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
            problems.append(f"{name}={value!r} is outside the range {_num(lo)}..{_num(hi)}")
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


# --------------------------------------------------------------------------- JSON


def ranges_to_json(ranges: Mapping[str, ParameterRange]) -> dict[str, dict[str, Any]]:
    """Ranges as JSON-ready dicts (``{"type": "Integer", "min_value": 1, ...}``)."""
    return {name: _ADAPTER.dump_python(rng, mode="json") for name, rng in ranges.items()}


def ranges_from_json(data: Mapping[str, Any]) -> dict[str, ParameterRange]:
    """Read back :func:`ranges_to_json`'s output; :class:`ValidationError` names a bad entry."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"hyperparameter ranges must be an object, got {type(data).__name__}")
    out: dict[str, ParameterRange] = {}
    for name, raw in data.items():
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"invalid hyperparameter range name {name!r}")
        try:
            out[name] = _ADAPTER.validate_python(raw)
        except pydantic.ValidationError as exc:
            raise ValidationError(
                f"invalid range for {name}: {_pydantic_problems(exc)}"
            ) from None
    return out


__all__ = [
    "AUTO_LOG_RATIO",
    "MAX_GRID_SIZE",
    "CategoricalParameter",
    "CategoricalValue",
    "ContinuousParameter",
    "IntegerParameter",
    "ParameterRange",
    "contains",
    "decode",
    "default_ranges",
    "encode",
    "grid_size",
    "grid_space",
    "parse_range",
    "parse_value",
    "ranges_from_json",
    "ranges_to_json",
    "resolved_scaling",
    "to_distributions",
    "validate_ranges",
]
