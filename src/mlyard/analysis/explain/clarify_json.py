"""Explanations in SageMaker Clarify's output formats.

* ``analysis.json``: ``{"version": "1.0", "explanations": {"kernel_shap": {LABEL:
  {"global_shap_values": {FEATURE: value}, "expected_value": value}}}}``, one entry per model
  output (the classifier's labels as the model names them). For a text explanation the text
  column is the one feature (its value: the aggregate of each record's summed unit SHAP
  values) and ``global_top_shap_text`` holds ``{COLUMN: {unit: aggregate}}`` for the top
  ``max_top_tokens`` units. A ``"mlyard"`` section records how the explanation was made.
* ``explanations_shap/out.csv``: one row per explained record, one column per feature and
  output named ``FEATURE_LABEL`` (Clarify's ``age_label0``). For text, the cell is Clarify's
  JSON list of units ``{"attribution": [value], "description": {"partial_text": unit,
  "start_idx": offset}}``.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from mlyard.analysis.explain.common import aggregate
from mlyard.analysis.explain.tabular import TabularExplanation
from mlyard.analysis.explain.text import TextExplanation

VERSION = "1.0"


def out_column(feature: str, label: str) -> str:
    """The ``out.csv`` column of ``feature``'s SHAP values for output ``label``."""
    return f"{feature}_{label}"


def tabular_analysis(exp: TabularExplanation) -> dict[str, Any]:
    """The ``explanations`` section for a Kernel SHAP explanation."""
    kernel = {
        label: {"global_shap_values": exp.global_values(k),
                "expected_value": float(exp.expected_value[k])}
        for k, label in enumerate(exp.outputs)
    }
    return {"kernel_shap": kernel}


def text_analysis(exp: TextExplanation, max_top_tokens: int = 50) -> dict[str, Any]:
    """The ``explanations`` section for a text explanation."""
    totals = exp.column_totals()
    expected = exp.expected_value
    kernel: dict[str, Any] = {}
    for k, label in enumerate(exp.outputs):
        top = exp.top_tokens(k, max_top_tokens)
        kernel[label] = {
            "global_shap_values": {exp.column: aggregate(totals[:, k], exp.agg_method)},
            "expected_value": float(expected[k]),
            "global_top_shap_text": {exp.column: {unit: agg for unit, agg, _, _ in top}},
        }
    return {"kernel_shap": kernel}


def analysis_document(explanations: dict[str, Any], about: dict[str, Any]) -> dict[str, Any]:
    """The whole ``analysis.json`` document."""
    return {"version": VERSION, "explanations": explanations, "mlyard": about}


def tabular_out_frame(exp: TabularExplanation) -> pd.DataFrame:
    """``out.csv`` of a Kernel SHAP explanation."""
    data = {out_column(f, label): exp.values[:, j, k]
            for k, label in enumerate(exp.outputs) for j, f in enumerate(exp.features)}
    return pd.DataFrame(data)


def text_cell(exp: TextExplanation, record: int, output: int) -> str:
    """The JSON of one record's unit attributions for one output."""
    rec = exp.records[record]
    return json.dumps([
        {"attribution": [float(v)], "description": {"partial_text": unit, "start_idx": start}}
        for unit, start, v in zip(rec.units, rec.starts, rec.values[:, output], strict=True)
    ], ensure_ascii=False)


def text_out_frame(exp: TextExplanation) -> pd.DataFrame:
    """``out.csv`` of a text explanation."""
    data = {out_column(exp.column, label): [text_cell(exp, i, k)
                                            for i in range(len(exp.records))]
            for k, label in enumerate(exp.outputs)}
    return pd.DataFrame(data, dtype=object)
