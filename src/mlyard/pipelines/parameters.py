"""Pipeline parameters (SageMaker's ``ParameterString`` / ``Integer`` / ``Float`` /
``Boolean``): named values given when an execution starts, with optional defaults.

A parameter is an :class:`~mlyard.pipelines.expressions.Expression`, so it goes anywhere a
run-time value does (an Estimator's hyperparameters and inputs, a condition, a ``Join``);
in the definition it is ``{"Get": "Parameters.<name>"}``.
"""

from __future__ import annotations

from typing import Any

from mlyard.errors import ValidationError
from mlyard.pipelines.definition import NAME_RE, _check_default
from mlyard.pipelines.expressions import Expression


class Parameter(Expression):
    """A pipeline parameter of type :attr:`parameter_type` (``String``, ``Integer``,
    ``Float`` or ``Boolean``); ``default_value`` None makes it required at start."""

    parameter_type = "String"

    def __init__(self, name: str, default_value: Any = None) -> None:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise ValidationError(f"invalid parameter name {name!r} (1-64 letters, digits, "
                                  "'-' and '_')")
        self.name = name
        self.default_value = _check_default(name, self.parameter_type, default_value)

    @property
    def expr(self) -> dict[str, Any]:
        return {"Get": f"Parameters.{self.name}"}

    def to_request(self) -> dict[str, Any]:
        """The parameter's entry in the definition's ``Parameters``."""
        out: dict[str, Any] = {"Name": self.name, "Type": self.parameter_type}
        if self.default_value is not None:
            out["DefaultValue"] = self.default_value
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, default_value={self.default_value!r})"


class ParameterString(Parameter):
    """A string parameter; ``enum_values`` limits the values a start may give."""

    parameter_type = "String"

    def __init__(self, name: str, default_value: str | None = None,
                 enum_values: list[str] | None = None) -> None:
        super().__init__(name, default_value)
        self.enum_values = list(enum_values) if enum_values is not None else None
        if self.enum_values is not None and default_value is not None \
                and default_value not in self.enum_values:
            raise ValidationError(f"parameter {name}: default {default_value!r} is not one of "
                                  f"{self.enum_values}")

    def to_request(self) -> dict[str, Any]:
        out = super().to_request()
        if self.enum_values is not None:
            out["EnumValues"] = list(self.enum_values)
        return out


class ParameterInteger(Parameter):
    """An integer parameter."""

    parameter_type = "Integer"

    def __init__(self, name: str, default_value: int | None = None) -> None:
        super().__init__(name, default_value)


class ParameterFloat(Parameter):
    """A floating-point parameter."""

    parameter_type = "Float"

    def __init__(self, name: str, default_value: float | None = None) -> None:
        super().__init__(name, default_value)


class ParameterBoolean(Parameter):
    """A boolean parameter."""

    parameter_type = "Boolean"

    def __init__(self, name: str, default_value: bool | None = None) -> None:
        super().__init__(name, default_value)
