"""The shared parameter declaration (mlyard.core.params) and rule base (mlyard.rules) as the
algorithms, the Debugger and the Profiler use them."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from mlyard.algorithms import get_algorithm
from mlyard.core.params import (
    Hyperparameter,
    InvalidValue,
    Parameter,
    boolean,
    categorical,
    continuous,
    integer,
    string,
)
from mlyard.errors import ValidationError
from mlyard.rules import Rule
from mlyard.training.debugger.rules import BUILTIN_RULES
from mlyard.training.debugger.rules import Rule as DebuggerRule
from mlyard.training.profiler.rules import PROFILER_RULES, ProfilerRule


def test_one_declaration_class_everywhere() -> None:
    assert Hyperparameter is Parameter
    declared = [
        *get_algorithm("blazingtext").HYPERPARAMETERS,
        *(p for rule in BUILTIN_RULES.values() for p in rule.PARAMETERS),
        *(p for rule in PROFILER_RULES.values() for p in rule.PARAMETERS),
    ]
    assert declared and all(type(p) is Parameter for p in declared)
    for rule in [*BUILTIN_RULES.values(), *PROFILER_RULES.values()]:
        assert issubclass(rule, Rule) and rule.DESCRIPTION
        assert rule.PARAMETERS and rule.resolve_parameters({}) == rule.defaults()
        assert rule().parameters == rule.defaults()
    assert issubclass(DebuggerRule, Rule) and issubclass(ProfilerRule, Rule)


@pytest.mark.parametrize(("parameter", "value", "expected"), [
    (integer("n", 1), "12", 12),
    (integer("n", 1), 3.0, 3),
    (integer("n", 1), np.int64(4), 4),
    (continuous("x", 0.5), 2, 2.0),
    (continuous("x", 0.5), " 1e-3 ", 0.001),
    (boolean("b", False), "On", True),
    (boolean("b", False), 0, False),
    (boolean("b", False), np.bool_(True), True),
    (categorical("m", "a", ("a", "b")), " b ", "b"),
    (categorical("m", "train", ("train", "eval"), ignore_case=True), "EVAL", "eval"),
    (categorical("m", None, (None, "TRAIN")), None, None),
    (string("s", ""), ["a", "b"], "a,b"),
])
def test_conversion(parameter: Parameter, value: Any, expected: Any) -> None:
    out = parameter.convert(value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(("parameter", "value", "reason"), [
    (integer("n", 1), "2.5", "type"),
    (integer("n", 1), 2.5, "type"),
    (integer("n", 1), True, "type"),  # a bool is no number
    (continuous("x", 0.5), False, "type"),
    (continuous("x", 0.5), "nan", "finite"),
    (continuous("x", 0.5), [1.0], "type"),
    (boolean("b", False), 2, "type"),
    (boolean("b", False), 1.0, "type"),
    (categorical("m", "a", ("a", "b")), "A", "choice"),
    (string("s", ""), 5, "type"),
    (integer("n", 5, 1, 10), 0, "below"),
    (continuous("x", 5.0, 1, 10), "10.5", "above"),
])
def test_refusals_say_why(parameter: Parameter, value: Any, reason: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parameter.convert(value)
    assert info.value.reason == reason and info.value.parameter is parameter
    assert str(info.value).startswith(f"parameter {parameter.name!r}: ")


def test_hyperparameter_messages_unchanged() -> None:
    epochs = integer("epochs", 5, 1, 100)
    with pytest.raises(ValidationError, match=r"^hyperparameter 'epochs': 0 is below its "
                                              r"minimum 1$"):
        epochs.parse("0")
    with pytest.raises(ValidationError, match=r"^hyperparameter 'epochs': 101 is above its "
                                              r"maximum 100$"):
        epochs.parse(101)
    with pytest.raises(ValidationError, match=r"^hyperparameter 'epochs': '2.5' is not a valid "
                                              r"integer value$"):
        epochs.parse("2.5")
    with pytest.raises(ValidationError, match=r"^hyperparameter 'mode': 'x' is not one of "
                                              r"\['a', 'b'\]$"):
        categorical("mode", "a", ["a", "b"]).parse("x")


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="cannot be tunable"):
        string("s", "", tunable=True)
    with pytest.raises(ValueError, match="needs choices"):
        Parameter("c", "categorical", None)


class _Threshold(Rule[list[float], list[str]]):
    """A rule of a new family: values above a threshold."""

    name = "AboveThreshold"
    DESCRIPTION = "Finds values above a threshold."
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (continuous("threshold", 1.0, lo=0.0),
                                                   boolean("strict", True))

    def evaluate(self, subject: list[float]) -> list[str]:
        limit = self.parameters["threshold"]
        above = [v for v in subject if (v > limit if self.parameters["strict"] else v >= limit)]
        return [f"{v:g} is above {limit:g}" for v in above]


def test_a_new_family_gets_declared_parameters_and_messages() -> None:
    rule = _Threshold(threshold="2", strict="false")
    assert rule.parameters == {"threshold": 2.0, "strict": False}
    assert rule.evaluate([1.0, 2.0, 3.0]) == ["2 is above 2", "3 is above 2"]
    assert repr(rule) == "_Threshold({'threshold': 2.0, 'strict': False})"
    with pytest.raises(ValidationError, match=r"rule AboveThreshold: unknown parameter\(s\) "
                                              r"\['limit'\]; allowed: \['strict', 'threshold'\]"):
        _Threshold(limit=1)
    with pytest.raises(ValidationError, match=r"rule AboveThreshold: parameter 'threshold' "
                                              r"must be >= 0.0, got -1.0"):
        _Threshold(threshold=-1)


def test_rule_families_word_their_errors() -> None:
    with pytest.raises(ValidationError, match=r"^rule LossNotDecreasing: parameter 'num_steps' "
                                              r"must be int, got 'ten'$"):
        BUILTIN_RULES["LossNotDecreasing"](num_steps="ten")
    with pytest.raises(ValidationError, match=r"^rule StepOutlier: stddev must be a number, "
                                              r"got 'x'$"):
        PROFILER_RULES["StepOutlier"](stddev="x")
    with pytest.raises(ValidationError, match=r"^rule StepOutlier has no parameters 'a', 'b' "
                                              r"\(known: mode, n_outliers"):
        PROFILER_RULES["StepOutlier"].check_parameters({"a": 1, "b": 2})
    # Profiler numbers now parse like every other parameter: strings and integral floats.
    assert PROFILER_RULES["StepOutlier"](stddev="2", n_outliers=3.0).parameters["n_outliers"] == 3
