"""Model evaluation: metrics, confusion matrices, ``evaluation.json`` and HTML reports.

Entry points:

- :func:`evaluate_model` predicts labelled data with a :class:`~mlyard.models.LoadedModel`
  (in batches, with progress), scores it and optionally writes the report;
- :func:`classification_metrics` / :func:`regression_metrics` score predictions already made;
- :func:`write_report` writes the artifacts of a result;
- :func:`load_labeled_data` reads ``(texts, labels)`` from CSV or fastText files.

``evaluation.json``
-------------------

The shape SageMaker Pipelines' ``JsonGet`` and condition steps read: every scalar metric is
``{"value": number}`` under ``"metrics"`` (so ``metrics.accuracy.value`` is a valid path). A
metric that is undefined on the data has ``"value": null`` and a ``"reason"``. The same
numbers are repeated under SageMaker's own key (``binary_classification_metrics``,
``multiclass_classification_metrics`` or ``regression_metrics``), so paths from SageMaker
examples work unchanged. Classification::

    {
      "metrics": {
        "accuracy": {"value": 0.81},
        "balanced_accuracy": {"value": 0.62},
        "precision_macro": {"value": 0.66}, "recall_macro": {"value": 0.62},
        "f1_macro": {"value": 0.60},
        "precision_weighted": {"value": 0.80}, "recall_weighted": {"value": 0.81},
        "f1_weighted": {"value": 0.80},
        "roc_auc_ovr": {"value": null, "reason": "label(s) absent from y_true: '0'; ..."},
        "log_loss": {"value": 0.52}
      },
      "task": "multiclass",                    # or "binary"
      "n": 2263,                               # rows evaluated
      "labels": ["-1", "0", "1"],              # model labels, the order used below
      "positive_label": null,                  # binary: the positive class
      "threshold": null,                       # binary: score threshold, null = argmax
      "confusion_matrix": {"labels": ["-1", "0", "1"],
                           "matrix": [[180, 40, 17], ...]},   # rows true, columns predicted
      "per_class": {"-1": {"precision": 0.61, "recall": 0.76, "f1": 0.68,
                           "support": 237, "roc_auc": 0.94}, ...},
      "multiclass_classification_metrics": {
        "accuracy": {"value": 0.81}, ...,                    # the scalars again
        "confusion_matrix": {"-1": {"-1": 180, "0": 40, "1": 17}, ...}   # true -> predicted
        # binary only: "receiver_operating_characteristic_curve":
        #   {"false_positive_rates": [...], "true_positive_rates": [...]}
      }
    }

Regression (``standard_deviation``: of the squared errors for ``mse``, of the residuals
``y_pred - y_true`` for ``rmse`` as in SageMaker's example, of the absolute errors for
``mae``)::

    {
      "metrics": {
        "mse": {"value": 4.1, "standard_deviation": 9.8},
        "rmse": {"value": 2.02, "standard_deviation": 2.0},
        "mae": {"value": 1.5, "standard_deviation": 1.3},
        "r2": {"value": 0.55}
      },
      "task": "regression",
      "n": 418,
      "mean_error": 0.04,
      "regression_metrics": {"mse": {"value": 4.1, "standard_deviation": 9.8}, ...}
    }

The JSON is strict (no ``NaN``); ``confusion_matrix.json`` holds the ``confusion_matrix``
object alone.
"""

from mlyard.evaluation.data import load_labeled_data
from mlyard.evaluation.evaluate import EvaluationResult, evaluate_model
from mlyard.evaluation.metrics import classification_metrics, regression_metrics
from mlyard.evaluation.report import write_report
from mlyard.evaluation.results import (
    ClassificationResult,
    ClassMetrics,
    RegressionResult,
    RocCurve,
)

__all__ = [
    "ClassMetrics",
    "ClassificationResult",
    "EvaluationResult",
    "RegressionResult",
    "RocCurve",
    "classification_metrics",
    "evaluate_model",
    "load_labeled_data",
    "regression_metrics",
    "write_report",
]
