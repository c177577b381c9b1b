"""Predicted labels from a loaded model, for post-training bias (Clarify's shadow endpoint).

The model is called in batches of ``batch_size`` rows, never one row at a time: a text model
(BlazingText, BERT) gets the strings of ``text_column``, a tabular model the ``features``
rows as lists. A classifier's probabilities become labels by the highest probability, or,
with ``probability_threshold``, by whether the probability of the positive classes (the
model labels that are positive label values) exceeds the threshold. Model labels are
strings ("1", "-1", or BlazingText's ``__label__1``); each is mapped to the label column's
value with the same text, so an integer label column gets integers back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.bias.facets import LabelSpec, match_value
from mlyard.errors import ValidationError

if TYPE_CHECKING:
    from mlyard.models.base import LoadedModel

LABEL_PREFIX = "__label__"


def is_text(series: pd.Series) -> bool:
    """A string column whose values average at least 3 words (free text, not categories)."""
    if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
        return False
    sample = series.dropna().astype(str).head(1000)
    words = sample.str.count(r"\S+")
    return len(sample) > 0 and float(words.mean()) >= 3.0


def default_text_column(frame: pd.DataFrame, skip: set[str]) -> str | None:
    """The one free-text column outside ``skip``, if there is exactly one: what a text model
    (BlazingText, BERT) is called on when neither ``text_column`` nor ``features`` is given."""
    found = [str(c) for c in frame.columns if c not in skip and is_text(frame[c])]
    return found[0] if len(found) == 1 else None


def model_inputs(frame: pd.DataFrame, text_column: str | None,
                 features: list[str] | None, skip: set[str]) -> list[Any]:
    """What the model is called on: the text column's strings, or one list per row of the
    feature columns. With neither given: the data's one free-text column if it has exactly
    one (:func:`default_text_column`), else every column but those in ``skip``."""
    if not text_column and not features:
        text_column = default_text_column(frame, skip)
    if text_column:
        return [str(x) for x in frame[text_column].tolist()]
    columns = features or [c for c in frame.columns if c not in skip]
    if not columns:
        raise ValidationError("the model needs input columns: give features or text_column")
    return frame[columns].to_numpy().tolist()


def map_labels(model_labels: Sequence[str], label_values: pd.Index) -> list[Any]:
    """Each model label as the label column's value of the same text (``__label__`` prefix
    dropped); a label the column lacks stays a string (a prediction that is never
    positive unless its text is a positive value)."""
    mapped = []
    for raw in model_labels:
        text = raw[len(LABEL_PREFIX):] if raw.startswith(LABEL_PREFIX) else raw
        found, value = match_value(text, label_values)
        mapped.append(value if found else text)
    return mapped


def predict_labels(model: LoadedModel, inputs: list[Any], label: LabelSpec,
                   label_values: pd.Index, *, batch_size: int = 1024,
                   probability_threshold: float | None = None,
                   progress: Progress = no_progress) -> np.ndarray:
    """One predicted label per input, in the label column's values."""
    if batch_size < 1:
        raise ValidationError(f"batch_size must be >= 1, got {batch_size}")
    n = len(inputs)
    if model.task == "regression":
        values = np.concatenate([np.asarray(model.predict_values(inputs[i:i + batch_size]),
                                            dtype=np.float64).reshape(-1)
                                 for i in range(0, n, batch_size)]) if n else np.zeros(0)
        return values
    labels = map_labels(model.labels, label_values)
    if not labels:
        raise ValidationError("the model declares no labels: cannot map its predictions")
    positive_cols = np.array([bool(label.positive(pd.Series([v], dtype=object))[0])
                              if label.kind == "categorical" else _above(v, label)
                              for v in labels])
    if probability_threshold is not None and (positive_cols.all() or not positive_cols.any()):
        raise ValidationError(
            f"probability_threshold needs model labels on both sides: the model's labels "
            f"{list(model.labels)} are {'all' if positive_cols.all() else 'none'} of the "
            f"positive label values {label.values}")
    out = np.empty(n, dtype=object)
    done = 0
    for start in range(0, n, batch_size):
        batch = inputs[start:start + batch_size]
        proba = np.asarray(model.predict_proba(batch), dtype=np.float64)
        if proba.ndim != 2 or proba.shape != (len(batch), len(labels)):
            raise ValidationError(
                f"the model returned probabilities of shape {proba.shape} for {len(batch)} "
                f"inputs and {len(labels)} labels")
        if probability_threshold is None:
            choice = proba.argmax(axis=1)
        else:
            score = proba[:, positive_cols].sum(axis=1)
            pos_best = np.where(positive_cols, proba, -np.inf).argmax(axis=1)
            neg_best = np.where(~positive_cols, proba, -np.inf).argmax(axis=1)
            choice = np.where(score > probability_threshold, pos_best, neg_best)
        out[start:start + len(batch)] = [labels[j] for j in choice]
        done += len(batch)
        progress(f"predicted {done}/{n} rows")
    return np.asarray(pd.Series(out, dtype=object).infer_objects().to_numpy())


def _above(value: Any, label: LabelSpec) -> bool:
    try:
        return float(value) > float(label.values[0])
    except (TypeError, ValueError):
        return False
