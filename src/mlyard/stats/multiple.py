"""Multiple-testing correction.

:func:`holm` is Holm's step-down adjustment, which controls the family-wise error rate
without assumptions on how the tests depend on each other. scipy offers only false discovery
rate control (:func:`scipy.stats.false_discovery_control`: Benjamini-Hochberg/Yekutieli),
not Holm, and the library that has it (statsmodels) would be a large dependency for a few
lines; so the adjustment is written out here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlyard.errors import ValidationError


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order.

    With the ``k`` p-values sorted ascending, the ``i``-th (from 0) becomes
    ``min(1, (k - i) * p)``, made non-decreasing along that order. Rejecting every hypothesis
    whose adjusted p-value is below ``alpha`` is Holm's procedure at level ``alpha``. Raises
    :class:`~mlyard.errors.ValidationError` for a p-value outside ``[0, 1]`` or NaN.
    """
    bad = [p for p in p_values if not (isinstance(p, int | float) and not math.isnan(p)
                                      and 0.0 <= p <= 1.0)]
    if bad:
        raise ValidationError(f"p-values must be numbers in [0, 1], got {bad}")
    k = len(p_values)
    order = sorted(range(k), key=lambda i: p_values[i])
    adjusted = [0.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
