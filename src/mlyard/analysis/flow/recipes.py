"""The data-preparation recipes that flow steps run, as plain functions over pandas objects.

This module imports only the standard library, numpy and pandas on purpose: ``mlyard flow
export`` copies its source into the standalone script it writes, so that the script and
``mlyard flow run`` execute the very same code and give the same frames.

The text recipes follow Amazon Machine Learning's data recipes (the AWS exam curriculum):
``ngrams`` yields every n-gram of size 1 to n, ``osb`` the orthogonal sparse bigrams of a
sliding window (a pair of words ``d`` positions apart joined by ``d`` underscores),
``quantile_bin`` equal-frequency bins (pandas ``qcut``), ``cartesian`` the combination of
two columns' values. Nothing in pandas/sklearn produces OSBs or Amazon ML's cumulative
n-grams from token lists, hence the few lines here.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: The comparison operators of a ``filter`` step's conditions.
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
#: Every operator a ``filter`` condition may use.
OPERATORS = (*COMPARISONS, "isin", "notin", "isnull", "notnull", "contains")

_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")


def condition_mask(frame: pd.DataFrame, column: str, op: str, value: Any) -> pd.Series:
    """A boolean mask of the rows where ``column op value`` holds (a missing value: False)."""
    series = frame[column]
    if op == "==":
        result = series == value
    elif op == "!=":
        result = series != value
    elif op == "<":
        result = series < value
    elif op == "<=":
        result = series <= value
    elif op == ">":
        result = series > value
    elif op == ">=":
        result = series >= value
    elif op == "isin":
        result = series.isin(list(value))
    elif op == "notin":
        result = ~series.isin(list(value)) & series.notna()
    elif op == "isnull":
        result = series.isna()
    elif op == "notnull":
        result = series.notna()
    elif op == "contains":
        result = series.astype("str").str.contains(str(value), regex=False) & series.notna()
    else:
        raise ValueError(f"unknown operator {op!r}")
    mask = pd.Series(result, index=frame.index)
    if mask.dtype != bool:
        mask = mask.astype("boolean").fillna(False).astype(bool)
    return mask & series.notna() if op not in ("isnull", "notnull") else mask


def filter_rows(frame: pd.DataFrame, conditions: Sequence[dict[str, Any]],
                combine: str = "all") -> pd.DataFrame:
    """The rows meeting all (``combine="all"``) or any of the conditions."""
    masks = [condition_mask(frame, c["column"], c["op"], c.get("value")) for c in conditions]
    mask = masks[0]
    for other in masks[1:]:
        mask = (mask & other) if combine == "all" else (mask | other)
    return frame[mask.to_numpy()].reset_index(drop=True)


def impute(frame: pd.DataFrame, columns: Sequence[str], strategy: str,
           value: Any = None) -> pd.DataFrame:
    """Missing values of ``columns`` replaced by the column's mean, median, mode or ``value``."""
    out = frame.copy()
    for column in columns:
        series = out[column]
        if strategy == "mean":
            fill = series.mean()
        elif strategy == "median":
            fill = series.median()
        elif strategy == "mode":
            modes = series.mode(dropna=True)
            if modes.empty:
                raise ValueError(f"column {column!r} has no values to take the mode of")
            fill = modes.iloc[0]
        else:
            fill = value
        out[column] = series.fillna(fill)
    return out


def scale(frame: pd.DataFrame, columns: Sequence[str], method: str) -> pd.DataFrame:
    """``columns`` standardised (mean 0, population standard deviation 1) or min-max scaled
    to [0, 1] with scikit-learn's scalers (missing values are kept missing)."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    scaler = StandardScaler() if method == "standard" else MinMaxScaler()
    out = frame.copy()
    values = out[list(columns)].to_numpy(dtype="float64", na_value=np.nan)
    out[list(columns)] = scaler.fit_transform(values)
    return out


def map_values(series: pd.Series, values: dict[Any, Any], unmapped: str) -> pd.Series:
    """``series`` with each key of ``values`` replaced by its value; other values kept,
    made missing, or refused (``unmapped``: keep/null/error)."""
    known = series.isin(list(values))
    if unmapped == "error":
        bad = series[~known & series.notna()]
        if len(bad):
            raise ValueError(f"value(s) {sorted({str(v) for v in bad.unique()})[:5]} have no "
                             "mapping")
    mapped = series.map(values)
    if unmapped == "keep" and not bool(known.all()):
        mapped = mapped.astype(object).where(known, series.astype(object))
        mapped = pd.Series(mapped.tolist(), index=series.index, name=series.name)
    return mapped


def drop_rare(frame: pd.DataFrame, column: str, at_most: int) -> pd.DataFrame:
    """Rows whose ``column`` value occurs more than ``at_most`` times (missing values kept)."""
    counts = frame[column].value_counts()
    rare = counts[counts <= at_most].index
    return frame[~frame[column].isin(rare).to_numpy()].reset_index(drop=True)


def remove_punctuation(series: pd.Series, replace_with: str = "") -> pd.Series:
    """Text with ASCII punctuation characters replaced (removed by default)."""
    return series.str.replace(_PUNCTUATION, replace_with, regex=True)


def tokenize(series: pd.Series, pattern: str = r"\S+") -> pd.Series:
    """Each text as the list of its ``pattern`` matches (whitespace-separated words by
    default); a missing text gives an empty list."""
    compiled = re.compile(pattern)
    return pd.Series([compiled.findall(text) if isinstance(text, str) else []
                      for text in series], index=series.index, dtype=object)


def _ngrams(tokens: Sequence[str], n: int, all_sizes: bool) -> list[str]:
    sizes = range(1, n + 1) if all_sizes else range(n, n + 1)
    return [" ".join(tokens[i:i + size]) for size in sizes
            for i in range(len(tokens) - size + 1)]


def ngrams(series: pd.Series, n: int, all_sizes: bool = True) -> pd.Series:
    """The n-grams of each token list: all sizes 1..n (Amazon ML's recipe) or only n."""
    return pd.Series([_ngrams(as_tokens(tokens), n, all_sizes) for tokens in series],
                     index=series.index, dtype=object)


def _osb(tokens: Sequence[str], window: int) -> list[str]:
    return [tokens[i] + "_" * distance + tokens[i + distance]
            for i in range(len(tokens))
            for distance in range(1, window)
            if i + distance < len(tokens)]


def osb(series: pd.Series, window: int = 4) -> pd.Series:
    """Orthogonal sparse bigrams of each token list (Amazon ML's ``osb``): every word paired
    with each of the next ``window - 1`` words, joined by as many underscores as they are
    apart ("The quick brown" with window 3: The_quick, The__brown, quick_brown)."""
    return pd.Series([_osb(as_tokens(tokens), window) for tokens in series],
                     index=series.index, dtype=object)


def quantile_bin(series: pd.Series, n: int) -> pd.Series:
    """Equal-frequency bin numbers 0..n-1 (``pd.qcut``: a value on an edge goes to the lower
    bin; repeated edges are merged, so heavily tied data gives fewer bins)."""
    values = pd.to_numeric(series, errors="raise").astype("float64")
    bins = pd.qcut(values, q=n, labels=False, duplicates="drop")
    return pd.Series(bins, index=series.index).astype("Int64")


def cartesian(first: pd.Series, second: pd.Series, sep: str = "_") -> pd.Series:
    """The two columns' values combined as ``first<sep>second`` (missing if either is)."""
    both = first.notna() & second.notna()
    combined = [f"{a}{sep}{b}" if ok else None for a, b, ok in zip(first, second, both,
                                                                    strict=True)]
    return pd.Series(combined, index=first.index, dtype="str")


def for_text_file(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with list columns (tokens, n-grams) joined by spaces, for a CSV file."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object and out[column].map(
                lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
            out[column] = out[column].map(
                lambda v: " ".join(str(x) for x in v)
                if isinstance(v, (list, tuple, np.ndarray)) else v)
    return out


def as_tokens(value: Any) -> list[str]:
    """A token list from a list (kept), a text (split on whitespace) or a missing value."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(token) for token in value]
    return []


def cast(series: pd.Series, to: str) -> pd.Series:
    """``series`` as int (nullable Int64), float, str, bool (nullable; texts true/false,
    yes/no, 1/0), category or datetime; a value that does not convert is an error."""
    if to == "int":
        return pd.to_numeric(series, errors="raise").astype("Int64")
    if to == "float":
        return pd.to_numeric(series, errors="raise").astype("float64")
    if to == "str":
        return series.astype("str")
    if to == "category":
        return series.astype("category")
    if to == "datetime":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format"
            return pd.to_datetime(series, errors="raise")
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        words = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
        lowered = series.astype("str").str.strip().str.lower()
        bad = series.notna() & ~lowered.isin(list(words))
        if bool(bad.any()):
            raise ValueError(f"value {series[bad].iloc[0]!r} is not a boolean")
        return lowered.map(words).where(series.notna(), None).astype("boolean")
    return series.astype("boolean")


def run_sql(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    """A DuckDB query over ``frame`` as the table ``df``, as a DataFrame."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("df", frame)
        return con.execute(query).df()
    finally:
        con.close()
