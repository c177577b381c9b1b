"""Tests of a difference between two proportions ``x1 / n1`` and ``x2 / n2``.

* :func:`fisher_exact_test`: Fisher's exact test of the 2x2 table, computed by
  :func:`scipy.stats.fisher_exact`.
* :func:`two_proportion_ztest`: the pooled two-proportion z-test. scipy has no such function;
  its nearest, :func:`scipy.stats.chi2_contingency` with ``correction=False``, gives the same
  p-value (its statistic is ``z**2``) but not the sign of the difference, and it refuses
  tables with an empty row or column. So z is computed here (one line of algebra) and the
  tail probability comes from :data:`scipy.stats.norm`; the tests check the p-value against
  ``chi2_contingency``.
* :func:`two_proportion_test`: the z-test, or Fisher's test when the normal approximation is
  poor (an expected cell count below :data:`MIN_EXPECTED_FOR_Z`, the usual rule of thumb).

All p-values are two-sided and in ``[0, 1]``. Bad counts raise
:class:`~mlyard.errors.ValidationError`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from mlyard.errors import ValidationError

#: Expected cell count below which :func:`two_proportion_test` uses the exact test.
MIN_EXPECTED_FOR_Z = 5.0

Z_TEST = "two-proportion z-test"
FISHER_EXACT = "Fisher exact"


class ProportionTest(NamedTuple):
    """A test's name, its statistic and its two-sided p-value. The statistic is z for the
    z-test and the sample odds ratio for Fisher's test (None when that is not finite)."""

    test: str
    statistic: float | None
    p_value: float


def check_counts(x1: int, n1: int, x2: int, n2: int) -> None:
    """Raise :class:`ValidationError` unless both groups are integer counts with
    ``0 <= x <= n`` and ``n > 0``."""
    for name, value in (("x1", x1), ("n1", n1), ("x2", x2), ("n2", n2)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{name} must be an integer count, got {value!r}")
    if n1 <= 0 or n2 <= 0:
        raise ValidationError("both groups need n > 0")
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValidationError(f"successes must be between 0 and n, got {x1}/{n1} and {x2}/{n2}")


def expected_counts(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float, float]:
    """The expected cell counts of the 2x2 table ``[[x1, n1 - x1], [x2, n2 - x2]]`` under
    equal proportions: ``(hits 1, misses 1, hits 2, misses 2)``."""
    check_counts(x1, n1, x2, n2)
    total = n1 + n2
    hits = x1 + x2
    return (n1 * hits / total, n1 * (total - hits) / total,
            n2 * hits / total, n2 * (total - hits) / total)


def fisher_exact_test(x1: int, n1: int, x2: int, n2: int) -> ProportionTest:
    """Fisher's exact test (two-sided) of ``x1 / n1`` against ``x2 / n2``."""
    from scipy.stats import fisher_exact

    check_counts(x1, n1, x2, n2)
    odds, p = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided")
    odds_f = float(odds)
    return ProportionTest(FISHER_EXACT, odds_f if math.isfinite(odds_f) else None,
                      min(1.0, max(0.0, float(p))))


def two_proportion_ztest(x1: int, n1: int, x2: int, n2: int) -> ProportionTest:
    """The pooled two-proportion z-test (two-sided): ``z = (p1 - p2) / se`` with
    ``se = sqrt(p (1 - p) (1/n1 + 1/n2))`` and ``p`` the pooled proportion. When every trial
    succeeded or every trial failed, ``se`` is 0 and the result is ``z = 0, p = 1``."""
    from scipy.stats import norm

    check_counts(x1, n1, x2, n2)
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0.0:
        return ProportionTest(Z_TEST, 0.0, 1.0)
    z = (x1 / n1 - x2 / n2) / se
    return ProportionTest(Z_TEST, z, min(1.0, float(2.0 * norm.sf(abs(z)))))


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> ProportionTest:
    """:func:`two_proportion_ztest`, or :func:`fisher_exact_test` when an expected cell count
    of the 2x2 table is below :data:`MIN_EXPECTED_FOR_Z`."""
    if min(expected_counts(x1, n1, x2, n2)) < MIN_EXPECTED_FOR_Z:
        return fisher_exact_test(x1, n1, x2, n2)
    return two_proportion_ztest(x1, n1, x2, n2)
