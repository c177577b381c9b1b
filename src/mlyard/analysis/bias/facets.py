"""Turning the label, facet and group columns into small integer codes, with Clarify's
rules for what is categorical and what is a threshold.

A column is *categorical* or *continuous* by SageMaker Clarify's rule (``smclarify``'s
``series_datatype``): a pandas Categorical, or more than one value given, is categorical;
a float column is continuous; an integer column (or a text column of integers) is
continuous when at least 5% of its values are distinct, categorical otherwise; anything else
(text, booleans) is categorical. For a categorical column the given values are values of the
column; for a continuous one the single value is a threshold and the values *above* it are
the sensitive group (facet) or the positive outcome (label), as Clarify's interval
``(threshold, max]`` says.

Each facet becomes one integer code per row plus, per reported group, a mask over the codes
(each value against the rest, or the chosen values, or ``> threshold``), so that one count
table per facet (:mod:`mlyard.analysis.bias.counts`) yields every group's metrics.
Missing facet values are never in a sensitive group (Clarify compares them unequal to every
value); they are not reported as a value of their own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlyard.errors import ValidationError

Kind = Literal["categorical", "continuous"]

#: Clarify's share of distinct values from which an integer column is continuous.
UNIQUENESS_THRESHOLD = 0.05

#: Rows looked at per step when finding the order in which facet values first appear.
_APPEARANCE_CHUNK = 65_536


def encode(series: pd.Series, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (``-1`` for missing) and the value of each code: a Categorical's own
    codes, else :func:`pandas.factorize` (in order of appearance, or sorted)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = np.asarray(series.cat.codes.to_numpy())
        cats = pd.Index(series.cat.categories)
        if sort and len(cats) > 1 and not cats.is_monotonic_increasing:
            order = np.argsort(np.asarray(cats), kind="stable")
            remap = np.empty(len(cats) + 1, dtype=np.int64)
            remap[order] = np.arange(len(cats))
            remap[-1] = -1
            return remap[codes], cats[order]
        return codes, cats
    codes, uniques = pd.factorize(series, sort=sort, use_na_sentinel=True)
    return np.asarray(codes), pd.Index(uniques)


def _is_numeric_text(series: pd.Series, uniques: pd.Index) -> bool:
    if series.isna().any():
        return False
    try:
        pd.Series(uniques).astype("int64")
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def column_kind(series: pd.Series, values: Sequence[Any] | None,
                uniques: pd.Index | None = None) -> Kind:
    """Clarify's categorical/continuous rule (module doc) for ``series`` given ``values``."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or (values is not None and len(values) > 1):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_float_dtype(dtype):
        return "continuous"
    count = int(series.count())
    if pd.api.types.is_integer_dtype(dtype):
        if uniques is None and isinstance(dtype, np.dtype) and count:
            # At most max - min + 1 distinct values: often decides without hashing.
            x = series.to_numpy()
            if (int(x.max()) - int(x.min()) + 1) / count < UNIQUENESS_THRESHOLD:
                return "categorical"
        distinct = len(uniques) if uniques is not None else int(series.nunique())
        return "continuous" if count and distinct / count >= UNIQUENESS_THRESHOLD else \
            "categorical"
    if pd.api.types.is_string_dtype(dtype) or dtype is np.dtype(object):
        if uniques is None:
            uniques = pd.Index(pd.unique(series.dropna()))
        if count and len(uniques) / count >= UNIQUENESS_THRESHOLD and \
                _is_numeric_text(series, uniques):
            return "continuous"
    return "categorical"


def is_numeric_column(series: pd.Series) -> bool:
    """True for number columns (not booleans)."""
    return pd.api.types.is_numeric_dtype(series.dtype) and \
        not pd.api.types.is_bool_dtype(series.dtype)


def match_value(value: Any, uniques: pd.Index) -> tuple[bool, Any]:
    """``(found, the column's value)`` for a given ``value``: the same value, else one whose
    text is the same ("1" for 1), else an equal number ("1.0" for 1)."""
    if value in uniques:
        position = uniques.get_indexer(pd.Index([value]))[0]
        if position >= 0:
            return True, uniques[position]
    text = str(value).strip()
    for u in uniques:
        if str(u) == text:
            return True, u
    try:
        number = float(text)
    except ValueError:
        return False, value
    for u in uniques:
        if isinstance(u, (int, float, np.integer, np.floating)) and \
                not isinstance(u, (bool, np.bool_)) and float(u) == number:
            return True, u
    return False, value


def to_threshold(value: Any, what: str) -> float | int:
    """A threshold as a number (strings are parsed as floats, as Clarify does)."""
    if isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{what}: threshold {value!r} is not a number")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    try:
        number = float(str(value))
    except ValueError:
        raise ValidationError(f"{what}: threshold {value!r} is not a number") from None
    if math.isnan(number):
        raise ValidationError(f"{what}: threshold {value!r} is not a number")
    return number


def interval_text(threshold: float | int, data_max: Any) -> str:
    """Clarify's ``value_or_threshold`` of a threshold: its interval ``(threshold, max]``
    written by pandas (the max of the data is added unless it is already a break)."""
    breaks: list[Any] = [threshold]
    if abs(data_max) not in breaks:
        breaks.append(data_max)
    index = pd.IntervalIndex.from_breaks(sorted(breaks))
    return ",".join(map(str, index))


def numeric(series: pd.Series) -> np.ndarray:
    """The column as float64 (NaN for missing)."""
    return np.asarray(pd.to_numeric(series), dtype=np.float64)


def _numeric_max(series: pd.Series) -> Any:
    values = pd.to_numeric(series)
    top = values.max()
    return top.item() if isinstance(top, np.generic) else top


@dataclass
class LabelSpec:
    """The label's positive outcome: categorical values or a threshold."""

    column: str
    kind: Kind
    values: list[Any]          # matched categorical values, or [threshold]
    value_or_threshold: str    # Clarify's ``label_value_or_threshold``
    rows: np.ndarray | None = None   # the label column's positive rows, once computed

    def positive(self, series: pd.Series) -> np.ndarray:
        """A boolean array: which rows of ``series`` (the label or a prediction) are
        positive."""
        if self.kind == "continuous":
            with np.errstate(invalid="ignore"):
                return numeric(series) > float(self.values[0])
        if _plain_numeric(series) and all(
                isinstance(v, (int, float, np.number)) for v in self.values):
            x = series.to_numpy()
            out = np.zeros(len(x), dtype=bool)
            for v in self.values:
                out |= x == v
            return out
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = pd.Index(series.cat.categories)
            wanted = [match_value(v, cats) for v in self.values]
            mask = np.zeros(len(cats) + 1, dtype=bool)
            for found, v in wanted:
                if found:
                    mask[cats.get_loc(v)] = True
            return mask[np.asarray(series.cat.codes.to_numpy(), dtype=np.int64)]
        return np.asarray(series.isin(self.values).to_numpy(), dtype=bool)


def label_spec(frame: pd.DataFrame, column: str, values: Sequence[Any]) -> LabelSpec:
    """The label's :class:`LabelSpec`; a ValidationError names a value that does not occur
    or a threshold on a non-numeric label."""
    series = frame[column]
    what = f"label {column!r}"
    kind = column_kind(series, list(values))
    if kind == "continuous":
        threshold = to_threshold(values[0], what)
        return LabelSpec(column, kind, [threshold],
                         interval_text(threshold, _numeric_max(series)))
    if _plain_numeric(series):
        return _numeric_label(series, column, values, what)
    uniques = pd.Index(pd.unique(series.dropna()))
    matched = []
    for v in values:
        found, value = match_value(v, uniques)
        if not found:
            raise ValidationError(_missing_value(what, v, uniques, series))
        matched.append(value)
    spec = LabelSpec(column, kind, matched, ",".join(map(str, matched)))
    spec.rows = spec.positive(series)
    return spec


def _plain_numeric(series: pd.Series) -> bool:
    """A numpy bool/int/float column (no extension dtype)."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf"


def _as_number(value: Any, dtype: np.dtype) -> Any:
    """``value`` as a value of a numpy bool/int/float column, or None if it cannot be one."""
    if dtype.kind == "b":
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        text = str(value).strip().lower()
        return {"true": True, "1": True, "false": False, "0": False}.get(text)
    if isinstance(value, (bool, np.bool_)):
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    if dtype.kind in "iu":
        return int(number) if number.is_integer() else None
    return number


def _numeric_label(series: pd.Series, column: str, values: Sequence[Any],
                   what: str) -> LabelSpec:
    """A categorical numeric label without hashing the column: each value compared."""
    x = series.to_numpy()
    rows = np.zeros(len(x), dtype=bool)
    matched = []
    for v in values:
        number = _as_number(v, x.dtype)
        hit = (x == number) if number is not None else None
        if hit is None or not hit.any():
            uniques = pd.Index(pd.unique(series.dropna()))
            raise ValidationError(_missing_value(what, v, uniques, series))
        rows |= hit
        matched.append(number)
    return LabelSpec(column, "categorical", matched, ",".join(map(str, matched)), rows)


def _short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (an error message quotes values, not reviews)."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _missing_value(what: str, value: Any, uniques: pd.Index, series: pd.Series) -> str:
    shown = [_short(str(u)) for u in list(uniques[:20])]
    more = f" (and {len(uniques) - 20} more)" if len(uniques) > 20 else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            not is_numeric_column(series):
        return (f"{what}: {value!r} looks like a threshold, but the column is not numeric "
                f"(it holds {series.dtype} values such as {shown[:5]}); give values of it")
    hint = ""
    if is_numeric_column(series):
        hint = (" (the column has few distinct numbers, so Clarify treats it as "
                "categorical: the value must be one of them)")
    return f"{what}: value {value!r} does not occur; it has {shown}{more}{hint}"


@dataclass
class FacetSpec:
    """One facet: per-row codes and the reported groups as masks over the codes."""

    name: str
    kind: Kind
    codes: np.ndarray                      # integers, 0 .. n_codes-1
    n_codes: int
    groups: list[tuple[str, np.ndarray]]   # (value_or_threshold, sensitive mask over codes)
    sensitive: np.ndarray | None = None    # continuous: the row mask (values > threshold)


def _appearance_order(codes: np.ndarray, present: np.ndarray) -> list[int]:
    """The codes in ``present`` in the order in which they first occur in ``codes``: read
    in chunks, usually only the first one."""
    wanted = set(int(c) for c in np.flatnonzero(present))
    order: list[int] = []
    seen: set[int] = set()
    start = 0
    while len(seen) < len(wanted) and start < len(codes):
        chunk = codes[start:start + _APPEARANCE_CHUNK]
        for c in pd.unique(chunk):
            c = int(c)
            if c in wanted and c not in seen:
                seen.add(c)
                order.append(c)
        start += _APPEARANCE_CHUNK
    return order


def facet_spec(frame: pd.DataFrame, name: str,
               values: Sequence[Any] | None) -> FacetSpec:
    """The :class:`FacetSpec` of facet column ``name``; a ValidationError for a value that
    does not occur, a threshold on a text column, a continuous facet without threshold or a
    facet with one value."""
    series = frame[name]
    what = f"facet {name!r}"
    given = list(values) if values else None
    raw_codes, uniques = encode(series)
    missing = bool((raw_codes < 0).any())
    present_counts = np.bincount(raw_codes[raw_codes >= 0] if missing else raw_codes,
                                 minlength=len(uniques))
    kind = column_kind(series, given, uniques if not isinstance(
        series.dtype, pd.CategoricalDtype) else None)
    if kind == "continuous":
        if not given:
            raise ValidationError(
                f"{what} is numeric (continuous by Clarify's rule: many distinct values): give "
                "a threshold (values above it are the sensitive group) or several values")
        threshold = to_threshold(given[0], what)
        with np.errstate(invalid="ignore"):
            sensitive = numeric(series) > float(threshold)
        codes = sensitive.astype(np.int64)
        return FacetSpec(name, kind, codes, 2,
                         [(interval_text(threshold, _numeric_max(series)),
                           np.array([False, True]))], sensitive)
    n_present = int((present_counts > 0).sum())
    if n_present < 2:
        only = [str(u) for u, c in zip(uniques, present_counts, strict=False) if c]
        raise ValidationError(f"{what} has {n_present} distinct value(s) {only}: a facet needs "
                              "at least two to compare")
    n_codes = len(uniques) + 1          # the last code holds the missing values
    codes = np.where(raw_codes < 0, len(uniques), raw_codes) if missing else raw_codes
    if given is None:
        groups = []
        for code in _appearance_order(raw_codes, present_counts > 0):
            mask = np.zeros(n_codes, dtype=bool)
            mask[code] = True
            groups.append((str(uniques[code]), mask))
        return FacetSpec(name, kind, codes, n_codes, groups)
    present = pd.Index([u for u, c in zip(uniques, present_counts, strict=False) if c])
    mask = np.zeros(n_codes, dtype=bool)
    matched = []
    for v in given:
        found, value = match_value(v, present)
        if not found:
            raise ValidationError(_missing_value(what, v, present, series))
        matched.append(value)
        mask[uniques.get_loc(value)] = True
    return FacetSpec(name, kind, codes, n_codes, [(",".join(map(str, matched)), mask)])


@dataclass
class GroupSpec:
    """The CDDL/CDDPL subgroup column: codes in sorted order of the values (missing values
    get the last code, in no subgroup)."""

    name: str
    codes: np.ndarray
    n_groups: int


def group_spec(frame: pd.DataFrame, name: str) -> GroupSpec:
    """The :class:`GroupSpec` of column ``name``."""
    raw, uniques = encode(frame[name], sort=True)
    codes = np.where(raw < 0, len(uniques), raw) if (raw < 0).any() else raw
    return GroupSpec(name, codes, len(uniques))
