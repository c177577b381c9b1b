"""One pass over the rows: a count table per facet code x label x subgroup x prediction.

Every bias metric Clarify computes from labels and predictions (all but FT) is a function of
a handful of counts per side (the sensitive group and the rest): rows, positive labels,
positive predictions and their crossings, per subgroup for CDDL/CDDPL. ``smclarify``
recounts them with boolean masks for every metric of every facet value (tens of full scans
per value); here one :func:`numpy.bincount` over a combined integer code gathers the whole
table for all values at once, and the metrics of each group are read off sums of it. That
is what makes a 20-value facet over 10M rows a fraction of a second (bench/analysis.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CountTable:
    """``counts[code, label, group, pred]``: rows per facet code, positive label (0/1),
    subgroup code (the last one: no subgroup) and positive prediction (0/1; one slot when
    there are no predictions)."""

    counts: np.ndarray
    n_groups: int          # real subgroups (the table has one more slot) or 0 without groups

    def side(self, mask: np.ndarray) -> np.ndarray:
        """The ``[label, group, pred]`` counts of the codes in ``mask`` summed."""
        return np.asarray(self.counts[mask].sum(axis=0))

    @property
    def total(self) -> np.ndarray:
        """The ``[label, group, pred]`` counts of all rows."""
        return np.asarray(self.counts.sum(axis=0))


def count_table(codes: np.ndarray, n_codes: int, positive: np.ndarray,
                group_codes: np.ndarray | None = None, n_groups: int = 0,
                predicted: np.ndarray | None = None) -> CountTable:
    """Count the rows by facet code (``0 .. n_codes-1``), positive label, subgroup code
    (``0 .. n_groups``, ``n_groups`` meaning none) and positive prediction in one pass."""
    slots_g = n_groups + 1 if group_codes is not None else 1
    slots_p = 2 if predicted is not None else 1
    # key = ((code * 2 + label) * slots_g + group) * slots_p + pred, in few passes:
    # code * stride, then the label's stride added where positive, and so on.
    key = np.multiply(codes, 2 * slots_g * slots_p, dtype=np.int64)
    np.add(key, slots_g * slots_p, out=key, where=positive)
    if group_codes is not None:
        if slots_p == 1:
            key += group_codes
        else:
            key += np.multiply(group_codes, slots_p, dtype=np.int64)
    if predicted is not None:
        np.add(key, 1, out=key, where=predicted)
    size = n_codes * 2 * slots_g * slots_p
    counts = np.bincount(key, minlength=size).reshape(n_codes, 2, slots_g, slots_p)
    return CountTable(counts, n_groups if group_codes is not None else 0)
