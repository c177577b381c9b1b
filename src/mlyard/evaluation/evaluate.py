"""Evaluate a loaded model on labelled data: predict in batches, score, write the report."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.errors import ValidationError
from mlyard.evaluation.metrics import (
    as_float_vector,
    check_known_labels,
    check_labels,
    classification_metrics,
    regression_metrics,
    resolve_decision,
)
from mlyard.evaluation.report import write_report
from mlyard.evaluation.results import ClassificationResult, RegressionResult
from mlyard.models.base import LoadedModel


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate_model` measured: the metrics, the artifacts written (by file
    name; empty without ``out_dir``) and the seconds spent predicting and in total."""

    metrics: ClassificationResult | RegressionResult
    artifacts: Mapping[str, Path] = field(default_factory=dict)
    predict_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def task(self) -> str:
        """``"binary"``, ``"multiclass"`` or ``"regression"``."""
        return self.metrics.task

    @property
    def n(self) -> int:
        """Rows evaluated."""
        return self.metrics.n

    def to_evaluation_json(self) -> dict[str, Any]:
        """The metrics as ``evaluation.json`` (see :mod:`mlyard.evaluation`)."""
        return self.metrics.to_evaluation_json()

    def summary_table(self) -> str:
        """The metrics' text tables, then timings and the artifacts written."""
        lines = [self.metrics.summary_table(), ""]
        rate = self.n / self.predict_seconds if self.predict_seconds > 0 else None
        timing = f"predicted {self.n} rows in {self.predict_seconds:.2f} s"
        if rate is not None:
            timing += f" ({rate:,.0f} rows/s)"
        lines.append(timing)
        for name, path in self.artifacts.items():
            lines.append(f"wrote {name}: {path}")
        return "\n".join(lines)


def _batches(n: int, batch_size: int) -> list[tuple[int, int]]:
    return [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]


def evaluate_model(
    model: LoadedModel,
    texts: Sequence[Any],
    y_true: Sequence[Any],
    out_dir: Path | None = None,
    threshold: float | None = None,
    positive_label: str | None = None,
    batch_size: int = 4096,
    progress: Callable[[int], None] | None = None,
    *,
    title: str | None = None,
) -> EvaluationResult:
    """Predict ``texts`` with ``model`` and score the predictions against ``y_true``.

    Classifiers go through :meth:`LoadedModel.predict_proba` and
    :func:`classification_metrics` (labels compared as ``str(y)``, so CSV labels such as
    ``-1``/``0``/``1`` may arrive as ints); regressors through
    :meth:`LoadedModel.predict_values` and :func:`regression_metrics`. Prediction runs in
    batches of ``batch_size``; ``progress``, when given, is called after each batch with the
    number of rows predicted so far. With ``out_dir`` the report (:func:`write_report`, titled
    ``title`` or after the model's flavor) is written there.

    Raises :class:`ValidationError` when ``texts`` and ``y_true`` differ in length or are
    empty, ``y_true`` holds labels the model does not know (checked before predicting), the
    model returns a batch of the wrong shape, or ``threshold`` / ``positive_label`` are given
    for a regressor.
    """
    started = time.perf_counter()
    items = list(texts)
    n = len(items)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError(f"batch_size must be a positive integer, got {batch_size!r}")
    if len(y_true) != n:
        raise ValidationError(f"got {n} texts but {len(y_true)} labels")
    if n == 0:
        raise ValidationError("cannot evaluate on empty input: no rows")

    regression = model.task == "regression"
    if regression:
        if threshold is not None or positive_label is not None:
            raise ValidationError("threshold and positive_label apply to classifiers only")
        truth_values = as_float_vector("y_true", y_true)
        values = np.empty(n, dtype=float)
    else:
        labels = check_labels(model.labels)
        truth = [str(y) for y in y_true]
        check_known_labels(truth, labels)
        resolve_decision(labels, threshold, positive_label)
        proba = np.empty((n, len(labels)), dtype=float)

    predict_started = time.perf_counter()
    for start, end in _batches(n, batch_size):
        batch = items[start:end]
        if regression:
            out = np.asarray(model.predict_values(batch), dtype=float)
            if out.size != end - start:
                raise ValidationError(
                    f"model returned {out.size} values for a batch of {end - start} rows"
                )
            values[start:end] = out.reshape(-1)
        else:
            scores = np.asarray(model.predict_proba(batch), dtype=float)
            if scores.shape != (end - start, len(labels)):
                raise ValidationError(
                    f"model returned probabilities of shape {scores.shape} for a batch of "
                    f"{end - start} rows; expected ({end - start}, {len(labels)})"
                )
            proba[start:end] = scores
        if progress is not None:
            progress(end)
    predict_seconds = time.perf_counter() - predict_started

    metrics: ClassificationResult | RegressionResult
    if regression:
        metrics = regression_metrics(truth_values, values)
    else:
        metrics = classification_metrics(
            truth, proba, labels, threshold=threshold, positive_label=positive_label
        )
    artifacts: dict[str, Path] = {}
    if out_dir is not None:
        heading = title or f"Evaluation of {model.manifest.flavor} model"
        artifacts = write_report(metrics, Path(out_dir), heading)
    return EvaluationResult(
        metrics=metrics,
        artifacts=artifacts,
        predict_seconds=predict_seconds,
        total_seconds=time.perf_counter() - started,
    )
