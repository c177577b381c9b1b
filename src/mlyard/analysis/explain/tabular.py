"""Kernel SHAP explanations of any model over tabular features.

shap's :class:`~shap.KernelExplainer` does the estimation; the model is called through
:class:`~mlyard.analysis.explain.model_fn.TabularFunction` (distinct rows only, at most
``batch_size`` a call; each chunk's records predicted in one call ahead, as Kernel SHAP asks
for each record by itself). The baseline is Clarify's: the rows given, or else a summary of the
data: shap's k-means summary (weighted cluster centres rounded to observed values) when every
feature is numeric, one row of per-column medians (numeric) and modes (other types)
otherwise.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.explain.common import aggregate, sample_records, seeded
from mlyard.analysis.explain.config import ExplainAnalysisConfig
from mlyard.analysis.explain.model_fn import TabularFunction
from mlyard.errors import ValidationError

if TYPE_CHECKING:
    from mlyard.models.base import LoadedModel

#: Cluster centres of the default k-means baseline.
KMEANS_CLUSTERS = 10


def feature_columns(frame: pd.DataFrame, config: ExplainAnalysisConfig) -> list[str]:
    """The features explained: ``config.features``, or every column but the label."""
    if config.features is not None:
        return [str(c) for c in config.features]
    return [str(c) for c in frame.columns if c != config.label]


def non_numeric(frame: pd.DataFrame, features: list[str]) -> list[str]:
    """The features of ``frame`` that are not numeric (booleans count as numeric)."""
    return [f for f in features if not (pd.api.types.is_numeric_dtype(frame[f])
                                        or pd.api.types.is_bool_dtype(frame[f]))]


def feature_matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The features as a 2-D array: float64 if all are numeric, else objects."""
    sub = frame[features]
    if not non_numeric(frame, features):
        return sub.to_numpy(dtype=np.float64, na_value=np.nan)
    return sub.astype(object).to_numpy(dtype=object)


def default_baseline(frame: pd.DataFrame, features: list[str], seed: int) -> Any:
    """The baseline used when none is given (see the module doc)."""
    X = feature_matrix(frame, features)
    if X.dtype != object:
        distinct = len(np.unique(X[~np.isnan(X).any(axis=1)], axis=0)) if len(X) else 0
        k = min(KMEANS_CLUSTERS, max(1, distinct))
        if k >= 2 and len(X) > k:
            from mlyard.analysis.explain._shap import import_shap

            shap = import_shap()
            from sklearn.exceptions import ConvergenceWarning

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                with seeded(seed):
                    return shap.kmeans(X, k)
        return np.nanmedian(X, axis=0, keepdims=True) if len(X) else X[:1]
    row: list[Any] = []
    for f in features:
        col = frame[f]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            row.append(float(col.median()))
        else:
            mode = col.mode(dropna=True)
            row.append(mode.iloc[0] if len(mode) else None)
    return np.array([row], dtype=object)


@dataclass
class TabularExplanation:
    """Kernel SHAP values ``(records, features, outputs)`` of ``features`` for the records
    at ``index``, the expected value per output and the model's output per record (both in
    the explained space: probabilities, or log-odds with ``use_logit``)."""

    features: list[str]
    outputs: list[str]
    values: np.ndarray
    expected_value: np.ndarray
    predictions: np.ndarray
    index: list[Any]
    agg_method: str = "mean_abs"
    num_samples: int | str = "auto"
    seconds: float = 0.0
    model_calls: int = 0
    model_rows: int = 0
    inputs_requested: int = 0

    def global_values(self, output: int) -> dict[str, float]:
        """Each feature's aggregate SHAP value for ``output``, largest first."""
        agg = {f: aggregate(self.values[:, j, output], self.agg_method)
               for j, f in enumerate(self.features)}
        return dict(sorted(agg.items(), key=lambda kv: -kv[1]))


def explain_tabular(frame: pd.DataFrame, model: LoadedModel,
                    config: ExplainAnalysisConfig, *, name: str = "model",
                    progress: Progress = no_progress, chunk: int = 50) -> TabularExplanation:
    """Kernel SHAP over ``config``'s features for ``frame``'s records (at most
    ``max_records``, a seeded sample), ``num_samples`` model evaluations per record
    (default shap's ``2 * features + 2048``)."""
    from mlyard.analysis.explain._shap import import_shap

    shap = import_shap()

    features = feature_columns(frame, config)
    rows = sample_records(frame, config.max_records, config.seed)
    if config.baseline is not None:
        bad = [i for i, r in enumerate(config.baseline) if len(r) != len(features)]
        if bad or not config.baseline:
            raise ValidationError(f"baseline rows must have one value per feature "
                                  f"({len(features)}: {features}); row(s) {bad} do not")
        numeric = not non_numeric(frame, features)
        background: Any = np.array(config.baseline, dtype=np.float64 if numeric else object)
    else:
        background = default_baseline(frame, features, config.seed)
    fn = TabularFunction(model, name, batch_size=config.batch_size, use_logit=config.use_logit)
    X = feature_matrix(rows, features)
    link = "logit" if config.use_logit else "identity"
    started = time.perf_counter()
    nsamples: int | str = config.num_samples if config.num_samples is not None else "auto"
    parts: list[np.ndarray] = []
    raw_parts: list[np.ndarray] = []
    with seeded(config.seed), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        explainer = shap.KernelExplainer(fn, background, link=link, feature_names=features)
        for lo in range(0, len(X), chunk):
            rows_x = X[lo:lo + chunk]
            # Kernel SHAP predicts each record by itself first: predict the chunk in one call
            fn.prefetch([tuple(r) for r in rows_x.tolist()])
            raw_parts.append(fn(rows_x))
            part = explainer.shap_values(rows_x, nsamples=nsamples, l1_reg=False, silent=True)
            parts.append(_as_3d(part, len(rows_x), len(features)))
            fn.clear_cache()
            progress(f"explained {min(lo + chunk, len(X))}/{len(X)} records")
    values = np.concatenate(parts, axis=0) if parts else np.zeros((0, len(features),
                                                                     len(fn.outputs)))
    raw = np.concatenate(raw_parts) if raw_parts else np.zeros((0, len(fn.outputs)))
    predictions = _logit(raw) if config.use_logit else raw
    expected = np.asarray(explainer.expected_value, dtype=np.float64).reshape(-1)
    return TabularExplanation(
        features=features, outputs=fn.outputs, values=values, expected_value=expected,
        predictions=predictions, index=list(rows.index), agg_method=config.agg_method,
        num_samples=nsamples, seconds=time.perf_counter() - started, model_calls=fn.calls,
        model_rows=fn.rows, inputs_requested=fn.requested)


def _logit(p: np.ndarray) -> np.ndarray:
    return np.asarray(np.log(p / (1.0 - p)))


def _as_3d(values: Any, n: int, m: int) -> np.ndarray:
    """shap's output (an array ``(n, m[, outputs])`` or a list of ``(n, m)`` per output) as
    ``(n, m, outputs)``."""
    if isinstance(values, list):
        return np.stack([np.asarray(v, dtype=np.float64) for v in values], axis=-1)
    arr = np.asarray(values, dtype=np.float64)
    return arr.reshape(n, m, -1)
