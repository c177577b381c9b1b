"""The ``pre_training_bias_metrics`` and ``post_training_bias_metrics`` sections of
Clarify's ``analysis.json``, computed from a DataFrame.

Per facet, the rows are counted once (:func:`mlyard.analysis.bias.counts.count_table`) and
every group's metrics are read off the table; only FT goes back to the rows (its k-NN
needs the features). Groups are listed in the order in which their values first appear in
the data and metrics sorted by name, as Clarify lists them.

One deliberate difference from ``smclarify``: when no prediction is positive it refuses the
whole post-training report; mlyard computes it (every metric is defined for that case, and
a model that never predicts the positive outcome is exactly what the report should show).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.bias import methods, posttraining, pretraining
from mlyard.analysis.bias.clarify_json import metric_entry
from mlyard.analysis.bias.config import BiasAnalysisConfig
from mlyard.analysis.bias.counts import CountTable, count_table
from mlyard.analysis.bias.facets import (
    FacetSpec,
    GroupSpec,
    LabelSpec,
    facet_spec,
    group_spec,
    label_spec,
    match_value,
)
from mlyard.analysis.bias.pretraining import MetricFailure
from mlyard.analysis.data import check_columns
from mlyard.errors import ValidationError

Predicted = np.ndarray | pd.Series


def _entry(name: str, compute: Callable[..., float], *args: Any) -> dict[str, Any]:
    try:
        return metric_entry(name, compute(*args))
    except MetricFailure as exc:
        return metric_entry(name, None, str(exc))


def _prepare(frame: pd.DataFrame, config: BiasAnalysisConfig,
             extra: list[str]) -> tuple[LabelSpec, np.ndarray, GroupSpec | None]:
    columns = [config.label, *(f.name for f in config.facets), *extra]
    if config.group_name:
        columns.append(config.group_name)
    check_columns(frame, columns, "bias analysis")
    label = label_spec(frame, config.label, config.label_values_or_threshold)
    positive = label.rows if label.rows is not None else label.positive(frame[config.label])
    group = group_spec(frame, config.group_name) if config.group_name else None
    return label, positive, group


def _table(spec: FacetSpec, positive: np.ndarray, group: GroupSpec | None,
           predicted: np.ndarray | None = None) -> CountTable:
    return count_table(spec.codes, spec.n_codes, positive,
                       group.codes if group is not None else None,
                       group.n_groups if group is not None else 0, predicted)


def pre_training_bias(frame: pd.DataFrame, config: BiasAnalysisConfig) -> dict[str, Any]:
    """Clarify's ``pre_training_bias_metrics`` for ``frame`` (the methods of
    ``config.pre_training_methods``; None means all)."""
    names = methods.resolve(config.pre_training_methods or "all", "pre")
    label, positive, group = _prepare(frame, config, [])
    facets: dict[str, list[dict[str, Any]]] = {}
    for facet in config.facets:
        spec = facet_spec(frame, facet.name, facet.values_or_threshold)
        table = _table(spec, positive, group)
        total = table.total
        reports = []
        for text, mask in spec.groups:
            d = table.side(mask)
            a = total - d
            entries = []
            for name in names:
                if name == "CDDL":
                    entries.append(_entry(name, pretraining.cddl, d, a, table.n_groups))
                else:
                    entries.append(_entry(name, pretraining.PAIR_METRICS[name], d, a))
            reports.append({"value_or_threshold": text, "metrics": entries})
        facets[facet.name] = reports
    return {"label": config.label, "facets": facets,
            "label_value_or_threshold": label.value_or_threshold}


def positive_predictions(label: LabelSpec, predicted: pd.Series) -> np.ndarray:
    """Which predictions are a positive outcome. Predicted values of another type than the
    label's ("1" for 1) are matched as Clarify matches them."""
    positive = label.positive(predicted)
    if label.kind == "categorical" and not positive.any() and len(predicted):
        uniques = pd.Index(pd.unique(predicted.dropna()))
        values = [v for found, v in (match_value(x, uniques) for x in label.values) if found]
        positive = np.asarray(predicted.isin(values).to_numpy(), dtype=bool)
    return positive


def ft_features(frame: pd.DataFrame, config: BiasAnalysisConfig, facet: str) -> pd.DataFrame:
    """FT's k-NN inputs for ``facet``: ``config.features`` (or every column but the label and
    the predicted label) without the facet itself, as Clarify drops it."""
    if config.features:
        columns = [c for c in config.features if c != facet]
    else:
        skip = {config.label, facet}
        if config.predicted_label:
            skip.add(config.predicted_label)
        columns = [c for c in frame.columns if c not in skip]
    return frame[columns]


def post_training_bias(frame: pd.DataFrame, config: BiasAnalysisConfig,
                       predicted: Predicted | None = None) -> dict[str, Any]:
    """Clarify's ``post_training_bias_metrics`` for ``frame`` and the predicted labels
    ``predicted`` (one per row, in the label's values), or the column
    ``config.predicted_label`` when ``predicted`` is None."""
    names = methods.resolve(config.post_training_methods or "all", "post")
    extra = []
    if predicted is None:
        if not config.predicted_label:
            raise ValidationError("post-training bias needs predictions: a predicted_label "
                                  "column or a model")
        extra.append(config.predicted_label)
    label, positive, group = _prepare(frame, config, extra)
    series = frame[config.predicted_label] if predicted is None else pd.Series(
        np.asarray(predicted) if not isinstance(predicted, pd.Series) else predicted.to_numpy())
    if len(series) != len(frame):
        raise ValidationError(f"{len(series)} predictions for {len(frame)} rows")
    pred_pos = positive_predictions(label, series)
    facets: dict[str, list[dict[str, Any]]] = {}
    ge_entry: dict[str, Any] | None = None
    for facet in config.facets:
        spec = facet_spec(frame, facet.name, facet.values_or_threshold)
        table = _table(spec, positive, group, pred_pos)
        total = table.total
        if "GE" in names and ge_entry is None:
            ge_entry = _entry("GE", posttraining.ge, total)
        reports = []
        for text, mask in spec.groups:
            d = table.side(mask)
            a = total - d
            entries = []
            for name in names:
                if name == "CDDPL":
                    entries.append(_entry(name, posttraining.cddpl, d, a, table.n_groups))
                elif name == "GE":
                    entries.append(dict(ge_entry or {}))
                elif name == "FT":
                    sensitive = spec.sensitive if spec.sensitive is not None else mask[spec.codes]
                    features = ft_features(frame, config, facet.name)
                    entries.append(_entry(name, posttraining.flip_test, features, sensitive,
                                          pred_pos))
                else:
                    entries.append(_entry(name, posttraining.PAIR_METRICS[name], d, a))
            reports.append({"value_or_threshold": text, "metrics": entries})
        facets[facet.name] = reports
    return {"label": config.label, "facets": facets,
            "label_value_or_threshold": label.value_or_threshold}
