"""One column's profile: counts (missing, invalid, distinct), statistics by kind
(numeric summary and histogram, top values, date range, text statistics) and warnings."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.profile.text import histogram, text_stats, token_counts
from mlyard.analysis.profile.types import Inferred

#: Warn when at least this share of a column is missing.
MISSING_WARN = 0.05
#: A categorical column with more distinct values than this has high cardinality.
HIGH_CARDINALITY = 50
#: |skewness| above this is called skewed.
SKEW_WARN = 2.0


def _hashable(series: pd.Series) -> pd.Series:
    """``series`` itself if its values hash, else their string forms (lists, dicts)."""
    try:
        series.head(100).nunique()
        return series
    except TypeError:
        return series.map(lambda v: v if v is None or v != v else str(v))


def top_values(series: pd.Series, top_k: int) -> dict[str, Any]:
    """The ``top_k`` most frequent non-missing values with counts, and the count of the
    others."""
    counts = series.value_counts(dropna=True)
    top = counts.head(top_k)
    return {"top_values": [{"value": str(v), "count": int(c)} for v, c in top.items()],
            "other_count": int(counts.iloc[top_k:].sum())}


def _numeric(values: pd.Series) -> dict[str, Any]:
    arr = values.to_numpy(dtype=np.float64)
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return {}
    q = np.percentile(finite, [5, 25, 50, 75, 95])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # skew of a constant column
        skew = float(np.asarray(pd.Series(finite).skew())) if finite.size > 2 else float("nan")
    return {"min": float(finite.min()), "max": float(finite.max()),
            "mean": float(finite.mean()), "std": float(finite.std(ddof=1)) if finite.size > 1
            else 0.0, "p05": float(q[0]), "p25": float(q[1]), "median": float(q[2]),
            "p75": float(q[3]), "p95": float(q[4]), "zeros": int((finite == 0).sum()),
            "negatives": int((finite < 0).sum()), "skewness": skew}


def profile_column(name: str, series: pd.Series, inferred: Inferred,
                   top_k: int) -> dict[str, Any]:
    """The JSON profile of column ``name`` (``series``) of the inferred kind."""
    rows = len(series)
    missing = int(series.isna().sum())
    count = rows - missing
    hashable = _hashable(series)
    distinct = int(hashable.nunique(dropna=True))
    out: dict[str, Any] = {
        "name": name, "kind": inferred.kind, "dtype": str(series.dtype), "count": count,
        "missing": missing, "missing_share": missing / rows if rows else 0.0,
        "invalid": inferred.invalid, "distinct": distinct,
        "distinct_share": distinct / count if count else 0.0,
    }
    warn: list[str] = []
    if count == 0:
        warn.append("all values are missing")
    elif missing / rows >= MISSING_WARN:
        warn.append(f"{missing / rows:.1%} of the values are missing")
    if inferred.invalid:
        what = "dates" if inferred.kind == "datetime" else "numbers"
        warn.append(f"{inferred.invalid} value(s) are not valid {what}")
    if distinct == 1:
        warn.append("constant: a single distinct value")

    if inferred.is_number:
        out["numeric"] = _numeric(inferred.values)
        skew = out["numeric"].get("skewness")
        if skew is not None and np.isfinite(skew) and abs(skew) > SKEW_WARN:
            warn.append(f"skewed (skewness {skew:.2f})")
    if inferred.kind == "numeric":
        out["histogram"] = histogram(inferred.values.to_numpy(dtype=np.float64))
    elif inferred.kind in ("categorical", "boolean"):
        out.update(top_values(hashable, top_k))
        if inferred.kind == "categorical" and count > 20 and distinct == count:
            warn.append("every value is distinct (an identifier?)")
        elif inferred.kind == "categorical" and distinct > HIGH_CARDINALITY:
            warn.append(f"high cardinality ({distinct} distinct values)")
    elif inferred.kind == "datetime":
        dates = inferred.values.dropna()
        if not dates.empty:
            stamps = dates.astype("int64").to_numpy(dtype=np.float64)
            hist = histogram(stamps)
            unit = str(dates.dt.unit)
            out["datetime"] = {"min": str(dates.min()), "max": str(dates.max())}
            out["histogram"] = {"edges": [str(pd.Timestamp(int(e), unit=unit))
                                          for e in hist["edges"]], "counts": hist["counts"]}
    elif inferred.kind == "text":
        inferred.tokens = token_counts(series)
        out["text"] = text_stats(series, top_k, inferred.tokens, inferred.words)
    out["warnings"] = warn
    return out
