"""Column type inference for the data profile.

Every column gets one of five kinds, decided on its non-missing values in this order:

1. **boolean**: a bool dtype, or at most two distinct values that all come from one
   yes/no vocabulary (``0/1``, ``true/false``, ``yes/no``, ``y/n``, ``t/f``, any case).
2. **datetime**: a datetime dtype, or a string column that is not numeric and whose values
   parse as dates for at least :data:`PARSE_SHARE` of them (the rest count as *invalid*).
3. **numeric** / **categorical** for numbers: a numeric dtype, or a string column whose
   values parse as numbers for at least :data:`PARSE_SHARE` of them (the rest count as
   *invalid*: "n/a", "12kg" in a column of numbers). A number column whose values are all
   integers and take at most :data:`MAX_CODE_VALUES` distinct values (a 1-5 rating, a
   -1/0/1 sentiment) is **categorical**: such a column is a set of codes, its class counts
   say more than a 20-bin histogram, and as a target it is a classification label. Its
   numeric statistics (mean, quantiles) and Pearson/Spearman correlations are still
   computed, since the codes are ordered numbers.
4. **text**: a string column whose values average at least :data:`TEXT_MIN_WORDS` words and
   are mostly distinct (at least :data:`TEXT_MIN_DISTINCT` of the values are distinct) -
   reviews, titles, descriptions. ``ProfileConfig.text_columns`` overrides this rule.
5. **categorical**: every other column (strings with repeated values, codes, ids).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlyard.analysis.profile.text import word_counts

Kind = Literal["numeric", "categorical", "text", "datetime", "boolean"]
KINDS: tuple[Kind, ...] = ("numeric", "categorical", "text", "datetime", "boolean")

#: The share of non-missing values that must parse for a string column to be numbers/dates.
PARSE_SHARE = 0.9
#: An integer column with at most this many distinct values is a categorical code.
MAX_CODE_VALUES = 10
#: Text: at least this many words per value on average...
TEXT_MIN_WORDS = 3.0
#: ... and at least this share of distinct values.
TEXT_MIN_DISTINCT = 0.5

_BOOL_VOCABS = [{"0", "1"}, {"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"}]


@dataclass
class Inferred:
    """A column's inferred kind and its values in that kind: ``values`` is float64 for
    numeric/categorical-number columns, datetime64 for dates, the column itself otherwise;
    ``invalid`` counts non-missing values that did not parse."""

    kind: Kind
    values: pd.Series
    invalid: int = 0
    is_number: bool = False
    #: A text column's token counts (:func:`mlyard.analysis.profile.text.token_counts`).
    tokens: Any = None
    #: Words per non-missing value of a text column, when inference counted them.
    words: np.ndarray | None = None


def is_stringlike(series: pd.Series) -> bool:
    """True for object and string dtypes (pandas 3's ``str`` included)."""
    return bool(pd.api.types.is_object_dtype(series.dtype)
                or pd.api.types.is_string_dtype(series.dtype))


def _boolean(non_null: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(non_null.dtype):
        return True
    uniques = pd.unique(non_null)
    if len(uniques) == 0 or len(uniques) > 2:
        return False
    if pd.api.types.is_numeric_dtype(non_null.dtype):
        return {float(u) for u in uniques} <= {0.0, 1.0} and len(uniques) == 2
    if not is_stringlike(non_null):
        return False
    words = {str(u).strip().lower() for u in uniques}
    return any(words <= vocab and len(words) == 2 for vocab in _BOOL_VOCABS)


def _number_kind(values: pd.Series) -> Kind:
    finite = values[np.isfinite(values)]
    if finite.empty:
        return "numeric"
    integral = bool((finite == np.floor(finite)).all())
    return "categorical" if integral and finite.nunique() <= MAX_CODE_VALUES else "numeric"


def _parse_dates(non_null: pd.Series) -> pd.Series:
    with warnings.catch_warnings():
        # "Could not infer format": dateutil parses element-wise, which is what we want.
        warnings.simplefilter("ignore", UserWarning)
        return pd.to_datetime(non_null.astype(str), errors="coerce", format="mixed")


def infer(series: pd.Series, text: bool | None = None) -> Inferred:
    """The kind of ``series`` by the rules of the module doc; ``text`` forces (True) or
    forbids (False) the text kind for a string column, None infers it."""
    non_null = series.dropna()
    if non_null.empty:
        return Inferred("categorical", series)
    if _boolean(non_null):
        return Inferred("boolean", series)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return Inferred("datetime", series)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.astype("float64")
        invalid = int(np.isinf(values).sum())
        return Inferred(_number_kind(values), values, invalid, is_number=True)
    if not is_stringlike(series):
        return Inferred("categorical", series)
    if text is True:
        return Inferred("text", series)
    stripped = non_null.astype(str).str.strip()
    numbers = pd.to_numeric(stripped, errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed >= PARSE_SHARE * len(non_null):
        values = numbers.astype("float64").reindex(series.index)
        return Inferred(_number_kind(values), values, len(non_null) - parsed, is_number=True)
    probe = stripped.iloc[:1000]
    # Cheap pre-check on a prefix before parsing every value as a date.
    if probe.str.contains(r"\d", regex=True).mean() >= PARSE_SHARE:
        dates = _parse_dates(probe)
        if dates.notna().mean() >= PARSE_SHARE:
            all_dates = _parse_dates(non_null)
            good = int(all_dates.notna().sum())
            if good >= PARSE_SHARE * len(non_null):
                values = all_dates.reindex(series.index)
                if not pd.api.types.is_datetime64_any_dtype(values.dtype):
                    return Inferred("categorical", series)  # mixed time zones
                return Inferred("datetime", values, len(non_null) - good)
    # The distinct share first: it is cheaper and rules out most categorical columns.
    if text is None and non_null.nunique() / len(non_null) >= TEXT_MIN_DISTINCT:
        words = word_counts(stripped)
        if words.mean() >= TEXT_MIN_WORDS:
            return Inferred("text", series, words=words)
    return Inferred("categorical", series)
