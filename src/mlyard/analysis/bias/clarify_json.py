"""SageMaker Clarify's file formats: the metric entries of ``analysis.json`` and the
analysis configuration (``analysis_config.json``).

JSON has no infinity or NaN. Clarify (``smclarify``'s ``inf_as_str``) writes an infinite
metric value as the *string* ``"Infinity"`` or ``"-Infinity"``, and a metric it could not
compute as ``"value": null`` with an ``"error"`` message; mlyard writes the same, and a NaN
(which Clarify's definitions never produce) as null.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mlyard.analysis.bias import methods

if TYPE_CHECKING:
    from mlyard.analysis.bias.config import BiasAnalysisConfig

VERSION = "1.0"


def json_value(value: float | None) -> float | str | None:
    """A metric value as Clarify writes it (see the module doc)."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def metric_entry(name: str, value: float | None, error: str | None = None) -> dict[str, Any]:
    """``{"name", "description", "value"}`` (plus ``"error"`` when it failed)."""
    meta = methods.PRE_TRAINING.get(name) or methods.POST_TRAINING[name]
    entry: dict[str, Any] = {"name": name, "description": meta.description,
                             "value": None if error is not None else json_value(value)}
    if error is not None:
        entry["error"] = error
    return entry


def value_as_float(value: Any) -> float | None:
    """A metric value read back from ``analysis.json`` as a float (None for null)."""
    if value is None:
        return None
    if value == "Infinity":
        return math.inf
    if value == "-Infinity":
        return -math.inf
    return float(value)


def analysis_config(config: BiasAnalysisConfig, headers: list[str], *,
                    dataset_type: str = "text/csv", model_name: str | None = None,
                    post: bool = False, pre: bool = True) -> dict[str, Any]:
    """The Clarify analysis configuration equivalent to ``config``."""
    facets: list[dict[str, Any]] = []
    for facet in config.facets:
        item: dict[str, Any] = {"name_or_index": facet.name}
        if facet.values_or_threshold:
            item["value_or_threshold"] = list(facet.values_or_threshold)
        facets.append(item)
    doc: dict[str, Any] = {
        "version": VERSION,
        "dataset_type": dataset_type,
        "headers": headers,
        "label": config.label,
        "label_values_or_threshold": list(config.label_values_or_threshold),
        "facet": facets,
    }
    if config.group_name:
        doc["group_variable"] = config.group_name
    stages: dict[str, Any] = {}
    if pre:
        stages["pre_training_bias"] = {"methods": _methods(config.pre_training_methods, "pre")}
    if post:
        stages["post_training_bias"] = {
            "methods": _methods(config.post_training_methods, "post")}
    stages["report"] = {"name": "report", "title": "Analysis Report"}
    doc["methods"] = stages
    if post:
        if config.predicted_label:
            doc["predicted_label"] = config.predicted_label
        else:
            predictor: dict[str, Any] = {"model_name": model_name or "model",
                                         "content_type": "text/csv",
                                         "accept_type": "application/json"}
            if config.text_column or config.features:
                predictor["features"] = config.text_column or ",".join(config.features or [])
            doc["predictor"] = predictor
        if config.probability_threshold is not None:
            doc["probability_threshold"] = config.probability_threshold
    return doc


def _methods(value: methods.Methods, stage: str) -> str | list[str]:
    if value is None or value == "all":
        return "all"
    return methods.resolve(value, "pre" if stage == "pre" else "post")
