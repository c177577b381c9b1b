"""The profiler rule contract, its result, and the sampling helpers rules share.

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

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from mlyard.core.records import RuleEvaluationStatus
from mlyard.training.profiler.data import ProfileData

T = TypeVar("T")

NO_GPU = "no GPU used"
NO_DATA = "no data"

_INT_PARAMETERS = frozenset({"patience", "window", "n_outliers", "scan_interval_us"})
_MODES = (None, "TRAIN", "EVAL")


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


class ProfilerRule(ABC):
    """A check over a job's profile. Subclasses set :attr:`name`, :attr:`PARAMETERS` (SageMaker's
    names and defaults where SageMaker has the rule parameter) and :attr:`DESCRIPTION`, and
    implement :meth:`evaluate`, which must return a result on any data, empty included."""

    name: ClassVar[str]
    PARAMETERS: ClassVar[dict[str, Any]]
    DESCRIPTION: ClassVar[str] = ""

    def __init__(self, **parameters: Any) -> None:
        self.parameters: dict[str, Any] = {**self.PARAMETERS, **self.check_parameters(parameters)}

    @classmethod
    def check_parameters(cls, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """``parameters`` validated against :attr:`PARAMETERS`; raises ValueError naming the
        rule, the offending parameter and the accepted ones."""
        known = ", ".join(sorted(cls.PARAMETERS))
        checked: dict[str, Any] = {}
        for key, value in parameters.items():
            if key not in cls.PARAMETERS:
                raise ValueError(f"rule {cls.name} has no parameter {key!r} (known: {known})")
            if key == "mode":
                if value not in _MODES:
                    raise ValueError(f"rule {cls.name}: mode must be None, 'TRAIN' or 'EVAL'")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"rule {cls.name}: {key} must be a number, got {value!r}")
            elif not math.isfinite(value) or value < 0:
                raise ValueError(f"rule {cls.name}: {key} must be finite and >= 0, got {value}")
            elif key in _INT_PARAMETERS and not isinstance(value, int):
                raise ValueError(f"rule {cls.name}: {key} must be an integer, got {value}")
            elif key == "window" and value < 1:
                raise ValueError(f"rule {cls.name}: window must be >= 1")
            checked[key] = value
        return checked

    def p(self, key: str) -> float:
        """Numeric parameter ``key`` as a float."""
        return float(self.parameters[key])

    @abstractmethod
    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        """Check ``data``; never raises on missing or odd data."""


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
