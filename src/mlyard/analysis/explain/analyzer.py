"""The ``explain`` analyzer: SHAP explanations of a model's predictions on a dataset, as a
processing job or a function (:class:`ExplainAnalyzer`).

``check`` refuses, before a job is created: an empty dataset, a missing label, feature or
text column, a text column that holds no text, an unsupported language, baseline rows of
the wrong width, a model that gives no probabilities (probed on a few records) and tabular
features the model cannot take (the non-numeric ones named). ``run`` writes
``analysis.json``, ``explanations_shap/out.csv`` (with ``save_local_shap_values``) and
``report.html``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from mlyard.analysis.base import AnalysisInputs, Analyzer, Progress, no_progress
from mlyard.analysis.data import check_columns
from mlyard.analysis.explain.clarify_json import (
    analysis_document,
    tabular_analysis,
    tabular_out_frame,
    text_analysis,
    text_out_frame,
)
from mlyard.analysis.explain.config import ExplainAnalysisConfig
from mlyard.analysis.explain.model_fn import TabularFunction, TextFunction
from mlyard.analysis.explain.report import tabular_report, text_report
from mlyard.analysis.explain.tabular import (
    explain_tabular,
    feature_columns,
    feature_matrix,
    non_numeric,
)
from mlyard.analysis.explain.text import check_language, explain_text
from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel
from mlyard.reports.tables import jsonable, write_json

#: Records the model is probed on in ``check``.
PROBE_RECORDS = 4
#: Top global features/units in the returned summary.
SUMMARY_TOP = 5


def _model_name(inputs: AnalysisInputs, model: LoadedModel) -> str:
    return inputs.model_name or f"({model.manifest.flavor})"


def _is_text(column: pd.Series) -> bool:
    if pd.api.types.is_string_dtype(column) and not pd.api.types.is_object_dtype(column):
        return True
    if not pd.api.types.is_object_dtype(column):
        return False
    values = column.dropna()
    return bool(len(values)) and all(isinstance(v, str) for v in values.head(1000))


class ExplainAnalyzer(Analyzer[ExplainAnalysisConfig]):
    """SHAP explanations (Clarify's ``run_explainability``); see the module doc."""

    name = "explain"
    config_type = ExplainAnalysisConfig

    def needs_model(self, config: ExplainAnalysisConfig) -> bool:
        return True

    def check(self, config: ExplainAnalysisConfig, inputs: AnalysisInputs) -> None:
        frame = inputs.frame()
        model = inputs.require_model("explain")
        name = _model_name(inputs, model)
        if len(frame) == 0 or len(frame.columns) == 0:
            raise ValidationError("explain: the data has no rows")
        if config.label is not None:
            check_columns(frame, [config.label], "explain label")
        if config.use_logit and model.task == "regression":
            raise ValidationError(f"explain: use_logit needs a classifier; model {name} is a "
                                  "regressor")
        if config.text_column is not None and config.features is not None:
            raise ValidationError("explain: give features (a tabular explanation) or "
                                  "text_column (a text explanation), not both")
        if config.text_column is not None:
            self._check_text(config, frame, model, name)
        else:
            self._check_tabular(config, frame, model, name)

    def _check_text(self, config: ExplainAnalysisConfig, frame: pd.DataFrame,
                    model: LoadedModel, name: str) -> None:
        column = config.text_column
        assert column is not None
        check_columns(frame, [column], "explain text_column")
        if not _is_text(frame[column]):
            raise ValidationError(f"explain: text_column {column!r} does not hold text "
                                  f"(dtype {frame[column].dtype})")
        check_language(config.language)
        if config.num_samples is not None and config.num_samples < 2:
            raise ValidationError("explain: num_samples must be >= 2 for text explanations")
        if config.baseline is not None and (len(config.baseline) != 1
                                            or len(config.baseline[0]) != 1):
            raise ValidationError("explain: a text baseline is one row with one value (the "
                                  f"text that replaces masked units), got {config.baseline}")
        texts = frame[column].dropna().astype(str).head(PROBE_RECORDS).tolist() or [""]
        TextFunction(model, name, batch_size=config.batch_size).probe(texts)

    def _check_tabular(self, config: ExplainAnalysisConfig, frame: pd.DataFrame,
                       model: LoadedModel, name: str) -> None:
        features = feature_columns(frame, config)
        if not features:
            raise ValidationError("explain: no feature columns to explain")
        check_columns(frame, features, "explain features")
        if config.label is not None and config.label in features:
            raise ValidationError(f"explain: the label {config.label!r} is also a feature")
        if config.baseline is not None:
            bad = [i for i, r in enumerate(config.baseline) if len(r) != len(features)]
            if bad or not config.baseline:
                raise ValidationError(f"explain: baseline rows must have one value per "
                                      f"feature ({len(features)}: {features}); row(s) {bad} "
                                      "do not")
        X = feature_matrix(frame.head(PROBE_RECORDS), features)
        fn = TabularFunction(model, name, batch_size=config.batch_size)
        try:
            fn.probe([tuple(r) for r in X.tolist()])
        except ValidationError as exc:
            text = non_numeric(frame, features)
            if text and "returns no probabilities" not in str(exc):
                raise ValidationError(
                    f"explain: model {name} cannot take the non-numeric feature(s) {text} "
                    f"({exc}); encode them as numbers or leave them out with --features"
                ) from None
            raise

    def run(self, config: ExplainAnalysisConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        frame = inputs.frame()
        model = inputs.require_model("explain")
        name = _model_name(inputs, model)
        started = time.perf_counter()
        out_dir.mkdir(parents=True, exist_ok=True)
        local: pd.DataFrame
        if config.text_column is not None:
            texp = explain_text(frame, model, config, name=name, progress=progress)
            about = self._about(config, name, len(texp.records), texp.seconds, {
                "method": "partition (shap.maskers.Text)", "granularity": texp.granularity,
                "language": texp.language, "max_evals": texp.max_evals,
                "model_calls": texp.model_calls, "model_rows": texp.model_rows})
            explanations = text_analysis(texp, config.max_top_tokens)
            local = text_out_frame(texp)
            page = text_report(texp, about)
            top = [{"token": u, "label": texp.outputs[k], "value": a, "mean_shap": m}
                   for k in range(len(texp.outputs))
                   for u, a, m, _ in texp.top_tokens(k, SUMMARY_TOP)]
            n = len(texp.records)
        else:
            exp = explain_tabular(frame, model, config, name=name, progress=progress)
            about = self._about(config, name, len(exp.index), exp.seconds, {
                "method": "kernel_shap", "num_samples": exp.num_samples,
                "features": exp.features, "model_calls": exp.model_calls,
                "model_rows": exp.model_rows})
            explanations = tabular_analysis(exp)
            local = tabular_out_frame(exp)
            page = tabular_report(exp, about)
            top = [{"feature": f, "label": label, "value": v}
                   for k, label in enumerate(exp.outputs)
                   for f, v in list(exp.global_values(k).items())[:SUMMARY_TOP]]
            n = len(exp.index)
        files = ["analysis.json", "report.html"]
        write_json(out_dir / "analysis.json",
                   jsonable(analysis_document(explanations, about)))
        if config.save_local_shap_values:
            (out_dir / "explanations_shap").mkdir(exist_ok=True)
            local.to_csv(out_dir / "explanations_shap" / "out.csv", index=False)
            files.append("explanations_shap/out.csv")
        (out_dir / "report.html").write_text(page, encoding="utf-8")
        seconds = time.perf_counter() - started
        return jsonable({"records": n, "seconds": round(seconds, 3),
                         "records_per_second": round(n / seconds, 2) if seconds > 0 else None,
                         "model_calls": about.get("model_calls"), "top": top, "files": files})

    @staticmethod
    def _about(config: ExplainAnalysisConfig, name: str, n: int, seconds: float,
               extra: dict[str, Any]) -> dict[str, Any]:
        return {"model": name, "records": n, "sampled": config.max_records is not None,
                "seed": config.seed, "agg_method": config.agg_method,
                "use_logit": config.use_logit, "explain_seconds": round(seconds, 3),
                "records_per_second": round(n / seconds, 2) if seconds > 0 else None,
                **extra}
