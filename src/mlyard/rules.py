"""The base of every rule: Debugger rules, Profiler rules and, later, Model Monitor checks.

A rule has a SageMaker ``name``, declares its parameters once (``PARAMETERS``, a tuple of
:class:`~mlyard.core.params.Parameter`), says what it checks (``DESCRIPTION``), is built with
parameter overrides (``Rule(**overrides)``, defaults filling the rest) and evaluates a
subject, returning its findings: :meth:`Rule.evaluate`. The families differ in subject and
findings (a Debugger rule reads a tensor trace and returns a finding or None; a Profiler rule
reads a profile and returns a result with a status), so :class:`Rule` is generic in both.

Bad parameters raise :class:`~mlyard.errors.ValidationError` naming the rule and the
parameter, before anything runs: job specs check them at submission. The words of those
messages are a family's (:meth:`Rule.unknown_parameters_message`,
:meth:`Rule.invalid_value_message`): the defaults here are the Debugger's, the Profiler keeps
its own, as users and tests match on them.

This module sits at the top of the package, beside :mod:`mlyard.errors`, because its users
live in different layers (``mlyard.training.debugger``, ``mlyard.training.profiler``, and
the serving side for monitors); it imports only :mod:`mlyard.core.params` and
:mod:`mlyard.errors`, so any of them may import it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from mlyard.core.params import InvalidValue, Parameter
from mlyard.errors import ValidationError

SubjectT = TypeVar("SubjectT")
FindingsT = TypeVar("FindingsT")

_TYPE_NAMES = {"integer": "int", "continuous": "float", "boolean": "bool", "string": "str",
               "categorical": "str"}


class Rule(ABC, Generic[SubjectT, FindingsT]):
    """A named check with declared parameters. Subclasses set :attr:`name`,
    :attr:`PARAMETERS` and :attr:`DESCRIPTION`, and implement :meth:`evaluate`."""

    name: ClassVar[str]
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = ()
    DESCRIPTION: ClassVar[str] = ""

    def __init__(self, **parameters: Any) -> None:
        self.parameters: dict[str, Any] = self.resolve_parameters(parameters)

    @classmethod
    def declared(cls) -> dict[str, Parameter]:
        """The declared parameters by name, in declaration order."""
        return {p.name: p for p in cls.PARAMETERS}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every parameter's default value."""
        return {p.name: p.default for p in cls.PARAMETERS}

    @classmethod
    def check_parameters(cls, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """``parameters`` converted by their declarations (see :mod:`mlyard.core.params`);
        raises :class:`ValidationError` naming the rule and the unknown or bad parameter."""
        declared = cls.declared()
        unknown = [key for key in parameters if key not in declared]
        if unknown:
            raise ValidationError(cls.unknown_parameters_message(unknown))
        checked: dict[str, Any] = {}
        for key, value in parameters.items():
            try:
                checked[key] = declared[key].convert(value)
            except InvalidValue as exc:
                raise ValidationError(cls.invalid_value_message(exc)) from None
        return checked

    @classmethod
    def resolve_parameters(cls, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The defaults overlaid with ``parameters``, checked (:meth:`check_parameters`)."""
        return {**cls.defaults(), **cls.check_parameters(parameters)}

    @classmethod
    def unknown_parameters_message(cls, unknown: Sequence[str]) -> str:
        """The message for parameters the rule does not declare."""
        return (f"rule {cls.name}: unknown parameter(s) {sorted(unknown)}; allowed: "
                f"{sorted(cls.declared())}")

    @classmethod
    def invalid_value_message(cls, problem: InvalidValue) -> str:
        """The message for a value a parameter refuses: ``rule <name>: parameter '<key>'
        must be ..., got ...``."""
        p = problem.parameter
        head = f"rule {cls.name}: parameter {p.name!r} must be"
        if problem.reason == "type":
            return f"{head} {_TYPE_NAMES[p.kind]}, got {problem.value!r}"
        if problem.reason == "finite":
            return f"{head} finite, got {problem.value!r}"
        if problem.reason == "choice":
            return f"{head} one of {list(p.choices)}, got {problem.value!r}"
        sign = ">=" if problem.reason == "below" else "<="
        return f"{head} {sign} {problem.bound}, got {problem.converted!r}"

    @abstractmethod
    def evaluate(self, subject: SubjectT) -> FindingsT:
        """Check ``subject`` and return the findings."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.parameters})"
