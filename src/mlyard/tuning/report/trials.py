"""A tuning job's trials as the analytics and the report see them (:class:`TrialRow`), their
statuses, and helpers the other modules of :mod:`mlyard.tuning.report` share."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlyard.errors import ValidationError

PENDING = "Pending"
IN_PROGRESS = "InProgress"
COMPLETED = "Completed"
FAILED = "Failed"
STOPPED = "Stopped"
#: Every trial status, in the order reports list them.
TRIAL_STATUSES: tuple[str, ...] = (PENDING, IN_PROGRESS, COMPLETED, FAILED, STOPPED)

OWN_SOURCE = "own"
WARM_START_PREFIX = "warm-start"

LOG_RATIO = 100.0
"""A numeric axis (or importance distribution) is log-scaled when max/min reaches this."""


@dataclass(frozen=True)
class TrialRow:
    """One trial of a tuning job, as the report sees it.

    ``hyperparameters`` holds the tuned hyperparameters only; ``objective`` is the final
    objective value; ``start``/``end`` are unix seconds; ``intermediate`` is the objective per
    epoch/step as ``(step, value)``; ``source`` is ``"own"`` or ``"warm-start:<parent job>"``
    for a trial reused from a parent tuning job.
    """

    number: int
    training_job: str
    status: str
    hyperparameters: dict[str, Any]
    objective: float | None
    start: float | None
    end: float | None
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    stop_reason: str | None = None
    source: str = OWN_SOURCE

    @property
    def is_warm_start(self) -> bool:
        """True for a trial reused from a parent tuning job."""
        return self.source.startswith(WARM_START_PREFIX)

    @property
    def value(self) -> float | None:
        """``objective`` as a float, None when missing or not finite."""
        return finite(self.objective)

    @property
    def elapsed(self) -> float | None:
        """Seconds from start to end, None unless both are known."""
        if self.start is None or self.end is None:
            return None
        return max(0.0, float(self.end) - float(self.start))


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite real number (not a bool), else None."""
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def maximize_direction(direction: str) -> bool:
    """True for "Maximize", False for "Minimize" (case-insensitive)."""
    key = str(direction).strip().lower()
    if key in ("maximize", "max"):
        return True
    if key in ("minimize", "min"):
        return False
    raise ValidationError(f"objective direction must be Maximize or Minimize, not {direction!r}")


def by_number(rows: Sequence[TrialRow]) -> list[TrialRow]:
    """``rows`` sorted by trial number."""
    return sorted(rows, key=lambda r: r.number)


def param_names(rows: Sequence[TrialRow]) -> list[str]:
    """Tuned hyperparameter names in order of first appearance (rows by trial number)."""
    names: dict[str, None] = {}
    for row in by_number(rows):
        for name in row.hyperparameters:
            names.setdefault(str(name), None)
    return list(names)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a real number (a bool is not)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
