"""``profile_frame``: the data profile of a DataFrame as one JSON-ready dict.

Steps (each reported through the progress callback): seeded sampling of large inputs,
column type inference and per-column statistics, duplicate rows, target balance and counts
by category and label, correlations (Pearson and Spearman between number columns, Cramér's
V of categorical columns with a class target), target leakage and the quick model. Every
number is computed on the sample; the summary states the sample and the total rows.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import Progress, no_progress
from mlyard.analysis.profile import target as tgt
from mlyard.analysis.profile.columns import profile_column
from mlyard.analysis.profile.config import ProfileConfig
from mlyard.analysis.profile.quick_model import quick_model
from mlyard.analysis.profile.types import Inferred, infer
from mlyard.errors import ValidationError

#: Correlation matrices cover at most this many number columns.
MAX_CORRELATION_COLUMNS = 50
#: Leakage and the quick model are skipped for a class target with more classes.
MAX_CLASSES = 100
#: Warn when at least this share of the rows are duplicates.
DUPLICATE_WARN = 0.01


def validate(frame: pd.DataFrame, config: ProfileConfig) -> None:
    """The checks :class:`ProfileAnalyzer` runs before a job: a ValidationError naming the
    field, column or value at fault."""
    if config.sample_size is not None and config.sample_size < 1:
        raise ValidationError(f"sample_size must be at least 1 (or None for all rows), "
                              f"got {config.sample_size}")
    if config.cv_folds < 2:
        raise ValidationError(f"cv_folds must be at least 2, got {config.cv_folds}")
    if config.top_k < 1:
        raise ValidationError(f"top_k must be at least 1, got {config.top_k}")
    if len(frame.columns) == 0 or len(frame) == 0:
        raise ValidationError("the data is empty: it has no rows" if len(frame.columns)
                              else "the data is empty: it has no columns")
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise ValidationError(f"the data has duplicate column names {dupes}")
    if config.target is not None:
        if config.target not in columns:
            raise ValidationError(f"target column {config.target!r} is not in the data; "
                                  f"it has {columns}")
        series = frame[config.target]
        if series.notna().sum() == 0:
            raise ValidationError(f"target column {config.target!r} has no values")
        inferred = infer(series)
        kind = inferred.kind
        if tgt.task_of(inferred) is None:
            raise ValidationError(f"target column {config.target!r} looks like {kind}; a "
                                  "target must hold class labels or numbers")
    for name in config.text_columns or []:
        if name not in columns:
            raise ValidationError(f"text column {name!r} is not in the data; it has "
                                  f"{columns}")


def sample(frame: pd.DataFrame, size: int | None, seed: int) -> pd.DataFrame:
    """At most ``size`` rows of ``frame``, drawn without replacement with ``seed`` (all
    rows, in order, when it has no more)."""
    if size is None or len(frame) <= size:
        return frame
    return frame.sample(n=size, random_state=seed).sort_index()


def duplicate_rows(frame: pd.DataFrame) -> int:
    """How many rows repeat an earlier row (all columns equal)."""
    try:
        hashes = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:  # unhashable cells (lists, dicts): compare their string forms
        hashes = pd.util.hash_pandas_object(frame.astype(str), index=False)
    return int(hashes.duplicated().sum())


def correlations(numbers: dict[str, pd.Series]) -> dict[str, Any]:
    """Pearson and Spearman matrices of the number columns (constant columns: null)."""
    names = list(numbers)[:MAX_CORRELATION_COLUMNS]
    if len(names) < 2:
        return {"columns": names, "pearson": [], "spearman": []}
    table = pd.DataFrame({n: numbers[n].replace([np.inf, -np.inf], np.nan) for n in names})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a constant column's zero variance
        pearson = table.corr(method="pearson")
        spearman = table.corr(method="spearman")
    return {"columns": names, "pearson": pearson.to_numpy().tolist(),
            "spearman": spearman.to_numpy().tolist()}


def profile_frame(frame: pd.DataFrame, config: ProfileConfig | None = None,
                  progress: Progress = no_progress) -> dict[str, Any]:
    """The data profile of ``frame`` (see the module doc) as a JSON-ready dict."""
    config = config or ProfileConfig()
    validate(frame, config)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = now - since
        return now

    total = len(frame)
    data = sample(frame, config.sample_size, config.seed)
    data = data.set_axis([str(c) for c in data.columns], axis=1).reset_index(drop=True)
    if len(data) < total:
        progress(f"profiling a sample of {len(data):,} of {total:,} rows")
    clock = time.perf_counter()

    names = list(data.columns)
    text_set = set(config.text_columns) if config.text_columns is not None else None
    inferred: dict[str, Inferred] = {}
    profiles: list[dict[str, Any]] = []
    for i, name in enumerate(names, 1):
        progress(f"profiling column {i}/{len(names)} {name}")
        text = None if text_set is None else name in text_set
        inferred[name] = infer(data[name], text=text)
        profiles.append(profile_column(name, data[name], inferred[name], config.top_k))
    clock = lap("columns", clock)

    progress("counting duplicate rows")
    dupes = duplicate_rows(data)
    warnings_: list[str] = []
    if dupes / len(data) >= DUPLICATE_WARN:
        warnings_.append(f"{dupes:,} duplicate rows ({dupes / len(data):.1%})")
    for p in profiles:
        warnings_.extend(f"{p['name']}: {w}" for w in p["warnings"])
    clock = lap("duplicates", clock)

    numbers = {n: inf.values for n, inf in inferred.items()
               if inf.is_number or (inf.kind == "boolean" and
                                    pd.api.types.is_numeric_dtype(inf.values.dtype))}
    summary: dict[str, Any] = {
        "title": config.title or "Data profile",
        "rows": total, "sampled_rows": len(data),
        "sample": {"size": len(data), "total_rows": total, "sampled": len(data) < total,
                   "seed": config.seed, "sample_size": config.sample_size},
        "columns": len(names),
        "kinds": {n: inf.kind for n, inf in inferred.items()},
        "duplicate_rows": dupes, "duplicate_share": dupes / len(data),
        "warnings": warnings_, "column_profiles": profiles,
        "correlations": {},
        "target": None, "leakage": None, "quick_model": None, "notes": [],
    }
    progress("correlations")
    summary["correlations"] = correlations(numbers)
    clock = lap("correlations", clock)

    if config.target is not None:
        clock = _target_sections(summary, data, inferred, config, progress, clock, lap)
    timings["total"] = time.perf_counter() - started
    summary["timings"] = timings
    summary["seconds"] = timings["total"]
    return summary


def _target_sections(summary: dict[str, Any], data: pd.DataFrame,
                     inferred: dict[str, Inferred], config: ProfileConfig,
                     progress: Progress, clock: float, lap: Any) -> float:
    name = str(config.target)
    inf = inferred[name]
    task = tgt.task_of(inf)
    if task is None:  # validate() refused this on the whole frame; a sample can differ
        summary["notes"].append(f"target {name!r} is {inf.kind} in the sample: skipped")
        return float(clock)
    raw = data[name]
    mask = raw.notna().to_numpy().copy()
    if task == "regression":
        mask &= np.isfinite(inf.values.to_numpy(dtype=np.float64))
    section: dict[str, Any] = {"name": name, "task": task, "kind": inf.kind,
                               "missing": int((~mask).sum())}
    features = {n: v for n, v in inferred.items() if n != name}
    if task == "classification":
        labels = tgt.label_strings(raw)
        section.update(tgt.balance(labels, raw))
        small = {n: v for n, v in features.items() if v.kind in ("categorical", "boolean")}
        section["by_category"] = {
            n: tgt.by_category(data[n], labels) for n, v in small.items()
            if data[n].nunique() <= tgt.MAX_CROSSTAB_VALUES}
        cramer = {}
        for n in small:
            if data[n].nunique() <= tgt.MAX_CRAMER_VALUES:
                cramer[n] = tgt.cramers_v(data[n], labels)
        summary["correlations"]["cramers_v"] = cramer
        codes, classes = pd.factorize(labels[mask], sort=True)
        y = codes.astype(np.int64)
        section["encoding"] = [str(c) for c in classes]
    else:
        y = inf.values.to_numpy(dtype=np.float64)[mask]
        section["statistics"] = next(p for p in summary["column_profiles"]
                                     if p["name"] == name).get("numeric", {})
    summary["target"] = section
    clock = lap("target", clock)

    reason = None
    if not features:
        reason = "no feature columns besides the target"
    elif task == "classification" and len(np.unique(y)) < 2:
        reason = "the target has a single class"
    elif task == "classification" and len(np.unique(y)) > MAX_CLASSES:
        reason = f"the target has more than {MAX_CLASSES} classes"
    elif y.size < 2 * config.cv_folds:
        reason = f"fewer than {2 * config.cv_folds} labelled rows for {config.cv_folds} folds"
    if reason is not None:
        summary["notes"].append(f"target leakage and quick model skipped: {reason}")
        return float(clock)
    summary["leakage"] = {
        "metric": "roc_auc" if task == "classification" else "r2",
        "threshold": config.leakage_threshold,
        "features": tgt.leakage(features, mask, y, task, config.cv_folds, config.seed,
                                config.leakage_threshold, progress)}
    for row in summary["leakage"]["features"]:
        if row["possible_leakage"]:
            summary["warnings"].append(
                f"{row['column']}: possible target leakage ({row['metric']} "
                f"{row['score']:.3f} on its own)")
    clock = lap("leakage", clock)
    if config.quick_model:
        summary["quick_model"] = quick_model(features, mask, y, task, config.cv_folds,
                                             config.seed, progress)
        clock = lap("quick_model", clock)
    return float(clock)
