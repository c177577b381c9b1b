"""The three kinds of hyperparameter range, in SageMaker's vocabulary, as pydantic models:

* :class:`ContinuousParameter` -- a real interval with a scaling (``Auto``, ``Linear``,
  ``Logarithmic``, ``ReverseLogarithmic``);
* :class:`IntegerParameter` -- an inclusive integer interval (``Auto``, ``Linear``,
  ``Logarithmic``);
* :class:`CategoricalParameter` -- a list of values (strings, numbers or booleans).

:data:`ParameterRange` is their union, told apart by ``type`` ("Continuous", "Integer",
"Categorical"). The helpers at the end (:func:`build_range`, :func:`pydantic_problems`,
:func:`same_value`, :func:`num_text`) are shared by the other modules of
:mod:`mlyard.tuning.ranges`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from mlyard.errors import ValidationError, problem_text

CategoricalValue = str | int | float | bool
"""A value a categorical range may hold."""


def num_text(x: float) -> str:
    """A number as it reads in messages: ints plainly, floats by ``repr`` (``1e-06``)."""
    return repr(x) if isinstance(x, float) else str(x)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"range bounds must be numbers, not {value!r}")
    return value


_Float = Annotated[float, BeforeValidator(_no_bool)]
_Int = Annotated[int, BeforeValidator(_no_bool)]


class _Range(BaseModel):
    """Base of the three range classes.

    Built by hand (``ContinuousParameter(0.01, 1.0, "Logarithmic")``, positionally as in
    SageMaker's SDK, or by keyword), a bad range raises one :class:`ValidationError` (a
    ``ValueError``) naming the class and the field with the allowed values, never pydantic's
    multi-line dump. Parsing from data (``model_validate``, the JSON of a stored spec) keeps
    pydantic's errors, which the parsers turn into messages naming the hyperparameter.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The fields the constructor takes positionally, in order.
    POSITIONAL: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **data: Any) -> None:
        name = type(self).__name__
        if len(args) > len(self.POSITIONAL):
            raise ValidationError(
                f"{name} takes at most {len(self.POSITIONAL)} positional arguments "
                f"({', '.join(self.POSITIONAL)}), got {len(args)}")
        for field, value in zip(self.POSITIONAL, args, strict=False):
            if field in data:
                raise ValidationError(f"{name}: {field} given twice")
            data[field] = value
        if "scaling_type" in data and "scaling" not in data:  # SageMaker SDK's keyword
            data["scaling"] = data.pop("scaling_type")
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"{name}: {problem_text(exc)}") from None


class ContinuousParameter(_Range):
    """A real interval ``[min_value, max_value]`` (``min_value < max_value``).

    ``Logarithmic`` needs ``min_value > 0``; ``ReverseLogarithmic`` needs
    ``0 <= min_value`` and ``max_value < 1``.
    """

    type: Literal["Continuous"] = "Continuous"
    POSITIONAL: ClassVar[tuple[str, ...]] = ("min_value", "max_value", "scaling")
    min_value: _Float
    max_value: _Float
    scaling: Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"] = "Auto"

    @model_validator(mode="after")
    def _check(self) -> ContinuousParameter:
        lo, hi = self.min_value, self.max_value
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(
                f"range bounds must be finite numbers, got {num_text(lo)}..{num_text(hi)}"
            )
        if lo == hi:
            raise ValueError(
                f"empty range {num_text(lo)}..{num_text(hi)}: min_value must be below max_value "
                "(fix the value as a static hyperparameter instead)"
            )
        if lo > hi:
            raise ValueError(
                f"inverted range {num_text(lo)}..{num_text(hi)}: min_value must be below max_value"
            )
        if self.scaling == "Logarithmic" and lo <= 0:
            raise ValueError(
                f"log ranges must not touch zero: min_value is {num_text(lo)}, "
                "Logarithmic scaling needs min_value > 0"
            )
        if self.scaling == "ReverseLogarithmic" and not (lo >= 0 and hi < 1):
            raise ValueError(
                f"ReverseLogarithmic scaling needs 0 <= min_value and max_value < 1, "
                f"got {num_text(lo)}..{num_text(hi)}"
            )
        return self


class IntegerParameter(_Range):
    """An inclusive integer interval; ``min_value == max_value`` is a single value.

    ``Logarithmic`` needs ``min_value > 0`` (that is, at least 1).
    """

    type: Literal["Integer"] = "Integer"
    POSITIONAL: ClassVar[tuple[str, ...]] = ("min_value", "max_value", "scaling")
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


def same_value(a: Any, b: Any) -> bool:
    """Equal as categorical values: booleans never equal numbers (``True != 1`` here)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


class CategoricalParameter(_Range):
    """A list of distinct values (strings, numbers or booleans), tried as they are."""

    type: Literal["Categorical"] = "Categorical"
    POSITIONAL: ClassVar[tuple[str, ...]] = ("values",)
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
            if any(v == w for w in self.values[:i]) and not any(same_value(v, d) for d in dups):
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

RANGE_ADAPTER: TypeAdapter[ContinuousParameter | IntegerParameter | CategoricalParameter] = (
    TypeAdapter(ParameterRange)
)


def pydantic_problems(exc: pydantic.ValidationError) -> str:
    """Pydantic's errors as one plain line (without its ``Value error,`` prefixes)."""
    parts = []
    for err in exc.errors():
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        loc = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int))
        parts.append(msg if err.get("type") == "value_error" or not loc else f"{loc}: {msg}")
    return "; ".join(parts)


def build_range(cls: type[_Range], where: str, **fields: Any) -> Any:
    """``cls(**fields)``, its errors raised as :class:`ValidationError` prefixed by ``where``."""
    try:
        return cls.model_validate(fields)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"{where}: {pydantic_problems(exc)}") from None
