"""Typed hyperparameter declarations, declared once per algorithm.

Each algorithm lists its hyperparameters as :class:`Hyperparameter` objects. They parse
strings from the command line (``--hp epochs=10``), check ranges, and later give the tuner
its default search ranges (:meth:`Hyperparameter.tuning_range`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlyard.errors import ValidationError

Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter: its type, default, allowed range and default tuning range.

    ``kind`` is ``"integer"``, ``"continuous"``, ``"categorical"`` or ``"boolean"``.
    ``min_value``/``max_value`` bound numeric values (inclusive); ``choices`` lists
    categorical values. ``tunable`` marks parameters a tuner may vary by default, and
    ``tuning_min``/``tuning_max``/``scaling`` give the default search range.
    """

    name: str
    kind: Literal["integer", "continuous", "categorical", "boolean"]
    default: Any
    description: str = ""
    min_value: float | None = None
    max_value: float | None = None
    choices: tuple[Any, ...] = field(default=())
    tunable: bool = False
    tuning_min: float | None = None
    tuning_max: float | None = None
    scaling: Scaling = "Auto"

    def parse(self, value: Any) -> Any:
        """Convert ``value`` (a string or a Python value) and check it is allowed."""
        name = self.name
        try:
            if self.kind == "boolean":
                if isinstance(value, bool):
                    out: Any = value
                elif str(value).strip().lower() in {"true", "1", "yes"}:
                    out = True
                elif str(value).strip().lower() in {"false", "0", "no"}:
                    out = False
                else:
                    raise ValueError(value)
            elif self.kind == "integer":
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)
                out = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
            elif self.kind == "continuous":
                out = float(value)
                if not math.isfinite(out):
                    raise ValueError(value)
            else:
                out = value if value in self.choices else str(value).strip()
        except (TypeError, ValueError):
            raise ValidationError(
                f"hyperparameter {name!r}: {value!r} is not a valid {self.kind} value"
            ) from None
        if self.kind == "categorical":
            if out not in self.choices:
                raise ValidationError(
                    f"hyperparameter {name!r}: {value!r} is not one of {list(self.choices)}"
                )
        elif self.kind in ("integer", "continuous"):
            if self.min_value is not None and out < self.min_value:
                raise ValidationError(
                    f"hyperparameter {name!r}: {out} is below its minimum {self.min_value}"
                )
            if self.max_value is not None and out > self.max_value:
                raise ValidationError(
                    f"hyperparameter {name!r}: {out} is above its maximum {self.max_value}"
                )
        return out

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


def integer(name: str, default: int, lo: float | None = None, hi: float | None = None,
            **kw: Any) -> Hyperparameter:
    """Declare an integer hyperparameter with inclusive bounds."""
    return Hyperparameter(name, "integer", default, min_value=lo, max_value=hi, **kw)


def continuous(name: str, default: float, lo: float | None = None, hi: float | None = None,
               **kw: Any) -> Hyperparameter:
    """Declare a continuous hyperparameter with inclusive bounds."""
    return Hyperparameter(name, "continuous", default, min_value=lo, max_value=hi, **kw)


def categorical(name: str, default: Any, choices: Sequence[Any], **kw: Any) -> Hyperparameter:
    """Declare a categorical hyperparameter."""
    return Hyperparameter(name, "categorical", default, choices=tuple(choices), **kw)


def boolean(name: str, default: bool, **kw: Any) -> Hyperparameter:
    """Declare a boolean hyperparameter (accepts true/false/1/0)."""
    return Hyperparameter(name, "boolean", default, **kw)


def resolve_hyperparameters(declared: Sequence[Hyperparameter],
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
