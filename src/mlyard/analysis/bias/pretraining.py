"""Pre-training bias metrics (CI, DPL, KL, JS, LP, TVD, KS, CDDL) from count tables.

Each function takes the counts of the sensitive group (``d``) and of the rest (``a``) as
``[label, group, pred]`` arrays (:mod:`mlyard.analysis.bias.counts`) and computes Clarify's
definition with the same arithmetic as ``smclarify`` (Python integers divided in the same
order, the same numpy reductions), so values agree to the last bits. Where ``smclarify``
raises for a group (an empty side, no common label class, no subgroup column) the function
raises :class:`MetricFailure` with ``smclarify``'s message: Clarify writes that metric with
``"value": null`` and the message as ``"error"``, and so does mlyard.
"""

from __future__ import annotations

import numpy as np

INFINITY = float("inf")


class MetricFailure(ValueError):
    """A metric that cannot be computed for a group (Clarify's ``error``)."""


def divide(a: float, b: float) -> float:
    """Clarify's division: 0/0 is 0, x/0 is +-infinity."""
    if b == 0 and a == 0:
        return 0.0
    if b == 0:
        return -INFINITY if a < 0 else INFINITY
    return a / b


def _sizes(d: np.ndarray, a: np.ndarray) -> tuple[int, int]:
    return int(d.sum()), int(a.sum())


def ci(d: np.ndarray, a: np.ndarray) -> float:
    """Class Imbalance: ``(n_a - n_d) / (n_a + n_d)``."""
    nd, na = _sizes(d, a)
    if na == 0:
        raise MetricFailure("CI: negated facet set is empty. Check that x[~facet] has "
                            "non-zero length.")
    if nd == 0:
        raise MetricFailure("CI: facet set is empty. Check that x[facet] has non-zero length.")
    return float(na - nd) / (na + nd)


def _dpl(d_pos: int, nd: int, a_pos: int, na: int) -> float:
    if na == 0:
        raise MetricFailure("Negative facet set is empty.")
    if nd == 0:
        raise MetricFailure("Facet set is empty.")
    return a_pos / na - d_pos / nd


def dpl(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in Positive Proportions in Labels: ``n_a(1)/n_a - n_d(1)/n_d``."""
    nd, na = _sizes(d, a)
    return _dpl(int(d[1].sum()), nd, int(a[1].sum()), na)


def aligned_pdfs(d_classes: list[int], a_classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The label distributions of the rest and of the group over the classes that occur in
    both (smclarify's ``pdfs_aligned_nonzero``), classes in sorted order."""
    na, nd = sum(a_classes), sum(d_classes)
    pa = [ca / na for ca, cd in zip(a_classes, d_classes, strict=True) if ca and cd]
    pd_ = [cd / nd for ca, cd in zip(a_classes, d_classes, strict=True) if ca and cd]
    if not pa:
        raise MetricFailure("No instance of common facet found, dataset may be too small")
    return np.array(pa), np.array(pd_)


def _classes(side: np.ndarray) -> list[int]:
    """Counts of the negative and positive label (``False < True``, pdf order)."""
    return [int(side[0].sum()), int(side[1].sum())]


def kl(d: np.ndarray, a: np.ndarray) -> float:
    """Kullback-Leibler divergence of the rest's label distribution from the group's."""
    pa, pd_ = aligned_pdfs(_classes(d), _classes(a))
    return float(np.sum(pa * np.log(pa / pd_)))


def js(d: np.ndarray, a: np.ndarray) -> float:
    """Jensen-Shannon divergence of the two label distributions."""
    pa, pd_ = aligned_pdfs(_classes(d), _classes(a))
    p = 1 / 2 * (pa + pd_)
    return float(0.5 * (np.sum(pa * np.log(pa / p)) + np.sum(pd_ * np.log(pd_ / p))))


def _lp(d: np.ndarray, a: np.ndarray, order: float) -> float:
    pa, pd_ = aligned_pdfs(_classes(d), _classes(a))
    return float(np.linalg.norm(pa - pd_, order))


def lp(d: np.ndarray, a: np.ndarray) -> float:
    """L2 norm of the difference of the two label distributions."""
    return _lp(d, a, 2)


def tvd(d: np.ndarray, a: np.ndarray) -> float:
    """Total variation distance: half the L1 norm of the difference."""
    return 0.5 * _lp(d, a, 1)


def ks(d: np.ndarray, a: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance: the largest difference over the label classes."""
    return _lp(d, a, np.inf)


def cdd(d: np.ndarray, a: np.ndarray, n_groups: int) -> float:
    """Conditional demographic disparity over the subgroups, of the label (``d``/``a``
    indexed ``[outcome, group]``: pass labels for CDDL, predictions for CDDPL)."""
    if n_groups == 0:
        raise MetricFailure("Group variable is empty or not provided")
    total = d + a
    if int(total[1].sum()) == 0:
        raise MetricFailure("No positive labels in set")
    if int(total[0].sum()) == 0:
        raise MetricFailure("No negative labels in set")
    # Subgroups in sorted order of their values (the last slot is "no subgroup").
    num_a = d[1, :n_groups]
    den_a = total[1, :n_groups]
    num_d = d[0, :n_groups]
    den_d = total[0, :n_groups]
    share_a = np.divide(num_a, den_a, out=np.zeros(n_groups), where=den_a != 0)
    share_d = np.divide(num_d, den_d, out=np.zeros(n_groups), where=den_d != 0)
    counts = (den_a + den_d).astype(np.float64)
    # smclarify lists only the subgroups present in the data.
    present = counts > 0
    counts, disparity = counts[present], (share_d - share_a)[present]
    return divide(float(np.sum(counts * disparity)), float(np.sum(counts)))


def cddl(d: np.ndarray, a: np.ndarray, n_groups: int) -> float:
    """CDDL: :func:`cdd` of the observed labels."""
    return cdd(d.sum(axis=2), a.sum(axis=2), n_groups)


#: Metric name -> function of (d, a) counts.
PAIR_METRICS = {"CI": ci, "DPL": dpl, "KL": kl, "JS": js, "LP": lp, "TVD": tvd, "KS": ks}
