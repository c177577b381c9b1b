"""Typed parameter declarations: one class for algorithm hyperparameters, Debugger and
Profiler rule parameters (and, later, monitor parameters).

Each owner lists its parameters once as :class:`Parameter` objects (built with
:func:`integer`, :func:`continuous`, :func:`categorical`, :func:`boolean` or :func:`string`).
A declaration parses values given as strings (``--hp epochs=10``, SageMaker's string-valued
rule parameters) or as Python values, checks them against its bounds or choices, and for
algorithms gives the tuner its default search range (:meth:`Parameter.tuning_range`).

:meth:`Parameter.convert` does the parsing and raises :class:`InvalidValue`, which says
*why* a value is refused (``reason``: wrong type, not finite, not a choice, below or above a
bound). Owners word that for their users: :meth:`Parameter.parse` and
:func:`resolve_hyperparameters` as hyperparameter errors (``hyperparameter 'epochs': 0 is
below its minimum 1``), :class:`mlyard.rules.Rule` naming the rule and the parameter.

Conversion, the same for every owner:

* ``integer``: an int, a float with an integral value, or a string holding an integer;
* ``continuous``: an int, a float or a numeric string, as a finite float;
* ``boolean``: a bool, 0/1, or ``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case);
* ``categorical``: one of ``choices`` (a non-choice is tried as its stripped string;
  ``ignore_case`` matches strings case-insensitively and returns the declared spelling);
* ``string``: a string, or a list of strings joined by commas (how SageMaker passes lists).

A bool is not a number here: ``True`` for an integer or continuous parameter is refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlyard.errors import ValidationError

Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
Kind = Literal["integer", "continuous", "categorical", "boolean", "string"]
Reason = Literal["type", "finite", "choice", "below", "above"]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_NUMERIC = ("integer", "continuous")


class InvalidValue(ValidationError):
    """A value a :class:`Parameter` refuses, and why.

    ``reason`` is ``"type"`` (not a value of the parameter's kind), ``"finite"`` (NaN or
    infinite), ``"choice"`` (not one of its choices), ``"below"`` or ``"above"`` (outside its
    bounds; ``bound`` is the bound crossed and ``converted`` the value after conversion).
    :attr:`problem` words it after the parameter's name; the message reads
    ``<subject> '<name>': <problem>``.
    """

    def __init__(self, parameter: Parameter, value: Any, reason: Reason, *,
                 converted: Any = None, bound: float | None = None,
                 subject: str = "parameter") -> None:
        self.parameter = parameter
        self.value = value
        self.reason = reason
        self.converted = converted
        self.bound = bound
        super().__init__(f"{subject} {parameter.name!r}: {self.problem}")

    @property
    def problem(self) -> str:
        """Why the value is refused, e.g. ``'x' is not a valid integer value``."""
        p = self.parameter
        if self.reason in ("type", "finite"):
            return f"{self.value!r} is not a valid {p.kind} value"
        if self.reason == "choice":
            return f"{self.value!r} is not one of {list(p.choices)}"
        if self.reason == "below":
            return f"{self.converted} is below its minimum {p.min_value}"
        return f"{self.converted} is above its maximum {p.max_value}"

    def with_subject(self, subject: str) -> InvalidValue:
        """The same refusal, its message naming the parameter as ``subject`` (e.g.
        ``"hyperparameter"``)."""
        return InvalidValue(self.parameter, self.value, self.reason, converted=self.converted,
                            bound=self.bound, subject=subject)


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: its type, default, allowed values and default tuning range.

    ``kind`` is ``"integer"``, ``"continuous"``, ``"categorical"``, ``"boolean"`` or
    ``"string"``. ``min_value``/``max_value`` bound numeric values (inclusive); ``choices``
    lists categorical values (``ignore_case`` compares strings case-insensitively).
    ``tunable`` marks parameters a tuner may vary by default, and
    ``tuning_min``/``tuning_max``/``scaling`` give the default search range.
    """

    name: str
    kind: Kind
    default: Any
    description: str = ""
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[Any, ...] = field(default=())
    tunable: bool = False
    tuning_min: float | None = None
    tuning_max: float | None = None
    scaling: Scaling = "Auto"
    ignore_case: bool = False

    def __post_init__(self) -> None:
        if self.tunable and self.kind == "string":
            raise ValueError(f"parameter {self.name!r}: a string parameter cannot be tunable")
        if self.kind == "categorical" and not self.choices:
            raise ValueError(f"parameter {self.name!r}: a categorical parameter needs choices")

    def convert(self, value: Any) -> Any:
        """``value`` converted to this parameter's kind and checked against its bounds or
        choices (see the module notes); raises :class:`InvalidValue` otherwise."""
        out = self._typed(value)
        if self.kind in _NUMERIC:
            if self.min_value is not None and out < self.min_value:
                raise InvalidValue(self, value, "below", converted=out, bound=self.min_value)
            if self.max_value is not None and out > self.max_value:
                raise InvalidValue(self, value, "above", converted=out, bound=self.max_value)
        return out

    def parse(self, value: Any) -> Any:
        """:meth:`convert` for an algorithm's hyperparameter: refusals read
        ``hyperparameter '<name>': ...``."""
        try:
            return self.convert(value)
        except InvalidValue as exc:
            raise exc.with_subject("hyperparameter") from None

    def _typed(self, value: Any) -> Any:
        kind = self.kind
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()  # also numpy booleans and 0/1 integers
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
            raise InvalidValue(self, value, "type")
        if kind in _NUMERIC and isinstance(value, bool):
            raise InvalidValue(self, value, "type")
        if kind == "integer":
            if isinstance(value, float):
                if not value.is_integer():
                    raise InvalidValue(self, value, "type")
                return int(value)
            try:
                return value if isinstance(value, int) else int(str(value).strip())
            except ValueError:
                raise InvalidValue(self, value, "type") from None
        if kind == "continuous":
            try:
                out = float(value)
            except (TypeError, ValueError):
                raise InvalidValue(self, value, "type") from None
            if not math.isfinite(out):
                raise InvalidValue(self, value, "finite", converted=out)
            return out
        if kind == "string":
            if isinstance(value, str):
                return value
            if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                return ",".join(value)
            raise InvalidValue(self, value, "type")
        return self._choice(value)

    def _choice(self, value: Any) -> Any:
        if value in self.choices:
            return value
        try:
            text = str(value).strip()
        except Exception:  # an object whose str() fails is no choice either
            raise InvalidValue(self, value, "choice") from None
        for choice in self.choices:
            if choice == text or (self.ignore_case and isinstance(choice, str)
                                  and choice.lower() == text.lower()):
                return choice
        raise InvalidValue(self, value, "choice")

    def tuning_range(self) -> dict[str, Any] | None:
        """The default search range for a tuner, or ``None`` if not tunable."""
        if not self.tunable:
            return None
        if self.kind == "categorical":
            return {"type": "Categorical", "values": list(self.choices)}
        if self.kind == "boolean":
            return {"type": "Categorical", "values": [True, False]}
        lo = self.tuning_min if self.tuning_min is not None else self.min_value
        hi = self.tuning_max if self.tuning_max is not None else self.max_value
        return {
            "type": "Integer" if self.kind == "integer" else "Continuous",
            "min": lo,
            "max": hi,
            "scaling": self.scaling,
        }


Hyperparameter = Parameter
"""An algorithm's hyperparameter: a :class:`Parameter` (the name algorithms declare with)."""


def integer(name: str, default: int, lo: float | None = None, hi: float | None = None,
            **kw: Any) -> Parameter:
    """Declare an integer parameter with inclusive bounds."""
    return Parameter(name, "integer", default, min_value=lo, max_value=hi, **kw)


def continuous(name: str, default: float, lo: float | None = None, hi: float | None = None,
               **kw: Any) -> Parameter:
    """Declare a continuous parameter with inclusive bounds."""
    return Parameter(name, "continuous", default, min_value=lo, max_value=hi, **kw)


def categorical(name: str, default: Any, choices: Sequence[Any], **kw: Any) -> Parameter:
    """Declare a categorical parameter (``ignore_case=True`` to match strings in any case)."""
    return Parameter(name, "categorical", default, choices=tuple(choices), **kw)


def boolean(name: str, default: bool, **kw: Any) -> Parameter:
    """Declare a boolean parameter (accepts true/false, yes/no, on/off, 1/0)."""
    return Parameter(name, "boolean", default, **kw)


def string(name: str, default: str, **kw: Any) -> Parameter:
    """Declare a free-text parameter (a list of strings is joined with commas)."""
    return Parameter(name, "string", default, **kw)


def resolve_hyperparameters(declared: Sequence[Parameter],
                            given: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Defaults overlaid with ``given`` values, each parsed and range-checked.

    Raises :class:`ValidationError` naming any unknown hyperparameter.
    """
    by_name = {h.name: h for h in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise ValidationError(
            f"unknown hyperparameter(s) for {owner}: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(by_name))}"
        )
    out = {h.name: h.default for h in declared}
    for key, value in given.items():
        out[key] = by_name[key].parse(value)
    return out


def parse_assignments(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``["a=1", "b=x"]`` (from ``--hp a=1``) into a dict of strings."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"expected NAME=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
