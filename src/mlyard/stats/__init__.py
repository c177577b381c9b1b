"""Statistics for comparing models and variants: proportion tests, confidence intervals and
multiple-testing correction.

* :mod:`mlyard.stats.proportions`: :func:`two_proportion_test` (z-test, or Fisher's exact
  test for small counts), :func:`two_proportion_ztest`, :func:`fisher_exact_test`,
  :func:`expected_counts`, :class:`ProportionTest`;
* :mod:`mlyard.stats.intervals`: :func:`wilson_interval`;
* :mod:`mlyard.stats.multiple`: :func:`holm`.

scipy does the numerical work where it has the method; each module says what it keeps of
its own and why. scipy is imported when a function runs, not when the package is imported.
"""

from mlyard.stats.intervals import wilson_interval
from mlyard.stats.multiple import holm
from mlyard.stats.proportions import (
    FISHER_EXACT,
    MIN_EXPECTED_FOR_Z,
    Z_TEST,
    ProportionTest,
    check_counts,
    expected_counts,
    fisher_exact_test,
    two_proportion_test,
    two_proportion_ztest,
)

__all__ = [
    "FISHER_EXACT",
    "MIN_EXPECTED_FOR_Z",
    "Z_TEST",
    "ProportionTest",
    "check_counts",
    "expected_counts",
    "fisher_exact_test",
    "holm",
    "two_proportion_test",
    "two_proportion_ztest",
    "wilson_interval",
]
