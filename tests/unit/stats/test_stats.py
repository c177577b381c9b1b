"""Unit and property tests of mlyard.stats: proportion tests, Wilson intervals, Holm."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, norm

from mlyard.errors import ValidationError
from mlyard.stats import (
    FISHER_EXACT,
    MIN_EXPECTED_FOR_Z,
    Z_TEST,
    expected_counts,
    fisher_exact_test,
    holm,
    two_proportion_test,
    two_proportion_ztest,
    wilson_interval,
)


@st.composite
def two_groups(draw: st.DrawFn, max_n: int = 400) -> tuple[int, int, int, int]:
    n1 = draw(st.integers(1, max_n))
    n2 = draw(st.integers(1, max_n))
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


# -- examples ------------------------------------------------------------------------------


def test_known_values() -> None:
    name, z, p = two_proportion_test(450, 500, 350, 500)
    assert name == Z_TEST and z is not None and z > 7 and p < 1e-10
    assert two_proportion_ztest(500, 500, 500, 500) == (Z_TEST, 0.0, 1.0)
    assert two_proportion_test(500, 500, 500, 500).p_value == 1.0
    small = two_proportion_test(4, 8, 8, 8)
    assert small.test == FISHER_EXACT and small.p_value == pytest.approx(0.0769, abs=1e-3)
    assert small.statistic == 0.0  # odds ratio (4*0)/(4*8)
    assert fisher_exact_test(8, 8, 4, 8).statistic is None  # infinite odds ratio
    assert wilson_interval(50, 100) == (pytest.approx(0.4038, abs=1e-4),
                                        pytest.approx(0.5962, abs=1e-4))
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([]) == []


@pytest.mark.parametrize(("args", "message"), [
    ((1, 0, 1, 1), "both groups need n > 0"),
    ((2, 1, 0, 1), "successes must be between 0 and n, got 2/1"),
    ((-1, 3, 0, 1), "successes must be between 0 and n, got -1/3"),
    ((1.0, 2, 1, 2), "x1 must be an integer count, got 1.0"),
    ((True, 2, 1, 2), "x1 must be an integer count, got True"),
])
def test_bad_counts(args: tuple[int, int, int, int], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        two_proportion_test(*args)


def test_bad_interval_and_p_values() -> None:
    for args, message in (((1, 0, 0.95), "a Wilson interval needs n > 0"),
                          ((3, 2, 0.95), "successes must be between 0 and n=2, got 3"),
                          ((1, 2, 1.0), "confidence must be between 0 and 1, got 1.0"),
                          ((1, 2, 0.0), "confidence must be between 0 and 1, got 0.0")):
        with pytest.raises(ValidationError, match=re.escape(message)):
            wilson_interval(*args)  # type: ignore[arg-type]
    for values in ([0.5, 1.5], [math.nan], [-0.1]):
        with pytest.raises(ValidationError, match="p-values"):
            holm(values)


# -- properties ----------------------------------------------------------------------------


@given(two_groups())
def test_p_values_are_probabilities(counts: tuple[int, int, int, int]) -> None:
    for test in (two_proportion_test, two_proportion_ztest, fisher_exact_test):
        p = test(*counts).p_value
        assert 0.0 <= p <= 1.0


@given(two_groups())
def test_tests_are_symmetric(counts: tuple[int, int, int, int]) -> None:
    x1, n1, x2, n2 = counts
    for test in (two_proportion_test, two_proportion_ztest, fisher_exact_test):
        forward, backward = test(x1, n1, x2, n2), test(x2, n2, x1, n1)
        assert forward.test == backward.test
        assert forward.p_value == pytest.approx(backward.p_value, rel=1e-9, abs=1e-12)
    z, back = two_proportion_ztest(x1, n1, x2, n2).statistic, two_proportion_ztest(
        x2, n2, x1, n1).statistic
    assert z is not None and back is not None and z == pytest.approx(-back, abs=1e-12)


@given(two_groups())
def test_ztest_agrees_with_scipy_chi_square(counts: tuple[int, int, int, int]) -> None:
    x1, n1, x2, n2 = counts
    assume(0 < x1 + x2 < n1 + n2)  # chi2_contingency refuses an empty column
    result = two_proportion_ztest(*counts)
    chi2, p, _, _ = chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False)
    assert result.statistic is not None
    assert result.statistic**2 == pytest.approx(chi2, rel=1e-9, abs=1e-9)
    assert result.p_value == pytest.approx(p, rel=1e-6, abs=1e-12)
    assert math.copysign(1.0, result.statistic) == math.copysign(1.0, x1 / n1 - x2 / n2) or (
        result.statistic == 0.0)


@given(two_groups())
def test_test_choice_follows_expected_counts(counts: tuple[int, int, int, int]) -> None:
    small = min(expected_counts(*counts)) < MIN_EXPECTED_FOR_Z
    assert two_proportion_test(*counts).test == (FISHER_EXACT if small else Z_TEST)


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.floats(0.5, 0.999))
def test_wilson_interval_matches_closed_form(case: tuple[int, int], confidence: float) -> None:
    k, n = case
    low, high = wilson_interval(k, n, confidence)
    assert 0.0 <= low <= k / n <= high <= 1.0
    z = norm.ppf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert low == pytest.approx(0.0 if k == 0 else centre - half, abs=1e-9)
    assert high == pytest.approx(1.0 if k == n else centre + half, abs=1e-9)
    wider_low, wider_high = wilson_interval(k, n, min(0.9999, confidence + 0.0005))
    assert wider_low <= low + 1e-12 and wider_high >= high - 1e-12


def _holm_rejections(p_values: list[float], alpha: float) -> set[int]:
    """Holm's procedure as usually stated: walk the sorted p-values, rejecting while
    p_(i) <= alpha / (k - i)."""
    k = len(p_values)
    rejected: set[int] = set()
    for rank, i in enumerate(sorted(range(k), key=lambda j: p_values[j])):
        if p_values[i] >= alpha / (k - rank):
            break
        rejected.add(i)
    return rejected


@settings(max_examples=300)
@given(st.lists(st.floats(0.0, 1.0), max_size=12), st.sampled_from([0.01, 0.05, 0.1]))
def test_holm_is_holms_procedure(p_values: list[float], alpha: float) -> None:
    adjusted = holm(p_values)
    assert len(adjusted) == len(p_values)
    assert all(p <= a <= 1.0 for p, a in zip(p_values, adjusted, strict=True))
    for i, j in ((i, j) for i in range(len(p_values)) for j in range(len(p_values))):
        if p_values[i] <= p_values[j]:
            assert adjusted[i] <= adjusted[j] or p_values[i] == p_values[j]
    # Rejecting adjusted < alpha is the step-down procedure (up to float rounding at the edge).
    assume(all(abs(p * (len(p_values) - r) - alpha) > 1e-12
               for r in range(len(p_values)) for p in p_values))
    assert {i for i, a in enumerate(adjusted) if a < alpha} == _holm_rejections(p_values, alpha)
    if len(p_values) == 1:
        assert adjusted == p_values
