"""The profiler rule contract, its result, the parameters rules share and the sampling
helpers.

Rules run once over a finished (or stopped) job's profile, not continuously as SageMaker's
rule containers do, so ``scan_interval_us`` parameters are accepted for compatibility and shown
in the report but do not change the outcome.

Patience and windows. SageMaker's system rules skip the first ``patience`` data points and
evaluate windows of ``window`` points. Local jobs are often shorter than SageMaker's defaults
(1000 points are more than 8 minutes at 500 ms), which would leave every rule vacuous, so
:func:`after_patience` skips ``patience`` samples only when more than that remain and otherwise
the first half of the run; :func:`windows` gives one window when there are fewer samples than
``window``. The details of each rule say how many samples were skipped and evaluated.

A result is ``IssuesFound`` exactly when ``triggers`` > 0.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlyard.core.params import InvalidValue, Parameter, continuous, integer
from mlyard.rules import Rule
from mlyard.training.profiler.data import ProfileData
from mlyard.training.rule_store import RuleEvaluationStatus

T = TypeVar("T")

NO_GPU = "no GPU used"
NO_DATA = "no data"

_KIND_WORDS = {"integer": "an integer", "continuous": "a number", "boolean": "true or false",
               "string": "a string", "categorical": "a choice"}


@dataclass(frozen=True)
class ProfilerRuleResult:
    """The outcome of one rule: its status, a sentence for people, figures behind it, and how
    many times its condition held (windows, samples, steps or ranks, depending on the rule)."""

    status: RuleEvaluationStatus
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    triggers: int = 0

    @classmethod
    def ok(cls, message: str, **details: Any) -> ProfilerRuleResult:
        """A NoIssuesFound result."""
        return cls(RuleEvaluationStatus.NO_ISSUES_FOUND, message, details, 0)

    @classmethod
    def of(cls, triggers: int, message: str, **details: Any) -> ProfilerRuleResult:
        """IssuesFound when ``triggers`` > 0, else NoIssuesFound."""
        if triggers > 0:
            return cls(RuleEvaluationStatus.ISSUES_FOUND, message, details, int(triggers))
        return cls(RuleEvaluationStatus.NO_ISSUES_FOUND, message, details, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (status as its SageMaker string)."""
        return {
            "status": str(self.status),
            "message": self.message,
            "details": self.details,
            "triggers": self.triggers,
        }


class ProfilerRule(Rule[ProfileData, ProfilerRuleResult]):
    """A check over a job's profile: a :class:`mlyard.rules.Rule` whose :meth:`evaluate`
    must return a result on any data, empty included. Subclasses set :attr:`name`,
    :attr:`PARAMETERS` (SageMaker's names and defaults where SageMaker has the rule parameter;
    numbers are ``>= 0``) and :attr:`DESCRIPTION`.

    Bad parameters raise :class:`~mlyard.errors.ValidationError` in the profiler's words
    (``rule StepOutlier: stddev must be a number, got 'x'``)."""

    @classmethod
    def unknown_parameters_message(cls, unknown: Sequence[str]) -> str:
        """``rule <name> has no parameter '<key>' (known: ...)``."""
        names = ", ".join(repr(k) for k in unknown)
        plural = "s" if len(unknown) > 1 else ""
        return (f"rule {cls.name} has no parameter{plural} {names} "
                f"(known: {', '.join(sorted(cls.declared()))})")

    @classmethod
    def invalid_value_message(cls, problem: InvalidValue) -> str:
        """``rule <name>: <key> must be ...``."""
        p = problem.parameter
        head = f"rule {cls.name}: {p.name} must be"
        got = f", got {problem.value!r}"
        if problem.reason == "choice":
            *rest, last = (repr(c) for c in p.choices)
            return f"{head} {', '.join(rest)} or {last}" if rest else f"{head} {last}"
        if problem.reason == "type":
            return f"{head} {_KIND_WORDS[p.kind]}{got}"
        finite = "finite and " if p.kind == "continuous" else ""
        if problem.reason == "finite":
            if p.min_value is None:
                return f"{head} finite{got}"
            return f"{head} finite and >= {p.min_value:g}{got}"
        sign = ">=" if problem.reason == "below" else "<="
        bound = problem.bound if problem.bound is not None else 0.0
        return f"{head} {finite}{sign} {bound:g}{got}"

    def p(self, key: str) -> float:
        """Numeric parameter ``key`` as a float."""
        return float(self.parameters[key])

    @abstractmethod
    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        """Check ``data``; never raises on missing or odd data."""


def scan_interval_us(default: int) -> Parameter:
    """The ``scan_interval_us`` parameter of every profiler rule: accepted for compatibility
    with SageMaker and shown in the report, without effect here (see the module notes)."""
    return integer("scan_interval_us", default, lo=0)


def patience(default: int = 1000) -> Parameter:
    """The ``patience`` parameter: samples skipped at the start (see :func:`after_patience`)."""
    return integer("patience", default, lo=0)


def window(default: int) -> Parameter:
    """The ``window`` parameter: samples per evaluated window (see :func:`windows`)."""
    return integer("window", default, lo=1)


def threshold(name: str, default: float) -> Parameter:
    """A non-negative threshold (a percentage, a ratio, seconds, ...)."""
    return continuous(name, default, lo=0)


def after_patience(values: Sequence[T], patience: int) -> tuple[list[T], int]:
    """``values`` without their warm-up and the number skipped: the first ``patience`` when
    more values than that remain, else the first half (see the module notes)."""
    skip = patience if len(values) > patience else len(values) // 2
    return list(values[skip:]), skip


def windows(values: Sequence[T], window: int) -> list[list[T]]:
    """Consecutive windows of ``window`` values; a tail shorter than half a window joins the
    window before it, and fewer values than ``window`` make one window."""
    window = max(1, int(window))
    chunks = [list(values[i : i + window]) for i in range(0, len(values), window)]
    if len(chunks) > 1 and len(chunks[-1]) < window / 2:
        chunks[-2].extend(chunks.pop())
    return chunks


def rounded(value: float | None, digits: int = 2) -> float | None:
    """``value`` rounded for reports (None stays None)."""
    return None if value is None else round(value, digits)
