"""Evaluation result objects: frozen dataclasses that render ``evaluation.json`` and a text table.

The computations live in :mod:`mlyard.evaluation.metrics`; the shape of the JSON they render
is documented in :mod:`mlyard.evaluation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

#: Scalar classification metrics, in the order ``evaluation.json`` and tables list them.
CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc_ovr",
    "log_loss",
)

#: Scalar regression metrics, in order.
REGRESSION_METRICS: tuple[str, ...] = ("mse", "rmse", "mae", "r2")

_LABEL_WIDTH = 24


@dataclass(frozen=True)
class ClassMetrics:
    """Metrics of one class: precision, recall, F1, support (its count in ``y_true``) and its
    one-vs-rest ROC AUC (``None`` when the class is absent from, or is all of, ``y_true``)."""

    precision: float
    recall: float
    f1: float
    support: int
    roc_auc: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"precision": ..., "recall": ..., "f1": ..., "support": ..., "roc_auc": ...}``."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "roc_auc": self.roc_auc,
        }


@dataclass(frozen=True)
class RocCurve:
    """One one-vs-rest ROC curve: ``label`` against the rest (at most ~1,000 points)."""

    label: str
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    auc: float


def _metric_entry(value: float | None, reason: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"value": value}
    if value is None and reason:
        entry["reason"] = reason
    return entry


def _fmt(value: float | None, reason: str | None = None) -> str:
    if value is None:
        return f"n/a ({reason})" if reason else "n/a"
    return f"{value:.4f}"


def _short(label: str, width: int = _LABEL_WIDTH) -> str:
    label = label.replace("\n", " ").replace("\t", " ")
    if len(label) <= width:
        return label
    head = (width - 2) // 2
    return label[:head] + ".." + label[len(label) - (width - 2 - head) :]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: columns padded to their widest cell, first column left-aligned,
    the others right-aligned, a dashed rule under the header."""
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


@dataclass(frozen=True)
class ClassificationResult:
    """Metrics of a classifier on labelled data (see :func:`classification_metrics`).

    Macro averages run over the labels present in ``y_true`` or in the predictions (as
    scikit-learn does when not given ``labels``), so a model label that never occurs and is
    never predicted does not count as a zero; weighted averages weigh classes by support.
    ``confusion_matrix[i][j]`` counts rows of true label ``labels[i]`` predicted as
    ``labels[j]``. ``roc_curves`` holds the one-vs-rest curves that could be computed (for a
    binary model only the positive class's) and feeds the HTML report.
    """

    task: Literal["binary", "multiclass"]
    labels: tuple[str, ...]
    n: int
    accuracy: float
    balanced_accuracy: float
    precision_macro: float
    recall_macro: float
    f1_macro: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    roc_auc_ovr: float | None
    roc_auc_reason: str | None
    log_loss: float | None
    log_loss_reason: str | None
    confusion_matrix: tuple[tuple[int, ...], ...]
    per_class: Mapping[str, ClassMetrics]
    threshold: float | None = None
    positive_label: str | None = None
    roc_curves: tuple[RocCurve, ...] = field(default=(), repr=False, compare=False)

    def metric_values(self) -> dict[str, float | None]:
        """The scalar metrics by name (``None`` where undefined), in table order."""
        return {name: getattr(self, name) for name in CLASSIFICATION_METRICS}

    def _reason(self, name: str) -> str | None:
        if name == "roc_auc_ovr":
            return self.roc_auc_reason
        if name == "log_loss":
            return self.log_loss_reason
        return None

    def confusion_matrix_json(self) -> dict[str, Any]:
        """``{"labels": [...], "matrix": [[...]]}`` (rows: true label, columns: predicted)."""
        return {
            "labels": list(self.labels),
            "matrix": [list(row) for row in self.confusion_matrix],
        }

    def to_evaluation_json(self) -> dict[str, Any]:
        """This result as ``evaluation.json`` (shape documented in :mod:`mlyard.evaluation`)."""
        metrics = {
            name: _metric_entry(value, self._reason(name))
            for name, value in self.metric_values().items()
        }
        sagemaker: dict[str, Any] = {
            name: {"value": value} for name, value in self.metric_values().items()
        }
        sagemaker["confusion_matrix"] = {
            true: {pred: count for pred, count in zip(self.labels, row, strict=True)}
            for true, row in zip(self.labels, self.confusion_matrix, strict=True)
        }
        if self.task == "binary":
            curve = next((c for c in self.roc_curves if c.label == self.positive_label), None)
            if curve is not None:
                sagemaker["receiver_operating_characteristic_curve"] = {
                    "false_positive_rates": list(curve.fpr),
                    "true_positive_rates": list(curve.tpr),
                }
        return {
            "metrics": metrics,
            "task": self.task,
            "n": self.n,
            "labels": list(self.labels),
            "positive_label": self.positive_label,
            "threshold": self.threshold,
            "confusion_matrix": self.confusion_matrix_json(),
            "per_class": {label: m.to_json() for label, m in self.per_class.items()},
            f"{self.task}_classification_metrics": sagemaker,
        }

    def summary_table(self) -> str:
        """Plain-text tables for a terminal: scalar metrics, then per-class metrics, then the
        confusion matrix (rows: true label, columns: predicted)."""
        head = f"{self.task} classification, n={self.n}, {len(self.labels)} labels"
        if self.task == "binary":
            rule = "argmax" if self.threshold is None else f"score >= {self.threshold:g}"
            head += f", positive label {self.positive_label!r} ({rule})"
        metrics = format_table(
            ["metric", "value"],
            [
                [name, _fmt(value, self._reason(name))]
                for name, value in self.metric_values().items()
            ],
        )
        per_class = format_table(
            ["label", "precision", "recall", "f1", "roc_auc", "support"],
            [
                [
                    _short(label),
                    _fmt(m.precision),
                    _fmt(m.recall),
                    _fmt(m.f1),
                    _fmt(m.roc_auc),
                    str(m.support),
                ]
                for label, m in self.per_class.items()
            ],
        )
        short = [_short(label, 12) for label in self.labels]
        matrix = format_table(
            ["true \\ predicted", *short],
            [
                [s, *(str(c) for c in row)]
                for s, row in zip(short, self.confusion_matrix, strict=True)
            ],
        )
        return "\n\n".join([head, metrics, per_class, matrix])


@dataclass(frozen=True)
class RegressionResult:
    """Metrics of a regressor (see :func:`regression_metrics`).

    Standard deviations, as SageMaker's examples report them next to each value:
    ``mse_std`` of the squared errors, ``residual_std`` of the residuals
    ``y_pred - y_true`` (reported for ``rmse``), ``mae_std`` of the absolute errors.
    ``r2`` is ``None`` (with ``r2_reason``) for fewer than two rows. ``sample`` holds up to
    2,000 evenly spaced ``(y_true, y_pred)`` pairs for the report's scatter plot.
    """

    n: int
    mse: float
    rmse: float
    mae: float
    r2: float | None
    r2_reason: str | None
    mse_std: float
    residual_std: float
    mae_std: float
    mean_error: float
    sample: tuple[tuple[float, float], ...] = field(default=(), repr=False, compare=False)

    task: ClassVar[Literal["regression"]] = "regression"

    def metric_values(self) -> dict[str, float | None]:
        """The scalar metrics by name (``None`` where undefined), in table order."""
        return {name: getattr(self, name) for name in REGRESSION_METRICS}

    def _stds(self) -> dict[str, float]:
        return {"mse": self.mse_std, "rmse": self.residual_std, "mae": self.mae_std}

    def to_evaluation_json(self) -> dict[str, Any]:
        """This result as ``evaluation.json`` (shape documented in :mod:`mlyard.evaluation`)."""
        stds = self._stds()
        metrics: dict[str, Any] = {}
        for name, value in self.metric_values().items():
            entry = _metric_entry(value, self.r2_reason if name == "r2" else None)
            if name in stds:
                entry["standard_deviation"] = stds[name]
            metrics[name] = entry
        return {
            "metrics": metrics,
            "task": "regression",
            "n": self.n,
            "mean_error": self.mean_error,
            "regression_metrics": {
                name: {k: v for k, v in entry.items() if k != "reason"}
                for name, entry in metrics.items()
            },
        }

    def summary_table(self) -> str:
        """A plain-text table of the metrics and their standard deviations."""
        stds = self._stds()
        rows = [
            [
                name,
                _fmt(value, self.r2_reason if name == "r2" else None),
                _fmt(stds[name]) if name in stds else "",
            ]
            for name, value in self.metric_values().items()
        ]
        rows.append(["mean_error", _fmt(self.mean_error), ""])
        table = format_table(["metric", "value", "std"], rows)
        return f"regression, n={self.n}\n\n{table}"
