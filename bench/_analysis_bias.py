"""Bench part: pre-training bias, all 8 metrics, one 20-value categorical facet, on 1M and
10M synthetic rows: mlyard against smclarify (Clarify's own code), a straightforward pandas
groupby implementation (written here) and fairlearn's MetricFrame for the metrics it shares
(selection rate -> DPL, group count -> CI). Prints rows/s, ratios, the median and worst of 3
repeats (a peer run longer than 30 s is run once), and the largest difference between the
implementations' values.

Run alone: ``python bench/_analysis_bias.py [--quick]``; ``bench/analysis.py`` imports
:func:`run` and :func:`rows`.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mlyard.analysis.bias import BiasAnalysisConfig, FacetConfig, pre_training_bias

SEED = 11
N_VALUES = 20
N_GROUPS = 5
REPEATS = 3
PRE_METRICS = ["CDDL", "CI", "DPL", "JS", "KL", "KS", "LP", "TVD"]
#: smclarify at 1M rows takes minutes (one run); at 10M it would take over half an hour.
SMCLARIFY_ROWS = 1_000_000
SMCLARIFY_ROWS_QUICK = 100_000


def synthetic(n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` rows: a 20-value Categorical facet with skewed sizes, a 0/1 label whose positive
    rate depends on the facet, and a 5-value Categorical group column (for CDDL)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, N_VALUES + 1)
    facet = rng.choice(N_VALUES, size=n, p=weights / weights.sum())
    rate = np.linspace(0.25, 0.75, N_VALUES)[facet]
    label = (rng.random(n) < rate).astype(np.int8)
    group = rng.integers(0, N_GROUPS, size=n)
    return pd.DataFrame({
        "facet": pd.Categorical.from_codes(facet, [f"value_{i:02d}" for i in range(N_VALUES)]),
        "label": label,
        "group": pd.Categorical.from_codes(group, [f"g{i}" for i in range(N_GROUPS)]),
    })


CONFIG = BiasAnalysisConfig(label="label", label_values_or_threshold=[1],
                            facets=[FacetConfig(name="facet")], group_name="group",
                            pre_training_methods="all")

Values = dict[str, dict[str, float]]   # facet value -> metric -> value


def mlyard_values(frame: pd.DataFrame) -> Values:
    """mlyard's metrics per facet value."""
    section = pre_training_bias(frame, CONFIG)
    return {g["value_or_threshold"]: {m["name"]: m["value"] for m in g["metrics"]}
            for g in section["facets"]["facet"]}


def pandas_values(frame: pd.DataFrame) -> Values:
    """The straightforward pandas implementation: for each facet value, the group/rest
    label distributions and the per-subgroup disparities by groupby."""
    positive = frame["label"] == 1
    out: Values = {}
    for value in frame["facet"].unique():
        sensitive = frame["facet"] == value
        work = pd.DataFrame({"d": sensitive, "pos": positive, "g": frame["group"]})
        sizes = work.groupby("d").size()
        na, nd = int(sizes.get(False, 0)), int(sizes.get(True, 0))
        rates = work.groupby("d")["pos"].mean()
        dist = work.groupby("d")["pos"].value_counts(normalize=True).unstack(fill_value=0.0)
        pa = dist.loc[False].to_numpy()
        pd_ = dist.loc[True].to_numpy()
        both = (pa > 0) & (pd_ > 0)
        pa, pd_ = pa[both], pd_[both]
        mid = (pa + pd_) / 2
        by_group = work.groupby(["g", "pos"], observed=True)["d"].agg(["sum", "size"])
        shares = (by_group["sum"] / by_group["size"]).unstack(fill_value=0.0)
        counts = work.groupby("g", observed=True).size()
        disparity = shares.get(False, 0.0) - shares.get(True, 0.0)
        out[str(value)] = {
            "CI": (na - nd) / (na + nd),
            "DPL": float(rates[False] - rates[True]),
            "KL": float(np.sum(pa * np.log(pa / pd_))),
            "JS": float(0.5 * (np.sum(pa * np.log(pa / mid)) + np.sum(pd_ * np.log(pd_ / mid)))),
            "LP": float(np.linalg.norm(pa - pd_, 2)),
            "TVD": float(0.5 * np.abs(pa - pd_).sum()),
            "KS": float(np.abs(pa - pd_).max()),
            "CDDL": float((counts * disparity).sum() / counts.sum()),
        }
    return out


def fairlearn_values(frame: pd.DataFrame) -> Values:
    """DPL and CI from fairlearn's MetricFrame (selection rate and count per value)."""
    from fairlearn.metrics import MetricFrame, count, selection_rate

    y = frame["label"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mf = MetricFrame(metrics={"rate": selection_rate, "n": count}, y_true=y, y_pred=y,
                         sensitive_features=frame["facet"])
        by = mf.by_group
    n = len(frame)
    positives = float((by["rate"] * by["n"]).sum())
    out: Values = {}
    for value, row in by.iterrows():
        nd = float(row["n"])
        if nd == 0:
            continue
        rest_rate = (positives - row["rate"] * nd) / (n - nd)
        out[str(value)] = {"CI": (n - 2 * nd) / n, "DPL": rest_rate - float(row["rate"])}
    return out


def smclarify_values(frame: pd.DataFrame) -> Values:
    """smclarify's report (categorical columns cast to object, as it needs)."""
    from smclarify.bias import report

    data = frame.astype({"facet": object, "group": object})
    logger = logging.getLogger("smclarify")
    logger.setLevel(logging.CRITICAL + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = report.bias_report(
            data, report.FacetColumn("facet"),
            report.LabelColumn("label", data["label"], [1]), report.StageType.PRE_TRAINING,
            metrics=["all"], group_variable=data["group"])
    return {g["value_or_threshold"]: {m["name"]: m["value"] for m in g["metrics"]}
            for g in result}


def max_diff(ours: Values, theirs: Values) -> float:
    """The largest |difference| over the values and metrics both have (NaN if a value or a
    metric is missing on one side)."""
    worst = 0.0
    if set(ours) != set(theirs):
        return math.nan
    for value, metrics in theirs.items():
        for name, v in metrics.items():
            o = ours[value].get(name)
            if o is None or v is None:
                return math.nan
            worst = max(worst, abs(float(o) - float(v)))
    return worst


#: A peer whose run takes longer than this is not repeated (noise is small against it).
LONG_RUN_S = 30.0


def timed(fn: Callable[[pd.DataFrame], Values], frame: pd.DataFrame,
          repeats: int) -> tuple[Values, list[float]]:
    """``fn(frame)`` timed ``repeats`` times (once only if a run takes over LONG_RUN_S)."""
    times: list[float] = []
    result: Values = {}
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn(frame)
        times.append(time.perf_counter() - start)
        if times[-1] > LONG_RUN_S:
            break
    return result, times


def _stats(times: list[float], n: int) -> dict[str, Any]:
    med = statistics.median(times)
    return {"median_s": round(med, 4), "worst_s": round(max(times), 4),
            "repeats": len(times), "rows_per_s": round(n / med)}


def run(quick: bool = False) -> dict[str, Any]:
    """Measure every implementation; the figures as a JSON-ready dict."""
    sizes = [200_000, 1_000_000] if quick else [1_000_000, 10_000_000]
    figures: dict[str, Any] = {"metrics": PRE_METRICS, "facet_values": N_VALUES,
                               "groups": N_GROUPS, "seed": SEED, "sizes": {}}
    for n in sizes:
        frame = synthetic(n)
        mlyard_values(frame.head(1000))    # imports and first-call costs out of the timing
        ours, t_ours = timed(mlyard_values, frame, REPEATS)
        ref, t_ref = timed(pandas_values, frame, REPEATS)
        fl, t_fl = timed(fairlearn_values, frame, REPEATS)
        entry: dict[str, Any] = {
            "mlyard": _stats(t_ours, n),
            "pandas": _stats(t_ref, n),
            "fairlearn": _stats(t_fl, n),
            "vs_pandas_x": round(statistics.median(t_ref) / statistics.median(t_ours), 1),
            "vs_fairlearn_x": round(statistics.median(t_fl) / statistics.median(t_ours), 1),
            "max_abs_diff_pandas": max_diff(ours, ref),
            "max_abs_diff_fairlearn": max_diff(ours, fl),
        }
        figures["sizes"][str(n)] = entry
    sm_rows = SMCLARIFY_ROWS_QUICK if quick else SMCLARIFY_ROWS
    frame = synthetic(sm_rows)
    theirs, t_sm = timed(smclarify_values, frame, 1)
    ours, t_ours = timed(mlyard_values, frame, REPEATS)
    figures["smclarify"] = {
        "rows": sm_rows, **_stats(t_sm, sm_rows), "mlyard": _stats(t_ours, sm_rows),
        "vs_smclarify_x": round(t_sm[0] / statistics.median(t_ours), 1),
        "max_abs_diff": max_diff(ours, theirs),
        "note": (f"one run; 10M not run: smclarify scans the rows for every metric of "
                 f"every value, so 10M would take about {10_000_000 / sm_rows * t_sm[0] / 60:.0f}"
                 " min here (linear in rows), far over the 2 minutes allowed"),
    }
    return figures


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def rows(figures: dict[str, Any]) -> list[list[str]]:
    """Table rows: measure, mlyard, peer, ratio, note."""
    out: list[list[str]] = []
    for n, e in figures["sizes"].items():
        label = f"bias pre-training 8 metrics, 20 values, {int(n):,} rows"
        m = e["mlyard"]
        out.append([f"{label}: rows/s vs pandas groupby", _fmt(m["rows_per_s"]),
                    _fmt(e["pandas"]["rows_per_s"]), f"{e['vs_pandas_x']}x",
                    f"median of {m['repeats']} (worst {m['worst_s']} s vs "
                    f"{e['pandas']['worst_s']} s); max |diff| {e['max_abs_diff_pandas']:.1e}"])
        out.append([f"{label}: rows/s vs fairlearn MetricFrame (DPL, CI)",
                    _fmt(m["rows_per_s"]), _fmt(e["fairlearn"]["rows_per_s"]),
                    f"{e['vs_fairlearn_x']}x",
                    f"fairlearn computes 2 of the 8 ({e['fairlearn']['repeats']} run(s)); "
                    f"max |diff| {e['max_abs_diff_fairlearn']:.1e}"])
    s = figures["smclarify"]
    out.append([f"bias pre-training 8 metrics, 20 values, {s['rows']:,} rows: rows/s vs "
                "smclarify", _fmt(s["mlyard"]["rows_per_s"]), _fmt(s["rows_per_s"]),
                f"{s['vs_smclarify_x']}x",
                f"max |diff| {s['max_abs_diff']:.1e}; smclarify {s['median_s']} s, "
                f"{s['note']}"])
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from _common import machine

    figs = run(quick="--quick" in sys.argv)
    for row in rows(figs):
        print(" | ".join(row))
    print(json.dumps({"bench": "analysis_bias", "machine": machine(), **figs}))
