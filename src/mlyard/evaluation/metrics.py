"""Classification and regression metrics, computed with scikit-learn.

scikit-learn is imported when a metric is first computed, not with this module (it takes
about a second), so importing :mod:`mlyard.evaluation` stays cheap for the CLI.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from mlyard.errors import ValidationError
from mlyard.evaluation.results import (
    ClassificationResult,
    ClassMetrics,
    RegressionResult,
    RocCurve,
)

_MAX_CURVE_POINTS = 1000
_MAX_SAMPLE_POINTS = 2000
_PROBA_TOLERANCE = 1e-6


def confusion_scores(confusion: np.ndarray) -> tuple[float, float]:
    """(accuracy, macro-F1) from a confusion matrix (rows: true class, columns: predicted).
    Macro-F1 averages over the classes present or predicted (a class neither present nor
    predicted is left out). Used by the trainers' per-epoch validation, where sums of
    confusion matrices can come from several ranks."""
    confusion = np.asarray(confusion, dtype=np.float64)
    total = confusion.sum()
    tp = np.diag(confusion)
    denom = 2 * tp + (confusion.sum(axis=0) - tp) + (confusion.sum(axis=1) - tp)
    present = denom > 0
    f1 = np.where(present, 2 * tp / np.maximum(denom, 1), 0.0)
    accuracy = float(tp.sum() / total) if total else 0.0
    return accuracy, float(f1[present].mean()) if present.any() else 0.0


def class_confusion(targets: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """The n_classes × n_classes confusion matrix of integer class ids."""
    index = np.asarray(targets, dtype=np.int64) * n_classes + np.asarray(predicted, np.int64)
    return np.bincount(index, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def macro_f1(targets: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in ``targets`` or
    ``predicted`` (integer class ids in ``0..n_classes-1``)."""
    return confusion_scores(class_confusion(targets, predicted, n_classes))[1]


def _quoted(values: Iterable[str], limit: int = 10) -> str:
    items = list(values)
    shown = ", ".join(repr(v) for v in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


def check_labels(labels: Sequence[Any]) -> list[str]:
    """The model's labels as strings; at least one, no duplicates."""
    names = [str(label) for label in labels]
    if not names:
        raise ValidationError("the model has no labels; cannot evaluate a classifier without them")
    dupes = sorted(name for name, count in Counter(names).items() if count > 1)
    if dupes:
        raise ValidationError(f"duplicate model labels: {_quoted(dupes)}")
    return names


def check_known_labels(y_true: Sequence[str], labels: Sequence[str]) -> None:
    """Raise :class:`ValidationError` naming the values of ``y_true`` not in ``labels``."""
    known = set(labels)
    unknown = Counter(y for y in y_true if y not in known)
    if unknown:
        names = sorted(unknown)
        counts = ", ".join(f"{name!r}: {unknown[name]}" for name in names[:10])
        raise ValidationError(
            f"y_true holds {len(names)} label(s) the model does not know: {_quoted(names)} "
            f"(rows per label: {counts}); model labels: {_quoted(labels, 50)}"
        )


def _check_proba(proba: Any, n: int, k: int) -> np.ndarray:
    try:
        scores = np.asarray(proba, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"proba is not a numeric matrix: {exc}") from None
    if scores.shape != (n, k):
        raise ValidationError(
            f"proba has shape {scores.shape}, expected ({n}, {k}): one row per y_true value "
            "and one column per label"
        )
    if not np.isfinite(scores).all():
        bad = int(np.argwhere(~np.isfinite(scores))[0][0])
        raise ValidationError(f"proba holds NaN or infinite values (first in row {bad})")
    if scores.size and (scores.min() < -_PROBA_TOLERANCE or scores.max() > 1 + _PROBA_TOLERANCE):
        raise ValidationError(
            f"proba values must lie in [0, 1]; got min {scores.min():g}, max {scores.max():g}"
        )
    return np.clip(scores, 0.0, 1.0)


def _check_threshold(threshold: Any) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(threshold, bool) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return value


def resolve_decision(
    labels: Sequence[str], threshold: Any = None, positive_label: Any = None
) -> tuple[int | None, float | None]:
    """Check ``threshold`` and ``positive_label`` against the model's ``labels`` and return
    the positive class's column (binary models only, default 1) and the threshold as float."""
    k = len(labels)
    if k != 2:
        for name, value in (("positive_label", positive_label), ("threshold", threshold)):
            if value is not None:
                raise ValidationError(
                    f"{name} applies to binary models only; this model has {k} label(s)"
                )
        return None, None
    pos_name = labels[1] if positive_label is None else str(positive_label)
    if pos_name not in labels:
        raise ValidationError(
            f"positive_label {pos_name!r} is not a model label; labels: {_quoted(labels)}"
        )
    value = None if threshold is None else _check_threshold(threshold)
    return list(labels).index(pos_name), value


def _downsample(fpr: np.ndarray, tpr: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if len(fpr) > _MAX_CURVE_POINTS:
        idx = np.unique(np.linspace(0, len(fpr) - 1, _MAX_CURVE_POINTS).round().astype(int))
        fpr, tpr = fpr[idx], tpr[idx]
    return tuple(float(v) for v in fpr), tuple(float(v) for v in tpr)


def _one_vs_rest(
    idx_true: np.ndarray, scores: np.ndarray, names: Sequence[str]
) -> tuple[list[float | None], list[RocCurve | None]]:
    """Per-class one-vs-rest AUC and ROC curve (``None`` where the class is absent from
    ``y_true`` or is all of it)."""
    from sklearn.metrics import auc as area_under_curve
    from sklearn.metrics import roc_curve

    aucs: list[float | None] = []
    curves: list[RocCurve | None] = []
    for j, name in enumerate(names):
        positive = idx_true == j
        if positive.all() or not positive.any():
            aucs.append(None)
            curves.append(None)
            continue
        # As roc_auc_score does for a binary target, from one sort instead of two.
        fpr, tpr, _ = roc_curve(positive, scores[:, j])
        auc = float(area_under_curve(fpr, tpr))
        fx, ty = _downsample(fpr, tpr)
        aucs.append(auc)
        curves.append(RocCurve(label=name, fpr=fx, tpr=ty, auc=auc))
    return aucs, curves


def classification_metrics(
    y_true: Sequence[str],
    proba: ArrayLike,
    labels: Sequence[str],
    threshold: float | None = None,
    positive_label: str | None = None,
) -> ClassificationResult:
    """Metrics of class probabilities ``proba`` (shape ``(n, len(labels))``, columns in
    ``labels`` order) against the true labels ``y_true`` (compared as ``str``).

    Predictions are the argmax of each row (ties: the earlier label). For a binary model
    (two labels) ``positive_label`` (default ``labels[1]``, scikit-learn's convention) names
    the positive class, and ``threshold`` in ``[0, 1]``, when given, predicts it wherever its
    probability is ``>= threshold``. Both are errors for a multiclass model.

    ROC AUC is one-vs-rest: a binary model's is the positive class's, a multiclass model's
    the macro mean over classes; it is ``None`` with ``roc_auc_reason`` when a label is absent
    from ``y_true`` (or ``y_true`` holds a single class). Log loss uses all model labels (so
    absent classes are fine) on rows rescaled to sum to one.

    Raises :class:`ValidationError` for empty input, labels of ``y_true`` the model does not
    know, a ``proba`` of the wrong shape or with values outside ``[0, 1]``, and bad
    ``threshold`` / ``positive_label``.
    """
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
    )

    names = check_labels(labels)
    truth = [str(y) for y in y_true]
    n, k = len(truth), len(names)
    if n == 0:
        raise ValidationError("cannot evaluate on empty input: y_true has no rows")
    check_known_labels(truth, names)
    scores = _check_proba(proba, n, k)
    index = {name: j for j, name in enumerate(names)}
    idx_true = np.fromiter((index[y] for y in truth), dtype=np.int64, count=n)

    binary = k == 2
    pos, threshold = resolve_decision(names, threshold, positive_label)

    if pos is not None and threshold is not None:
        idx_pred = np.where(scores[:, pos] >= threshold, pos, 1 - pos).astype(np.int64)
    else:
        idx_pred = np.argmax(scores, axis=1).astype(np.int64)

    all_idx = list(range(k))
    present = np.union1d(idx_true, idx_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)
        accuracy = float(accuracy_score(idx_true, idx_pred))
        balanced = float(balanced_accuracy_score(idx_true, idx_pred))
        averages: dict[str, tuple[float, float, float]] = {}
        for average in ("macro", "weighted"):
            p, r, f, _ = precision_recall_fscore_support(
                idx_true, idx_pred, labels=present, average=average, zero_division=0
            )
            averages[average] = (float(p), float(r), float(f))
        p_c, r_c, f_c, s_c = precision_recall_fscore_support(
            idx_true, idx_pred, labels=all_idx, average=None, zero_division=0
        )
        matrix = confusion_matrix(idx_true, idx_pred, labels=all_idx)
        aucs, curves = _one_vs_rest(idx_true, scores, names)

        loss: float | None = None
        loss_reason: str | None = None
        if k < 2:
            loss_reason = "the model has a single label"
        else:
            sums = scores.sum(axis=1, keepdims=True)
            normed = np.where(sums > 0, scores / np.where(sums > 0, sums, 1.0), 1.0 / k)
            loss = float(log_loss(idx_true, normed, labels=all_idx))

    absent = [names[j] for j in range(k) if not (idx_true == j).any()]
    auc: float | None = None
    auc_reason: str | None = None
    if k < 2:
        auc_reason = "the model has a single label"
    elif pos is not None:
        auc = aucs[pos]
        if auc is None:
            auc_reason = (
                f"y_true holds only label {names[int(idx_true[0])]!r}; ROC AUC needs both classes"
            )
    elif absent:
        auc_reason = (
            f"label(s) absent from y_true: {_quoted(absent)}; one-vs-rest ROC AUC needs every class"
        )
    else:
        auc = float(np.mean([a for a in aucs if a is not None]))

    per_class = {
        name: ClassMetrics(
            precision=float(p_c[j]),
            recall=float(r_c[j]),
            f1=float(f_c[j]),
            support=int(s_c[j]),
            roc_auc=aucs[j],
        )
        for j, name in enumerate(names)
    }
    roc = tuple(c for j, c in enumerate(curves) if c is not None and (pos is None or j == pos))
    return ClassificationResult(
        task="binary" if binary else "multiclass",
        labels=tuple(names),
        n=n,
        accuracy=accuracy,
        balanced_accuracy=balanced,
        precision_macro=averages["macro"][0],
        recall_macro=averages["macro"][1],
        f1_macro=averages["macro"][2],
        precision_weighted=averages["weighted"][0],
        recall_weighted=averages["weighted"][1],
        f1_weighted=averages["weighted"][2],
        roc_auc_ovr=auc,
        roc_auc_reason=auc_reason,
        log_loss=loss,
        log_loss_reason=loss_reason,
        confusion_matrix=tuple(tuple(int(c) for c in row) for row in matrix),
        per_class=per_class,
        threshold=threshold,
        positive_label=names[pos] if pos is not None else None,
        roc_curves=roc,
    )


def as_float_vector(name: str, values: Any) -> np.ndarray:
    """``values`` as a 1-D float array (numeric strings accepted); :class:`ValidationError`
    naming the first non-numeric or non-finite value otherwise."""
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    try:
        fast: np.ndarray | None = np.asarray(items, dtype=float)
    except (TypeError, ValueError):
        fast = None
    if fast is not None and fast.ndim == 1 and np.isfinite(fast).all():
        return fast
    # Slow path: find the first bad value to name it.
    out = np.empty(len(items), dtype=float)
    for i, value in enumerate(items):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{name} must be numeric; row {i} holds {value!r}") from None
        if not math.isfinite(number):
            raise ValidationError(f"{name} must be finite; row {i} holds {value!r}")
        out[i] = number
    return out


def regression_metrics(
    y_true: Sequence[Any] | np.ndarray, y_pred: Sequence[Any] | np.ndarray
) -> RegressionResult:
    """MSE, RMSE, MAE and R² of ``y_pred`` against ``y_true`` (numbers or numeric strings),
    with the standard deviations :class:`RegressionResult` describes.

    Raises :class:`ValidationError` for empty input, different lengths, or non-numeric /
    non-finite values.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    truth = as_float_vector("y_true", y_true)
    pred = as_float_vector("y_pred", y_pred)
    n = len(truth)
    if n == 0:
        raise ValidationError("cannot evaluate on empty input: y_true has no rows")
    if len(pred) != n:
        raise ValidationError(f"y_true and y_pred differ in length: {n} and {len(pred)}")
    err = pred - truth
    r2: float | None = None
    r2_reason: str | None = None
    if n < 2:
        r2_reason = "R2 needs at least two rows"
    else:
        r2 = float(r2_score(truth, pred))
    mse = float(mean_squared_error(truth, pred))
    idx = np.unique(np.linspace(0, n - 1, min(n, _MAX_SAMPLE_POINTS)).round().astype(int))
    return RegressionResult(
        n=n,
        mse=mse,
        rmse=math.sqrt(mse),
        mae=float(mean_absolute_error(truth, pred)),
        r2=r2,
        r2_reason=r2_reason,
        mse_std=float(np.std(err**2)),
        residual_std=float(np.std(err)),
        mae_std=float(np.std(np.abs(err))),
        mean_error=float(np.mean(err)),
        sample=tuple((float(truth[i]), float(pred[i])) for i in idx),
    )
