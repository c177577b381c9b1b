"""The quick model: a fast cross-validated baseline on all features, with per-column
importances - how much signal the data holds before any tuning (Data Wrangler's "quick
model").

Two scikit-learn models, picked by the columns:

* with a text column: a linear model (logistic regression fitted by SGD with balanced
  class weights for classes, ridge for numbers) on one block of features per column -
  TF-IDF of words and word pairs for text, one-hot for categorical/boolean columns (rare
  values pooled), imputed and standardised numbers and dates. Tree ensembles on tens of
  thousands of sparse TF-IDF columns cost 10-100x more for a baseline that linear models
  match on text.
* without text: histogram gradient boosting (native categorical splits, missing values
  handled), which finds non-linear effects a linear model misses in tabular data.

Importances are permutation importances per input column, computed on each held-out fold
(the drop in the score when that column's rows are shuffled, averaged over folds). Each
column has its own transformer, so shuffling a column is shuffling the rows of its block of
the already-transformed matrix: no re-transforming, one prediction per column and fold (for
the linear model only the column's share of the decision is recomputed).

OpenMP (gradient boosting's threads) is limited to one thread while the quick model runs:
a profile often runs beside other jobs, and on a shared 2-core host boosting 100,000 rows
took 35.7 s with OpenMP's default threads against 2.1 s with one (400 rows: 3.5 s against
0.3 s) - busy-waiting threads lose far more to oversubscription than they gain.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.profile.target import Task, date_numbers, folds
from mlyard.analysis.profile.text import fold_matrices
from mlyard.analysis.profile.types import Inferred

MISSING = "<missing>"
#: Rare categorical values (fewer rows than this in a training fold) are pooled.
MIN_FREQUENCY = 5
#: TF-IDF vocabulary cap per text column.
MAX_TEXT_FEATURES = 50_000


def _prepared(features: dict[str, Inferred], mask: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, inf in features.items():
        values = inf.values[mask]
        if inf.kind == "numeric":
            out[name] = values.to_numpy(dtype=np.float64)
        elif inf.kind == "datetime":
            out[name] = date_numbers(values)
        elif inf.kind == "text":
            out[name] = values.fillna("").astype(str).to_numpy(dtype=object)
        else:
            # Integer codes of the string forms: the encoders count integers with numpy,
            # where object strings went through a Python Counter (5x slower).
            codes, _ = pd.factorize(values.astype(str).where(values.notna(), MISSING))
            out[name] = codes.astype(np.int64)
    return out


def _sparse_design(columns: dict[str, np.ndarray], features: dict[str, Inferred],
                   mask: np.ndarray, train: np.ndarray, test: np.ndarray
                   ) -> tuple[Any, Any, dict[str, slice]]:
    import scipy.sparse as sp
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    blocks_train, blocks_test, slices = [], [], {}
    start = 0
    for name, inferred in features.items():
        kind = inferred.kind
        values = columns.get(name, np.empty(0))
        tr: Any
        if kind == "text":
            tokens = inferred.tokens
            fold = (None if tokens is None else
                    fold_matrices(tokens, mask, train, test, MAX_TEXT_FEATURES, tfidf=True))
            if fold is None:
                continue
            a, b = fold
        elif kind in ("numeric", "datetime"):
            if not np.isfinite(values[train]).any():
                continue
            tr = make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                               StandardScaler())
            x_train = np.where(np.isfinite(values[train]), values[train], np.nan)[:, None]
            x_test = np.where(np.isfinite(values[test]), values[test], np.nan)[:, None]
        else:
            tr = OneHotEncoder(handle_unknown="infrequent_if_exist",
                               min_frequency=MIN_FREQUENCY, max_categories=100,
                               dtype=np.float32)
            x_train, x_test = values[train][:, None], values[test][:, None]
        if kind != "text":
            a, b = tr.fit_transform(x_train), tr.transform(x_test)
        a, b = sp.csr_matrix(a), sp.csr_matrix(b)
        blocks_train.append(a)
        blocks_test.append(b)
        slices[name] = slice(start, start + a.shape[1])
        start += a.shape[1]
    return (sp.hstack(blocks_train, format="csr"), sp.hstack(blocks_test, format="csr"),
            slices)


def _dense_design(columns: dict[str, np.ndarray], features: dict[str, Inferred],
                  train: np.ndarray, test: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, dict[str, slice], list[bool]]:
    from sklearn.preprocessing import OrdinalEncoder

    train_cols, test_cols, categorical = [], [], []
    for name, values in columns.items():
        if features[name].kind not in ("numeric", "datetime"):
            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                 min_frequency=MIN_FREQUENCY, max_categories=250)
            train_cols.append(enc.fit_transform(values[train][:, None])[:, 0])
            test_cols.append(enc.transform(values[test][:, None])[:, 0])
            categorical.append(True)
        else:
            clean = np.where(np.isfinite(values), values, np.nan)
            train_cols.append(clean[train])
            test_cols.append(clean[test])
            categorical.append(False)
    slices = {name: slice(i, i + 1) for i, name in enumerate(columns)}
    return np.column_stack(train_cols), np.column_stack(test_cols), slices, categorical


def _permuted_predict(model: Any, x: Any, cols: slice, order: np.ndarray,
                      decision: np.ndarray | None) -> np.ndarray:
    """``model``'s predictions with the rows of the block ``cols`` of ``x`` shuffled by
    ``order``. A linear model's decision is a sum over blocks, so only the block's share
    is recomputed (exact, and no re-assembled matrix); other models predict a copy."""
    if decision is None:
        out = x.copy()
        out[:, cols] = x[order, cols]
        return np.asarray(model.predict(out))
    block = x[:, cols]
    share = np.asarray(block @ model.coef_[..., cols].T)
    shuffled = decision - share.reshape(decision.shape) + share[order].reshape(decision.shape)
    if not hasattr(model, "classes_"):
        return shuffled
    if shuffled.ndim == 1:
        return np.asarray(model.classes_[(shuffled > 0).astype(int)])
    return np.asarray(model.classes_[shuffled.argmax(axis=1)])


def _scores(y: np.ndarray, pred: np.ndarray, task: Task) -> dict[str, float]:
    """Macro F1 and accuracy, or R² and RMSE. Macro F1 is scikit-learn's
    ``f1_score(average="macro", zero_division=0)`` (F1 = 2TP / (2TP + FP + FN) per class
    present in ``y`` or ``pred``) from one ``np.bincount`` confusion matrix: it is scored
    once per column, fold and shuffle, and scikit-learn's input checks cost 10 ms a call."""
    from sklearn.metrics import mean_squared_error, r2_score

    if task == "classification":
        y, pred = y.astype(np.int64), pred.astype(np.int64)
        n = int(max(y.max(), pred.max())) + 1
        confusion = np.bincount(y * n + pred, minlength=n * n).reshape(n, n)
        tp = np.diag(confusion)
        denominator = confusion.sum(axis=0) + confusion.sum(axis=1)  # 2TP + FP + FN
        present = denominator > 0
        f1 = 2 * tp[present] / denominator[present]
        return {"macro_f1": float(f1.mean()), "accuracy": float(tp.sum() / y.size)}
    return {"r2": float(r2_score(y, pred)),
            "rmse": float(np.sqrt(mean_squared_error(y, pred)))}


def quick_model(features: dict[str, Inferred], mask: np.ndarray, y: np.ndarray, task: Task,
                n_folds: int, seed: int, progress: Progress = no_progress) -> dict[str, Any]:
    """Cross-validated scores, the majority-class (or mean) baseline and per-column
    permutation importances of the quick model on ``features`` (rows in ``mask``)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Ridge, SGDClassifier
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    started = time.perf_counter()
    columns = _prepared(features, mask)
    sparse = any(inf.kind == "text" for inf in features.values())
    metric = "macro_f1" if task == "classification" else "r2"
    rng = np.random.default_rng(seed)
    fold_scores: list[dict[str, float]] = []
    baselines: list[dict[str, float]] = []
    drops: dict[str, list[float]] = {name: [] for name in features}
    for i, (train, test) in enumerate(folds(y, task, n_folds, seed), 1):
        progress(f"quick model fold {i}/{n_folds}")
        with warnings.catch_warnings(), threadpool_limits(1, user_api="openmp"):
            # Unknown or rare categories in a held-out fold, a solver short of full
            # convergence: both expected for a quick baseline.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            model: Any
            if sparse:
                x_train, x_test, slices = _sparse_design(columns, features, mask, train, test)
                model = (SGDClassifier(loss="log_loss", alpha=1e-5, class_weight="balanced",
                                       random_state=seed)
                         if task == "classification" else Ridge(alpha=1.0))
            else:
                x_train, x_test, slices, cats = _dense_design(columns, features, train, test)
                cls = (HistGradientBoostingClassifier if task == "classification"
                       else HistGradientBoostingRegressor)
                model = cls(categorical_features=np.array(cats, dtype=bool),
                            random_state=seed)
            model.fit(x_train, y[train])
            decision = None
            if sparse:
                decision = np.asarray(model.decision_function(x_test) if task ==
                                      "classification" else model.predict(x_test))
            scores = _scores(y[test], model.predict(x_test), task)
            fold_scores.append(scores)
            if task == "classification":
                majority = np.bincount(y[train]).argmax()
                baselines.append(_scores(y[test], np.full(test.size, majority), task))
            else:
                baselines.append(_scores(y[test], np.full(test.size, y[train].mean()), task))
            for name, cols in slices.items():
                order = rng.permutation(test.size)
                shuffled = _scores(y[test], _permuted_predict(model, x_test, cols, order,
                                                              decision), task)
                drops[name].append(scores[metric] - shuffled[metric])

    def mean(rows: list[dict[str, float]], key: str) -> float:
        return float(np.mean([r[key] for r in rows]))

    keys = list(fold_scores[0])
    importances = sorted(({"column": name, "importance": float(np.mean(d)) if d else 0.0}
                          for name, d in drops.items()), key=lambda r: -float(r["importance"]))  # type: ignore[arg-type]
    return {
        "model": ("linear model on TF-IDF / one-hot / scaled features" if sparse
                  else "histogram gradient boosting"),
        "task": task, "folds": n_folds, "rows": int(y.size), "metric": metric,
        "score": mean(fold_scores, metric), "baseline_score": mean(baselines, metric),
        "scores": {k: mean(fold_scores, k) for k in keys},
        "baseline_scores": {k: mean(baselines, k) for k in keys},
        "fold_scores": [r[metric] for r in fold_scores],
        "baseline": ("majority class" if task == "classification"
                     else "training mean"),
        "importances": importances,
        "importance_method": (f"permutation: mean drop in {metric} over the held-out folds "
                              "when the column's values are shuffled"),
        "seconds": time.perf_counter() - started,
    }
