"""Confidence intervals of a proportion.

:func:`wilson_interval` is the Wilson score interval, computed by scipy
(:meth:`scipy.stats.binomtest(...).proportion_ci(method="wilson") <scipy.stats.binomtest>`).
It behaves well near 0 and 1 and for small ``n``, unlike the normal (Wald) interval, and
its bounds are exactly 0 with no successes and exactly 1 with no failures.
"""

from __future__ import annotations

from mlyard.errors import ValidationError


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The two-sided Wilson score interval ``(low, high)`` of the proportion
    ``successes / n`` at ``confidence`` (between 0 and 1). Raises
    :class:`~mlyard.errors.ValidationError` unless ``n > 0`` and ``0 <= successes <= n``."""
    from scipy.stats import binomtest

    for name, value in (("successes", successes), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{name} must be an integer count, got {value!r}")
    if n <= 0:
        raise ValidationError("a Wilson interval needs n > 0")
    if not 0 <= successes <= n:
        raise ValidationError(f"successes must be between 0 and n={n}, got {successes}")
    if not 0.0 < confidence < 1.0:
        raise ValidationError(f"confidence must be between 0 and 1, got {confidence}")
    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)
