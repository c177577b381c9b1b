"""Bench: mlyard's data analysis against its peers, side by side in one run.

Three parts (each a module ``bench/_analysis_<part>.py`` with ``run(quick) -> figures`` and
``rows(figures) -> table rows``, runnable alone):

- ``bias``: pre-training bias, all 8 metrics, one categorical facet with 20 values, 1M and
  10M synthetic rows: mlyard vs ``smclarify`` (the library SageMaker Clarify runs) vs a
  straightforward pandas groupby implementation vs Fairlearn's ``MetricFrame`` for the
  metrics it shares. Targets (issue 11): >= 10x the pandas reference and >= 10M rows/s.
- ``shap``: SHAP text explanations of a BlazingText model for 1,000 course reviews:
  records/s against ``shap``'s default explainer called naively on the same model, and the
  agreement of the top-3 tokens between the two.
- ``profile``: profile of the reviews table: seconds, against ydata-profiling's minimal mode
  (run in a side virtual environment: it needs older pandas/numpy than mlyard's).

Usage: ``python bench/analysis.py [--parts bias,shap,profile] [--quick] [--save]``; the last
line is one line of JSON (``--save`` also writes ``bench/results/analysis.json``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from _common import machine

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "analysis.json"
PARTS = ("bias", "shap", "profile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="Comma-separated parts to run (default: all).")
    parser.add_argument("--quick", action="store_true",
                        help="Smaller sizes, one repeat: a smoke run, not figures to quote.")
    parser.add_argument("--save", action="store_true", help=f"Write {RESULTS}.")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {unknown}; known: {list(PARTS)}")
    result: dict[str, Any] = {"bench": "analysis", "machine": machine(), "quick": args.quick,
                              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    table: list[list[str]] = []
    for part in parts:
        module = importlib.import_module(f"_analysis_{part}")
        print(f"== {part}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        figures = module.run(quick=args.quick)
        figures["bench_seconds"] = round(time.perf_counter() - start, 1)
        result[part] = figures
        table.extend([part, *row] for row in module.rows(figures))
    head = ["part", "measure", "mlyard", "peer", "ratio", "note"]
    widths = [max(len(str(r[i])) for r in [head, *table]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *table]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    line = json.dumps(result, default=float)
    if args.save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
