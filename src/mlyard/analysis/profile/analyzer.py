"""``ProfileAnalyzer``: the ``profile`` analysis (writes ``report.html`` and
``profile.json``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from mlyard.analysis.base import AnalysisConfig, AnalysisInputs, Analyzer, Progress, no_progress
from mlyard.analysis.profile.config import ProfileConfig
from mlyard.analysis.profile.report import render
from mlyard.analysis.profile.summary import profile_frame, validate
from mlyard.reports.tables import jsonable, write_json


class ProfileAnalyzer(Analyzer[ProfileConfig]):
    """The data profile of the ``data`` input."""

    name: ClassVar[str] = "profile"
    config_type: ClassVar[type[AnalysisConfig]] = ProfileConfig

    def check(self, config: ProfileConfig, inputs: AnalysisInputs) -> None:
        validate(inputs.frame("data"), config)

    def run(self, config: ProfileConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        started = time.perf_counter()
        summary = jsonable(profile_frame(inputs.frame("data"), config, progress))
        progress("writing report.html")
        html = render(summary)
        write_json(out_dir / "profile.json", summary)
        (out_dir / "report.html").write_text(html, encoding="utf-8")
        quick = summary.get("quick_model")
        leak = summary.get("leakage") or {"features": []}
        return {
            "rows": summary["rows"], "sampled_rows": summary["sampled_rows"],
            "columns": summary["columns"], "seconds": round(time.perf_counter() - started, 3),
            "quick_model_score": None if quick is None else quick["score"],
            "quick_model_metric": None if quick is None else quick["metric"],
            "possible_leakage": [r["column"] for r in leak["features"]
                                 if r["possible_leakage"]],
            "warnings": len(summary["warnings"]),
            "files": ["report.html", "profile.json"],
        }
