"""Helpers shared by the tabular and text explanations: Clarify's global aggregations,
the seeded record sample, and a seeded numpy global generator (shap draws from it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd

from mlyard.errors import ValidationError


def aggregate(values: np.ndarray, method: str) -> float:
    """Clarify's global aggregation of local SHAP values: ``mean_abs`` (mean of absolute
    values), ``median`` (median of the values) or ``mean_sq`` (mean of squares)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return 0.0
    if method == "mean_abs":
        return float(np.abs(values).mean())
    if method == "median":
        return float(np.median(values))
    if method == "mean_sq":
        return float(np.square(values).mean())
    raise ValidationError(f"unknown agg_method {method!r}; one of mean_abs, median, mean_sq")


def sample_records(frame: pd.DataFrame, max_records: int | None, seed: int) -> pd.DataFrame:
    """``frame``, or a seeded sample of ``max_records`` of its rows (in data order)."""
    if max_records is None or len(frame) <= max_records:
        return frame
    return frame.sample(n=max_records, random_state=seed).sort_index()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (shap's explainers draw from it) and restore it."""
    state = np.random.get_state()
    np.random.seed(seed % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)
