"""What the profile says about the target: its task, class balance, counts by category and
label, Cramér's V of categorical features, and **target leakage**.

Leakage is each feature's own predictive power on the target, as Data Wrangler's
target-leakage report computes it: the cross-validated score of a one-feature model
(ROC AUC - one-vs-rest macro for several classes - for a class target, R² for a numeric
one). A feature that alone predicts the target almost perfectly is often derived from it
(a rating next to the sentiment computed from it) and will not be there at prediction time.

The one-feature models are chosen to cost a pass over the data each, not a model fit:

* numeric and date columns are cut into up to :data:`BINS` quantile bins (missing values
  one more bin), categorical and boolean columns use their values; the model predicts a
  bin's smoothed class shares (or mean) learned on the training folds - a one-feature
  histogram model, what a depth-limited tree on one feature amounts to, computed with
  ``np.bincount`` in milliseconds. A value unseen in training predicts the prior, so an
  identifier column scores like chance instead of "leaking".
* a text column gets its word and word-pair counts with multinomial naive Bayes (class
  target) or TF-IDF with ridge regression (numeric target).

scikit-learn scores them (``roc_auc_score``, ``r2_score``) and splits the folds.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.profile.text import TokenCounts, fold_matrices
from mlyard.analysis.profile.types import Inferred

Task = Literal["classification", "regression"]

#: Quantile bins of a numeric feature in its one-feature model.
BINS = 20
#: Smoothing weight (pseudo-rows of the prior) of a bin's class shares.
SMOOTHING = 1.0
#: Categorical features with at most this many values get counts by category and label.
MAX_CROSSTAB_VALUES = 30
#: Cramér's V is computed for categorical features with at most this many values.
MAX_CRAMER_VALUES = 1000
#: Token features of a text column's one-feature model.
MAX_TEXT_FEATURES = 50_000


def task_of(inferred: Inferred) -> Task | None:
    """``classification`` for a categorical/boolean target, ``regression`` for a numeric
    one, None for text and dates (not a target)."""
    if inferred.kind in ("categorical", "boolean"):
        return "classification"
    if inferred.kind == "numeric":
        return "regression"
    return None


def label_strings(target: pd.Series) -> pd.Series:
    """A class target's labels as strings ("1" not "1.0" for integer codes)."""
    if pd.api.types.is_float_dtype(target.dtype):
        finite = target.dropna()
        if (finite == np.floor(finite)).all():
            return target.map(lambda v: str(int(v)) if v == v else None)
    return target.map(lambda v: None if v is None or v != v else str(v))


def balance(labels: pd.Series, raw: pd.Series) -> dict[str, Any]:
    """Class counts (in the labels' natural order), shares and the imbalance ratio
    (largest class / smallest class) of a class target."""
    counts = raw.dropna().value_counts()
    with contextlib.suppress(TypeError):  # mixed types: keep frequency order
        counts = counts.sort_index()
    names = labels.dropna()
    keys = [str(int(k)) if isinstance(k, float) and k == int(k) else str(k)
            for k in counts.index]
    if len(set(keys)) != len(keys):  # two raw values with one string form
        counts = names.value_counts().sort_index()
        keys = [str(k) for k in counts.index]
    total = int(counts.sum())
    class_counts = {k: int(c) for k, c in zip(keys, counts.to_numpy(), strict=True)}
    out: dict[str, Any] = {"class_counts": class_counts, "classes": len(class_counts),
                           "labelled_rows": total}
    if class_counts:
        big = max(class_counts, key=class_counts.__getitem__)
        small = min(class_counts, key=class_counts.__getitem__)
        out.update({
            "shares": {k: c / total for k, c in class_counts.items()},
            "majority_class": big, "majority_share": class_counts[big] / total,
            "minority_class": small,
            "imbalance_ratio": class_counts[big] / class_counts[small]})
    return out


def by_category(feature: pd.Series, labels: pd.Series) -> dict[str, dict[str, int]]:
    """Counts by category and label (the course's grouped bar chart):
    ``{category: {label: count}}``."""
    table = pd.crosstab(feature.astype(str).where(feature.notna()), labels)
    return {str(cat): {str(lab): int(n) for lab, n in row.items()}
            for cat, row in table.iterrows()}


def cramers_v(feature: pd.Series, labels: pd.Series) -> float | None:
    """Cramér's V between a categorical feature and the class labels (rows where both are
    present), None when the table is degenerate (one row or one column)."""
    from scipy.stats.contingency import association

    both = feature.notna() & labels.notna()
    table = pd.crosstab(feature[both].astype(str), labels[both])
    if table.shape[0] < 2 or table.shape[1] < 2:
        return None
    return float(association(table.to_numpy(), method="cramer"))


def folds(y: np.ndarray, task: Task, n_folds: int, seed: int) -> list[tuple[np.ndarray,
                                                                              np.ndarray]]:
    """Shuffled cross-validation splits: stratified for classes when every class has at
    least ``n_folds`` rows, else plain k-fold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task == "classification":
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= n_folds:
            splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
            return list(splitter.split(np.zeros(len(y)), y))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y))))


def codes_of(inferred: Inferred, mask: np.ndarray) -> np.ndarray:
    """A non-text feature as small integer codes (quantile bins or values; missing: 0)."""
    if inferred.kind == "datetime":
        return _bin(date_numbers(inferred.values[mask]))
    if inferred.kind == "numeric":
        return _bin(inferred.values[mask].to_numpy(dtype=np.float64))
    values = inferred.values[mask]
    codes, _ = pd.factorize(values.astype(str).where(values.notna()), use_na_sentinel=True)
    return codes.astype(np.int64) + 1


def date_numbers(values: pd.Series) -> np.ndarray:
    """Dates as float nanoseconds since the epoch (NaT: NaN)."""
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert(None)
    numbers = values.to_numpy().astype("datetime64[ns]").astype("int64").astype(np.float64)
    numbers[values.isna().to_numpy()] = np.nan
    return numbers


def _bin(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    codes = np.zeros(values.size, dtype=np.int64)
    if finite.any():
        edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, BINS + 1)))
        codes[finite] = np.searchsorted(edges[1:-1], values[finite], side="right") + 1
    return codes


def _oof_binned(codes: np.ndarray, y: np.ndarray, task: Task, n_classes: int,
                splits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    n_codes = int(codes.max()) + 1
    if task == "classification":
        pred = np.zeros((codes.size, n_classes))
        for train, test in splits:
            table = np.bincount(codes[train] * n_classes + y[train],
                                minlength=n_codes * n_classes).reshape(n_codes, n_classes)
            prior = np.bincount(y[train], minlength=n_classes) / train.size
            probs = (table + SMOOTHING * prior) / (table.sum(axis=1, keepdims=True) + SMOOTHING)
            pred[test] = probs[codes[test]]
        return pred
    means = np.zeros(codes.size)
    for train, test in splits:
        sums = np.bincount(codes[train], weights=y[train], minlength=n_codes)
        counts = np.bincount(codes[train], minlength=n_codes)
        prior = y[train].mean()
        means[test] = ((sums + SMOOTHING * prior) / (counts + SMOOTHING))[codes[test]]
    return means


def _oof_text(counts: TokenCounts | None, mask: np.ndarray, y: np.ndarray, task: Task,
              n_classes: int, splits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    from sklearn.linear_model import Ridge
    from sklearn.naive_bayes import MultinomialNB

    size = int(mask.sum())
    pred = np.zeros((size, n_classes)) if task == "classification" else np.zeros(size)
    for train, test in splits:
        fold = (None if counts is None else
                fold_matrices(counts, mask, train, test, MAX_TEXT_FEATURES,
                              tfidf=task == "regression"))
        if fold is None:  # no token occurs twice: no signal, predict the prior
            pred[test] = (np.bincount(y[train], minlength=n_classes) / train.size
                          if task == "classification" else float(y[train].mean()))
            continue
        x_train, x_test = fold
        if task == "classification":
            nb = MultinomialNB().fit(x_train, y[train])
            full = np.zeros((test.size, n_classes))
            full[:, nb.classes_] = nb.predict_proba(x_test)
            pred[test] = full
        else:
            pred[test] = Ridge(alpha=1.0).fit(x_train, y[train]).predict(x_test)
    return pred


def score(y: np.ndarray, pred: np.ndarray, task: Task, n_classes: int) -> float:
    """ROC AUC (one-vs-rest macro for several classes) or R² of out-of-fold predictions."""
    from sklearn.metrics import r2_score, roc_auc_score

    if task == "regression":
        return float(r2_score(y, pred))
    if n_classes == 2:
        return float(roc_auc_score(y, pred[:, 1]))
    rows = pred.sum(axis=1, keepdims=True)
    return float(roc_auc_score(y, pred / np.where(rows > 0, rows, 1.0),
                               multi_class="ovr", average="macro", labels=np.arange(n_classes)))


def leakage(features: dict[str, Inferred], mask: np.ndarray, y: np.ndarray, task: Task,
            n_folds: int, seed: int, threshold: float,
            progress: Progress = no_progress) -> list[dict[str, Any]]:
    """Each feature's one-feature cross-validated score on the target (rows in ``mask``,
    encoded ``y``), highest first, flagged at ``threshold``."""
    n_classes = int(y.max()) + 1 if task == "classification" else 0
    splits = folds(y, task, n_folds, seed)
    metric = "roc_auc" if task == "classification" else "r2"
    out: list[dict[str, Any]] = []
    for i, (name, inferred) in enumerate(features.items(), 1):
        progress(f"target leakage {i}/{len(features)} {name}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if inferred.kind == "text":
                pred = _oof_text(inferred.tokens, mask, y, task, n_classes, splits)
            else:
                pred = _oof_binned(codes_of(inferred, mask), y, task, n_classes, splits)
            value = score(y, pred, task, n_classes)
        out.append({"column": name, "kind": inferred.kind, "metric": metric, "score": value,
                    "possible_leakage": bool(value >= threshold)})
    out.sort(key=lambda r: -float(r["score"]) if np.isfinite(r["score"]) else np.inf)
    return out
