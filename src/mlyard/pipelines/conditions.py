"""Conditions of a ``ConditionStep`` (SageMaker's names): comparisons of run-time values
(``ConditionGreaterThanOrEqualTo(JsonGet(...), threshold)``), membership, ``Not`` and ``Or``.
Each serializes to the definition's condition JSON; the engine evaluates it with
:func:`mlyard.pipelines.definition.evaluate_conditions` (numbers compare as numbers)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from mlyard.errors import ValidationError
from mlyard.pipelines.expressions import to_json


def _operand(value: Any) -> Any:
    if isinstance(value, Condition):
        raise ValidationError("a condition operand must be a value or an expression, not a "
                              "condition (use ConditionNot / ConditionOr to combine)")
    return to_json(value)


class Condition(ABC):
    """Base of the conditions; :meth:`to_request` gives its JSON."""

    condition_type = ""

    @abstractmethod
    def to_request(self) -> dict[str, Any]:
        """The condition as definition JSON (``{"Type": ..., ...}``)."""

    @property
    def expr(self) -> dict[str, Any]:
        return self.to_request()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_request()!r})"


class ConditionComparison(Condition):
    """``left <op> right``: values or expressions."""

    def __init__(self, left: Any, right: Any) -> None:
        self.left = left
        self.right = right

    def to_request(self) -> dict[str, Any]:
        return {"Type": self.condition_type, "LeftValue": _operand(self.left),
                "RightValue": _operand(self.right)}


class ConditionEquals(ConditionComparison):
    condition_type = "Equals"


class ConditionGreaterThan(ConditionComparison):
    condition_type = "GreaterThan"


class ConditionGreaterThanOrEqualTo(ConditionComparison):
    condition_type = "GreaterThanOrEqualTo"


class ConditionLessThan(ConditionComparison):
    condition_type = "LessThan"


class ConditionLessThanOrEqualTo(ConditionComparison):
    condition_type = "LessThanOrEqualTo"


class ConditionIn(Condition):
    """``value`` is one of ``in_values``."""

    condition_type = "In"

    def __init__(self, value: Any, in_values: Sequence[Any]) -> None:
        if isinstance(in_values, str) or not isinstance(in_values, Sequence) or not in_values:
            raise ValidationError("ConditionIn: in_values must be a non-empty list")
        self.value = value
        self.in_values = list(in_values)

    def to_request(self) -> dict[str, Any]:
        return {"Type": "In", "QueryValue": _operand(self.value),
                "Values": [_operand(v) for v in self.in_values]}


class ConditionNot(Condition):
    """The negation of ``expression`` (a condition)."""

    condition_type = "Not"

    def __init__(self, expression: Condition) -> None:
        if not isinstance(expression, Condition):
            raise ValidationError("ConditionNot takes a condition")
        self.expression = expression

    def to_request(self) -> dict[str, Any]:
        return {"Type": "Not", "Expression": self.expression.to_request()}


class ConditionOr(Condition):
    """True when any of ``conditions`` holds."""

    condition_type = "Or"

    def __init__(self, conditions: Sequence[Condition]) -> None:
        conditions = list(conditions)
        if not conditions or not all(isinstance(c, Condition) for c in conditions):
            raise ValidationError("ConditionOr takes a non-empty list of conditions")
        self.conditions = conditions

    def to_request(self) -> dict[str, Any]:
        return {"Type": "Or", "Conditions": [c.to_request() for c in self.conditions]}
