"""Bench part: the data profile of the reviews table, mlyard against ydata-profiling.

Two tables with target ``sentiment``: the course's transformed table (22,626 rows, 3
columns) and the raw CSV with all its columns (23,486 rows, 10 columns plus ``sentiment``
derived from ``Rating``, so the leakage check has a leak to find). mlyard is timed in this
process (warm imports: one untimed warm-up run first), with and without the quick model;
ydata-profiling's minimal mode (``ProfileReport(df, minimal=True).to_html()``) is timed in
a subprocess of a side virtual environment (``bench/.venv-ydata``: ydata-profiling pins
older pandas/numpy, so it cannot share the project's), made on first use with
``python3 -m venv`` and ``pip install ydata-profiling``; without it the bench reports mlyard
alone. Both sides time the profile and the HTML only, not imports or CSV reading; median and
worst of ``repeats`` runs each.

Run alone: ``python bench/_analysis_profile.py [--quick]``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-ydata"

YDATA_SCRIPT = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import pandas as pd
from ydata_profiling import ProfileReport
path, repeats = sys.argv[1], int(sys.argv[2])
frame = pd.read_csv(path)
seconds = []
for _ in range(repeats):
    start = time.perf_counter()
    html = ProfileReport(frame, minimal=True, progress_bar=False, title="reviews").to_html()
    seconds.append(time.perf_counter() - start)
import ydata_profiling
print(json.dumps({"seconds": seconds, "html_bytes": len(html),
                  "version": ydata_profiling.__version__, "pandas": pd.__version__}))
"""

MLYARD_COMPUTES = ("types, missing/invalid/distinct counts, histograms, top values, text "
                   "statistics (words, characters, vocabulary, top tokens), duplicate rows, "
                   "Pearson/Spearman, Cramér's V, class balance, counts by category and "
                   "label, one-feature leakage (3-fold), HTML with inline SVG charts")
YDATA_COMPUTES = ("minimal mode: types, per-column statistics, histograms, value counts, "
                  "missing counts, duplicate rows, HTML; no correlations, interactions, "
                  "target, leakage or model")


def _ydata_python() -> tuple[Path | None, str]:
    python = VENV / "bin" / "python"
    if python.is_file():
        return python, "side venv present"
    try:
        subprocess.run(["python3", "-m", "venv", str(VENV)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "ydata-profiling"],
                       check=True, capture_output=True, timeout=1200)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not make the side venv {VENV}: {exc}"
    return (python, "side venv created") if python.is_file() else (None, "no venv python")


def _tables() -> dict[str, Any]:
    from mlyard.datasets.reviews import course_transform, load_raw, reviews_csv_path

    raw = load_raw(reviews_csv_path())
    full = raw.copy()
    full["sentiment"] = np.select([full["Rating"] <= 2, full["Rating"] == 3], [-1, 0], 1)
    return {"course": course_transform(raw), "raw": full.reset_index(drop=True)}


def _stats(seconds: list[float]) -> dict[str, Any]:
    return {"median_s": statistics.median(seconds), "worst_s": max(seconds),
            "runs_s": seconds}


def _mlyard(frame: Any, quick_model: bool, repeats: int) -> dict[str, Any]:
    from mlyard.analysis.base import AnalysisInputs
    from mlyard.analysis.profile import ProfileAnalyzer, ProfileConfig

    analyzer, config = ProfileAnalyzer(), ProfileConfig(target="sentiment",
                                                        quick_model=quick_model)
    inputs = AnalysisInputs(frames={"data": frame})
    seconds, result = [], {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            result = analyzer.run(config, inputs, Path(out))
            seconds.append(time.perf_counter() - start)
            steps = json.loads((Path(out) / "profile.json").read_text())["timings"]
    return {**_stats(seconds), "quick_model_score": result["quick_model_score"],
            "possible_leakage": result["possible_leakage"], "steps_last_run_s": steps}


def run(quick: bool = False) -> dict[str, Any]:
    """Seconds to profile each table: mlyard with and without the quick model, ydata
    minimal; ``quick``: one repeat instead of three."""
    from _common import machine, reviews_data_present

    from mlyard.datasets.reviews import reviews_csv_path

    if not reviews_data_present(reviews_csv_path()):
        return {"skipped": "reviews data not found", "machine": machine()}
    repeats = 1 if quick else 3
    tables = _tables()
    _mlyard(tables["course"].head(2000), True, 1)  # warm imports
    python, venv_note = _ydata_python()
    figures: dict[str, Any] = {"machine": machine(), "repeats": repeats,
                               "mlyard_computes": MLYARD_COMPUTES,
                               "ydata_computes": YDATA_COMPUTES, "ydata_env": venv_note,
                               "tables": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in tables.items():
            entry: dict[str, Any] = {"rows": len(frame), "columns": len(frame.columns),
                                     "mlyard": _mlyard(frame, True, repeats),
                                     "mlyard_no_quick_model": _mlyard(frame, False, repeats)}
            if python is not None:
                csv = Path(tmp) / f"{name}.csv"
                frame.to_csv(csv, index=False)
                done = subprocess.run([str(python), "-c", YDATA_SCRIPT, str(csv),
                                       str(repeats)], capture_output=True, text=True,
                                      timeout=1800)
                if done.returncode == 0:
                    peer = json.loads(done.stdout.strip().splitlines()[-1])
                    entry["ydata_minimal"] = {**_stats(peer.pop("seconds")), **peer}
                else:
                    entry["ydata_error"] = done.stderr.strip().splitlines()[-1:]
            figures["tables"][name] = entry
    return figures


def rows(figures: dict[str, Any]) -> list[list[str]]:
    """Table rows (measure, mlyard, peer, ratio, note) of :func:`run`'s figures."""
    if "skipped" in figures:
        return [["profile of the reviews table", "-", "-", "-", figures["skipped"]]]
    out = []
    for name, t in figures["tables"].items():
        peer = t.get("ydata_minimal")
        peer_s = peer["median_s"] if peer else None
        for key, label in (("mlyard", "with quick model"),
                           ("mlyard_no_quick_model", "without quick model")):
            m = t[key]
            out.append([
                f"profile {name} ({t['rows']:,} x {t['columns']}), {label}: s median/worst",
                f"{m['median_s']:.2f}/{m['worst_s']:.2f}",
                "-" if peer is None else f"{peer['median_s']:.2f}/{peer['worst_s']:.2f}",
                "-" if peer_s is None else f"{peer_s / m['median_s']:.2f}x",
                "peer: ydata-profiling minimal" + ("" if peer else
                                                   f" unavailable ({figures['ydata_env']})")])
    return out


if __name__ == "__main__":
    from mlyard.reports.tables import text_table

    result = run(quick="--quick" in sys.argv)
    print(text_table(["measure", "mlyard", "ydata", "ydata/mlyard", "note"], rows(result)))
    print(json.dumps(result))
