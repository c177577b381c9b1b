"""Evaluation artifacts: ``evaluation.json``, confusion matrix JSON/PNG, a self-contained HTML
report (built with :mod:`mlyard.reports`, the look every mlyard report shares)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.evaluation import plots
from mlyard.evaluation.results import ClassificationResult, RegressionResult
from mlyard.reports import escape, image, page, table, write_json

EVALUATION_JSON = "evaluation.json"
CONFUSION_MATRIX_JSON = "confusion_matrix.json"
CONFUSION_MATRIX_PNG = "confusion_matrix.png"
ROC_CURVES_PNG = "roc_curves.png"
PREDICTED_VS_ACTUAL_PNG = "predicted_vs_actual.png"
REPORT_HTML = "report.html"

def _num(value: float | None, reason: str | None = None) -> str:
    if value is None:
        return "n/a" + (f" <span class='note'>({escape(reason)})</span>" if reason else "")
    return f"{value:.4f}"


def _classification_html(
    result: ClassificationResult, title: str, cm_png: bytes, roc_png: bytes | None
) -> str:
    facts = [
        ["task", escape(result.task)],
        ["rows evaluated", str(result.n)],
        ["labels", escape(", ".join(result.labels))],
    ]
    if result.task == "binary":
        facts.append(["positive label", escape(result.positive_label)])
        rule = "argmax" if result.threshold is None else f"score &gt;= {result.threshold:g}"
        facts.append(["decision rule", rule])
    reasons = {"roc_auc_ovr": result.roc_auc_reason, "log_loss": result.log_loss_reason}
    metrics = [
        [escape(name), _num(value, reasons.get(name))]
        for name, value in result.metric_values().items()
    ]
    per_class = [
        [
            escape(label),
            _num(m.precision),
            _num(m.recall),
            _num(m.f1),
            _num(m.roc_auc),
            str(m.support),
        ]
        for label, m in result.per_class.items()
    ]
    matrix = [
        [escape(label), *(str(c) for c in row)]
        for label, row in zip(result.labels, result.confusion_matrix, strict=True)
    ]
    if roc_png is not None:
        roc = image(roc_png, "ROC curves, one vs rest")
    else:
        roc = f"<p class='note'>No ROC curve: {escape(result.roc_auc_reason or 'undefined')}</p>"
    return page(
        title,
        [
            table(None, facts),
            "<h2>Metrics</h2>",
            table(["metric", "value"], metrics),
            "<h2>Per class</h2>",
            table(["label", "precision", "recall", "f1", "ROC AUC", "support"], per_class),
            "<h2>Confusion matrix</h2>",
            "<p class='note'>Rows: true label; columns: predicted label.</p>",
            image(cm_png, "Confusion matrix"),
            table(["true \\ predicted", *result.labels], matrix),
            "<h2>ROC curves (one vs rest)</h2>",
            roc,
        ],
    )


def _regression_html(result: RegressionResult, title: str, png: bytes) -> str:
    stds = {"mse": result.mse_std, "rmse": result.residual_std, "mae": result.mae_std}
    rows = [
        [
            escape(name),
            _num(value, result.r2_reason if name == "r2" else None),
            _num(stds[name]) if name in stds else "",
        ]
        for name, value in result.metric_values().items()
    ]
    rows.append(["mean_error", _num(result.mean_error), ""])
    return page(
        title,
        [
            f"<p>Regression, {result.n} rows evaluated.</p>",
            "<h2>Metrics</h2>",
            table(["metric", "value", "standard deviation"], rows),
            "<h2>Predicted vs true</h2>",
            image(png, "Predicted against true values"),
        ],
    )


def write_report(
    result: ClassificationResult | RegressionResult, out_dir: Path, title: str
) -> dict[str, Path]:
    """Write the evaluation artifacts of ``result`` into ``out_dir`` (created if needed) and
    return them by file name.

    Classification: ``evaluation.json``, ``confusion_matrix.json``, ``confusion_matrix.png``,
    ``roc_curves.png`` (when any curve is defined) and ``report.html``. Regression:
    ``evaluation.json``, ``predicted_vs_actual.png`` and ``report.html``. The HTML report is
    self-contained: its charts are embedded as base64 PNG and every user string is escaped.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def put(name: str, data: bytes | str | dict[str, Any]) -> None:
        path = out_dir / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        elif isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            write_json(path, data)
        written[name] = path

    put(EVALUATION_JSON, result.to_evaluation_json())
    if isinstance(result, ClassificationResult):
        put(CONFUSION_MATRIX_JSON, result.confusion_matrix_json())
        cm_png = plots.confusion_matrix_png(
            result.labels, result.confusion_matrix, f"{title}: confusion matrix"
        )
        put(CONFUSION_MATRIX_PNG, cm_png)
        roc_png = None
        if result.roc_curves:
            roc_png = plots.roc_curves_png(result.roc_curves, f"{title}: ROC curves")
            put(ROC_CURVES_PNG, roc_png)
        put(REPORT_HTML, _classification_html(result, title, cm_png, roc_png))
    else:
        png = plots.predicted_vs_actual_png(result.sample, f"{title}: predicted vs true")
        put(PREDICTED_VS_ACTUAL_PNG, png)
        put(REPORT_HTML, _regression_html(result, title, png))
    return written
