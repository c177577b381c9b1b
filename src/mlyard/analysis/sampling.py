"""Balancing and sampling: group-wise downsampling and stratified splits, both seeded.

:func:`balance` keeps the same number of rows of every group of one or more columns (the
smallest group's size unless ``n_per_group`` says otherwise), as the course does to build
its 486-row (category x sentiment, 9 per cell) and 7,110-row (2,370 per class) sets;
:func:`stratified_split` cuts a frame into parts of given fractions with every group's share
kept in each part (the flow ``split`` step uses it). :class:`BalanceAnalyzer` runs
:func:`balance` as the ``balance`` analysis. pandas' ``GroupBy.sample`` does the sampling;
sklearn's ``train_test_split`` only makes two parts and refuses groups of one row, so the
split is the few lines of :func:`split_positions` (numpy only: a flow exported as a script
carries its source).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.base import (
    AnalysisConfig,
    AnalysisInputs,
    Analyzer,
    Progress,
    no_progress,
)
from mlyard.analysis.data import file_format, write_frame
from mlyard.errors import ValidationError


def _check_by(frame: pd.DataFrame, by: Sequence[str], what: str) -> list[str]:
    columns = [by] if isinstance(by, str) else list(by)
    if not columns:
        raise ValidationError(f"{what}: name at least one column to group by")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(f"{what}: column(s) {missing} not in the data; it has "
                              f"{[str(c) for c in frame.columns]}")
    if frame.empty:
        raise ValidationError(f"{what}: the data has no rows")
    return columns


def _group_label(by: Sequence[str], key: Any) -> str:
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{column}={value}" for column, value in zip(by, values, strict=True))


def group_counts(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    """Rows per group of ``by`` (missing values form their own group), in sorted order."""
    return frame.groupby(list(by), sort=True, dropna=False).size()


def balance(frame: pd.DataFrame, by: Sequence[str], seed: int = 0,
            n_per_group: int | None = None) -> pd.DataFrame:
    """``n_per_group`` rows (default: the smallest group's size) drawn at random, seeded,
    from every group of the ``by`` columns; a group with fewer rows is a ValidationError
    naming it."""
    columns = _check_by(frame, by, "balance")
    counts = group_counts(frame, columns)
    if n_per_group is None:
        n = int(counts.min())
    else:
        if isinstance(n_per_group, bool) or not isinstance(n_per_group, (int, np.integer)) \
                or n_per_group <= 0:
            raise ValidationError(f"balance: n_per_group must be a positive integer, got "
                                  f"{n_per_group!r}")
        n = int(n_per_group)
        small = counts[counts < n]
        if len(small):
            names = "; ".join(f"{_group_label(columns, key)} ({count} rows)"
                              for key, count in small.head(5).items())
            raise ValidationError(f"balance: {len(small)} group(s) have fewer than {n} rows: "
                                  f"{names}")
    sampled = frame.groupby(columns, sort=True, dropna=False).sample(n=n, random_state=seed)
    return sampled.reset_index(drop=True)


def split_positions(keys: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Row positions of each part: within every group (equal ``keys``, in sorted order) the
    rows are shuffled and cut at the rounded cumulative fractions; each part is shuffled."""
    rng = np.random.default_rng(seed)
    bounds_share = np.cumsum(np.asarray(fractions, dtype="float64"))
    parts: list[list[int]] = [[] for _ in fractions]
    _, codes = np.unique(keys, return_inverse=True)
    for code in range(int(codes.max()) + 1 if len(codes) else 0):
        positions = np.flatnonzero(codes == code)
        rng.shuffle(positions)
        bounds = np.round(bounds_share * len(positions)).astype(int)
        start = 0
        for i, end in enumerate(bounds):
            parts[i].extend(positions[start:end].tolist())
            start = end
    out = []
    for part in parts:
        chosen = np.array(part, dtype=np.int64)
        rng.shuffle(chosen)
        out.append(chosen)
    return out


def group_keys(frame: pd.DataFrame, by: Sequence[str]) -> np.ndarray:
    """One integer per row naming its group of ``by`` (all zeros without ``by``)."""
    if not by:
        return np.zeros(len(frame), dtype=np.int64)
    codes = frame.groupby(list(by), sort=True, dropna=False).ngroup()
    return codes.to_numpy(dtype=np.int64)


def stratified_split(frame: pd.DataFrame, by: Sequence[str] | None,
                     fractions: Sequence[float], seed: int = 0) -> list[pd.DataFrame]:
    """``frame`` cut into parts of the given fractions (positive, summing to 1), each
    group of ``by`` shared out in those fractions (no ``by``: a plain seeded shuffle split)."""
    columns: list[str] = []
    if by:
        columns = _check_by(frame, by, "split")
    elif frame.empty:
        raise ValidationError("split: the data has no rows")
    shares = list(fractions)
    if len(shares) < 2 or any(not isinstance(f, (int, float)) or isinstance(f, bool)
                              or not f > 0 for f in shares) \
            or abs(sum(shares) - 1.0) > 1e-9:
        raise ValidationError(f"split: fractions must be two or more positive numbers summing "
                              f"to 1, got {shares}")
    positions = split_positions(group_keys(frame, columns), shares, seed)
    return [frame.iloc[p].reset_index(drop=True) for p in positions]


class BalanceConfig(AnalysisConfig):
    """What :class:`BalanceAnalyzer` balances and where it writes the result."""

    by: list[str]
    seed: int = 0
    n_per_group: int | None = None
    output_name: str = "balanced.csv"


class BalanceAnalyzer(Analyzer[BalanceConfig]):
    """Group-wise downsampling of the ``data`` input, written as ``output_name``."""

    name = "balance"
    config_type = BalanceConfig

    def check(self, config: BalanceConfig, inputs: AnalysisInputs) -> None:
        name = config.output_name
        if not name or Path(name).name != name:
            raise ValidationError(f"balance: output_name must be a file name, got {name!r}")
        file_format(Path(name))
        if config.n_per_group is not None and config.n_per_group <= 0:
            raise ValidationError(f"balance: n_per_group must be a positive integer, got "
                                  f"{config.n_per_group}")
        frame = inputs.frame("data")
        columns = _check_by(frame, config.by, "balance")
        if config.n_per_group is not None:
            counts = group_counts(frame, columns)
            small = counts[counts < config.n_per_group]
            if len(small):
                names = "; ".join(f"{_group_label(columns, key)} ({count} rows)"
                                  for key, count in small.head(5).items())
                raise ValidationError(f"balance: {len(small)} group(s) have fewer than "
                                      f"{config.n_per_group} rows: {names}")

    def run(self, config: BalanceConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        started = time.perf_counter()
        frame = inputs.frame("data")
        progress(f"balancing {len(frame)} rows by {', '.join(config.by)}")
        balanced = balance(frame, config.by, seed=config.seed, n_per_group=config.n_per_group)
        write_frame(balanced, out_dir / config.output_name)
        before = group_counts(frame, config.by)
        after = group_counts(balanced, config.by)
        groups = []
        for key, count in before.items():
            values = key if isinstance(key, tuple) else (key,)
            groups.append({
                "group": {c: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v)
                          for c, v in zip(config.by, values, strict=True)},
                "rows_in": int(count), "rows_out": int(after.get(key, 0))})
        summary: dict[str, Any] = {
            "output": config.output_name, "by": list(config.by), "seed": config.seed,
            "rows_in": len(frame), "rows_out": len(balanced),
            "n_per_group": int(after.iloc[0]) if len(after) else 0,
            "groups": groups, "seconds": round(time.perf_counter() - started, 4)}
        (out_dir / "balance_summary.json").write_text(json.dumps(summary, indent=2,
                                                                 default=str) + "\n")
        return {k: v for k, v in summary.items() if k != "groups"} | {"groups": len(groups)}
