"""The A/B report's comparisons and recommendation.

Every pair of variants is tested for a difference in accuracy (with ground truth) or in
error rate (without), with :func:`mlyard.stats.two_proportion_test` and Holm's adjustment
(:func:`mlyard.stats.holm`) over all pairs. The recommendation:

* with scored ground truth: the most accurate variant if it is significantly better than
  every other at ``alpha``, else "no significant difference" naming the leader;
* without: *operational metrics only*: the variant with the lowest 5xx error rate if that
  is significantly lower than every other's, else the lowest p99 model latency among the
  variants whose 5xx error rate is not significantly worse than the best (no test on
  latency). Error rates here are 5xx answers (the model's failures, 424, and the server's,
  503s from the replica pool included) per invocation; 4xx answers are the client's bad
  input, shown in the report but never held against a variant.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

from mlyard.serving.abreport.formatting import ms, p_value, pct
from mlyard.serving.abreport.model import PairwiseTest, Recommendation, VariantSummary
from mlyard.stats import holm, two_proportion_test


def pairwise(
    metric: Literal["accuracy", "error_rate"],
    counts: Sequence[tuple[str, int, int]],
    alpha: float,
) -> list[PairwiseTest]:
    """Tests of every pair of ``(variant, hits, n)`` with n > 0."""
    live = [c for c in counts if c[2] > 0]
    raw: list[tuple[str, int, int, str, int, int, str, float | None, float]] = []
    for (a, xa, na), (b, xb, nb) in itertools.combinations(live, 2):
        test, stat, p = two_proportion_test(xa, na, xb, nb)
        raw.append((a, xa, na, b, xb, nb, test, stat, p))
    adjusted = holm([r[-1] for r in raw])
    return [
        PairwiseTest(metric=metric, variant_a=a, variant_b=b, n_a=na, n_b=nb,
                     rate_a=xa / na, rate_b=xb / nb, difference=xa / na - xb / nb, test=test,
                     statistic=stat, p_value=p, p_adjusted=adj, significant=adj < alpha)
        for (a, xa, na, b, xb, nb, test, stat, p), adj in zip(raw, adjusted, strict=True)
    ]


def _beats_all(leader: str, tests: Sequence[PairwiseTest], higher_is_better: bool) -> bool:
    """Whether ``leader`` is significantly better than every variant it was tested with."""
    mine = [t for t in tests if leader in (t.variant_a, t.variant_b)]
    if not mine:
        return False
    for t in mine:
        diff = t.difference if t.variant_a == leader else -t.difference
        if not t.significant or (diff <= 0 if higher_is_better else diff >= 0):
            return False
    return True


def _worse_than(leader: str, name: str, tests: Sequence[PairwiseTest]) -> bool:
    """Whether ``name``'s error rate is significantly above ``leader``'s."""
    for t in tests:
        if {t.variant_a, t.variant_b} == {leader, name}:
            diff = t.difference if t.variant_a == name else -t.difference
            return t.significant and diff > 0
    return False


def recommend_accuracy(
    summaries: Sequence[VariantSummary], tests: Sequence[PairwiseTest], alpha: float
) -> Recommendation:
    """The recommendation by accuracy against ground truth (see the module notes)."""
    scored = [s for s in summaries if s.scored > 0]
    leader = max(scored, key=lambda s: s.accuracy or 0.0)
    acc = f"{(leader.accuracy or 0.0) * 100:.2f}%"
    if len(scored) == 1:
        return Recommendation(
            winner=None, leader=leader.variant, basis="accuracy", significant=False,
            message=f"only variant {leader.variant} has labelled events (accuracy {acc}); "
                    "nothing to compare",
        )
    if _beats_all(leader.variant, tests, higher_is_better=True):
        worst_p = max(t.p_adjusted for t in tests if leader.variant in (t.variant_a,
                                                                         t.variant_b))
        return Recommendation(
            winner=leader.variant, leader=leader.variant, basis="accuracy", significant=True,
            message=f"variant {leader.variant} wins: accuracy {acc}, significantly better "
                    f"than every other variant (p <= {p_value(worst_p)} at alpha {alpha:g})",
        )
    return Recommendation(
        winner=None, leader=leader.variant, basis="accuracy", significant=False,
        message=f"no significant difference in accuracy at alpha {alpha:g}; leader: "
                f"{leader.variant} ({acc})",
    )


def recommend_operational(
    summaries: Sequence[VariantSummary], tests: Sequence[PairwiseTest], alpha: float
) -> Recommendation:
    """The recommendation by operational metrics: error rate, then p99 latency."""
    live = [s for s in summaries if s.invocations > 0]
    if not live:
        return Recommendation(winner=None, leader=None, basis="none", significant=False,
                              message="no invocations recorded for these variants")
    leader = min(live, key=lambda s: s.error_rate_5xx or 0.0)
    if len(live) == 1:
        return Recommendation(
            winner=None, leader=leader.variant, basis="error_rate", significant=False,
            message=f"only variant {leader.variant} has invocations (5xx error rate "
                    f"{pct(leader.error_rate_5xx)}); nothing to compare; operational metrics "
                    "only, no ground truth",
        )
    if _beats_all(leader.variant, tests, higher_is_better=False):
        return Recommendation(
            winner=leader.variant, leader=leader.variant, basis="error_rate",
            significant=True,
            message=f"variant {leader.variant} wins on 5xx error rate "
                    f"({pct(leader.error_rate_5xx)}, significantly lower than every other "
                    f"variant at alpha {alpha:g}); operational metrics only, no ground truth",
        )
    fine = [s for s in live if not _worse_than(leader.variant, s.variant, tests)]
    timed = [s for s in fine if s.model_latency_p99 is not None]
    if not timed:
        return Recommendation(
            winner=None, leader=leader.variant, basis="error_rate", significant=False,
            message=f"no significant difference in 5xx error rate at alpha {alpha:g} and no "
                    f"latency data; leader: {leader.variant}; operational metrics only",
        )
    fastest = min(timed, key=lambda s: s.model_latency_p99 or 0.0)
    others = ", ".join(f"{s.variant} {ms(s.model_latency_p99)} ms" for s in timed
                       if s is not fastest)
    detail = f" vs {others}" if others else ""
    return Recommendation(
        winner=fastest.variant, leader=fastest.variant, basis="p99_latency", significant=False,
        message=f"variant {fastest.variant} recommended on p99 model latency "
                f"({ms(fastest.model_latency_p99)} ms{detail}); 5xx error rates do not differ "
                f"significantly at alpha {alpha:g}; operational metrics only, no ground truth, "
                "latency not tested for significance",
    )
