"""Post-training bias metrics from count tables (DPPL, DI, DCA, DCR, RD, SD, DAR, DRR, AD,
CDDPL, TE, GE) and the flip test (FT, a k-nearest-neighbour test on the features).

The counted metrics follow ``smclarify``'s definitions and arithmetic (see
:mod:`mlyard.analysis.bias.pretraining`); ``d`` and ``a`` are ``[label, group, pred]``
counts of the sensitive group and of the rest. FT is not a counting metric: as in Clarify, a
k-NN classifier (scikit-learn, 5 neighbours, 1 when the rest has 9 rows or fewer) is fitted
on the rest's features and predicted labels and asked to predict the group; FT is the share
of the group whose model prediction is positive where the neighbours' is negative, minus the
reverse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlyard.analysis.bias.pretraining import INFINITY, MetricFailure, _dpl, cdd, divide

FT_DEFAULT_NEIGHBOR = 5
FT_MIN_NEIGHBOR = 1
FT_SAMPLES_COUNT_THRESHOLD = 9


@dataclass
class Confusion:
    """Confusion counts of one side."""

    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, side: np.ndarray) -> Confusion:
        """From ``[label, group, pred]`` counts."""
        m = side.sum(axis=1)
        return cls(tp=int(m[1, 1]), fp=int(m[0, 1]), fn=int(m[1, 0]), tn=int(m[0, 0]))

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def _require_sides(cd: Confusion, ca: Confusion, prefix: str = "") -> None:
    if cd.n == 0:
        raise MetricFailure(f"{prefix}Facet set is empty")
    if ca.n == 0:
        raise MetricFailure(f"{prefix}Negated Facet set is empty")


def dppl(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in positive proportions in predicted labels."""
    cd, ca = Confusion.of(d), Confusion.of(a)
    return _dpl(cd.tp + cd.fp, cd.n, ca.tp + ca.fp, ca.n)


def di(d: np.ndarray, a: np.ndarray) -> float:
    """Disparate impact: the group's predicted positive rate over the rest's."""
    cd, ca = Confusion.of(d), Confusion.of(a)
    if ca.n == 0:
        raise MetricFailure("Negated facet set is empty")
    qa = (ca.tp + ca.fp) / ca.n
    if cd.n == 0:
        raise MetricFailure("Facet set is empty")
    qd = (cd.tp + cd.fp) / cd.n
    return divide(qd, qa)


def _both_inf(x: float, y: float) -> bool:
    return x == y and x == INFINITY


def _dco(d: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    cd, ca = Confusion.of(d), Confusion.of(a)
    _require_sides(cd, ca, "DCO: ")
    rr_a = divide(ca.tn + ca.fp, ca.tn + ca.fn)
    rr_d = divide(cd.tn + cd.fp, cd.tn + cd.fn)
    c_a = divide(ca.tp + ca.fn, ca.tp + ca.fp)
    c_d = divide(cd.tp + cd.fn, cd.tp + cd.fp)
    dca = 0.0 if _both_inf(c_a, c_d) else c_a - c_d
    dcr = 0.0 if _both_inf(rr_a, rr_d) else rr_d - rr_a
    return dca, dcr


def dca(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in conditional acceptance (observed over predicted positives)."""
    return _dco(d, a)[0]


def dcr(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in conditional rejection (observed over predicted negatives)."""
    return _dco(d, a)[1]


def _dlr(d: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    cd, ca = Confusion.of(d), Confusion.of(a)
    _require_sides(cd, ca, "DLR: ")
    ar_a, ar_d = divide(ca.tp, ca.tp + ca.fp), divide(cd.tp, cd.tp + cd.fp)
    rr_a, rr_d = divide(ca.tn, ca.tn + ca.fn), divide(cd.tn, cd.tn + cd.fn)
    dar = 0.0 if _both_inf(ar_a, ar_d) else ar_a - ar_d
    drr = 0.0 if _both_inf(rr_a, rr_d) else rr_d - rr_a
    return dar, drr


def dar(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in acceptance rates (precision)."""
    return _dlr(d, a)[0]


def drr(d: np.ndarray, a: np.ndarray) -> float:
    """Difference in rejection rates (negative predictive value)."""
    return _dlr(d, a)[1]


def _dla(d: np.ndarray, a: np.ndarray) -> tuple[float, float]:
    cd, ca = Confusion.of(d), Confusion.of(a)
    _require_sides(cd, ca, "DLA: ")
    rec_a, sp_a = divide(ca.tp, ca.tp + ca.fn), divide(ca.tn, ca.tn + ca.fp)
    rec_d, sp_d = divide(cd.tp, cd.tp + cd.fn), divide(cd.tn, cd.tn + cd.fp)
    rd = 0.0 if _both_inf(rec_a, rec_d) else rec_a - rec_d
    sd = 0.0 if _both_inf(sp_a, sp_d) else sp_d - sp_a
    return rd, sd


def rd(d: np.ndarray, a: np.ndarray) -> float:
    """Recall difference."""
    return _dla(d, a)[0]


def sd(d: np.ndarray, a: np.ndarray) -> float:
    """Specificity difference."""
    return _dla(d, a)[1]


def ad(d: np.ndarray, a: np.ndarray) -> float:
    """Accuracy difference."""
    cd, ca = Confusion.of(d), Confusion.of(a)
    _require_sides(cd, ca)
    acc_a = divide(ca.tp + ca.tn, ca.n)
    acc_d = divide(cd.tp + cd.tn, cd.n)
    return 0.0 if _both_inf(acc_a, acc_d) else acc_a - acc_d


def te(d: np.ndarray, a: np.ndarray) -> float:
    """Treatment equality: false negatives per false positive, group minus rest."""
    cd, ca = Confusion.of(d), Confusion.of(a)
    _require_sides(cd, ca)
    tau_a, tau_d = divide(ca.fn, ca.fp), divide(cd.fn, cd.fp)
    return 0.0 if _both_inf(tau_a, tau_d) else tau_d - tau_a


def cddpl(d: np.ndarray, a: np.ndarray, n_groups: int) -> float:
    """CDDPL: conditional demographic disparity of the predicted labels."""
    return cdd(d.sum(axis=0).T, a.sum(axis=0).T, n_groups)


def ge(total: np.ndarray) -> float:
    """Generalized entropy (alpha 2) of the benefit ``pred - label + 1`` over all rows."""
    c = Confusion.of(total)
    n = c.n
    if n == 0:
        raise MetricFailure("dataset must be non-empty")
    # benefit 0: false negatives, 1: correct, 2: false positives
    mean = (c.tp + c.tn + 2 * c.fp) / n
    if mean == 0:
        raise MetricFailure("All predicted labels are false negatives. There should be at "
                            "least one prediction that is not false negative.")
    ratio1, ratio2 = 1 / mean, 2 / mean
    total_sum = c.fn * (-1.0) + (c.tp + c.tn) * (ratio1 ** 2 - 1) + c.fp * (ratio2 ** 2 - 1)
    return total_sum / (n * 2 * (2 - 1))


def flip_test(features: pd.DataFrame, sensitive: np.ndarray, predicted: np.ndarray) -> float:
    """FT for one group (``sensitive`` rows) given the model's positive predictions."""
    from sklearn.neighbors import KNeighborsClassifier

    nd = int(sensitive.sum())
    if nd == 0:
        raise MetricFailure("Facet set is empty")
    if nd == len(sensitive):
        raise MetricFailure("Negated Facet set is empty")
    if len(features.columns) != len(features.select_dtypes([np.number, bool]).columns):
        raise MetricFailure("FlipTest does not support non-numeric columns")
    data = np.asarray(features)
    rest = ~sensitive
    n_neighbors = FT_DEFAULT_NEIGHBOR if int(rest.sum()) > FT_SAMPLES_COUNT_THRESHOLD \
        else FT_MIN_NEIGHBOR
    knn = KNeighborsClassifier(n_neighbors=n_neighbors, weights="uniform", algorithm="auto",
                               leaf_size=30, p=2, metric="minkowski")
    knn.fit(data[rest], predicted[rest])
    if_rest = np.asarray(knn.predict(data[sensitive]), dtype=bool)
    model = predicted[sensitive]
    flips = int((model & ~if_rest).sum()) - int((~model & if_rest).sum())
    return divide(flips, nd)


#: Metric name -> function of (d, a) counts.
PAIR_METRICS = {"DPPL": dppl, "DI": di, "DCA": dca, "DCR": dcr, "RD": rd, "SD": sd,
                "DAR": dar, "DRR": drr, "AD": ad, "TE": te}
