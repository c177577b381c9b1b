"""A small real analyzer for the tests of the analysis job kind, CLI, SDK and routes (the
real analyzers live in their own modules): counts the rows of each input, per value of one
column if asked, and writes ``counts.json`` and ``report.html``.

The integration tests copy this file into a throwaway distribution whose
``mlyard.analyzers`` entry point names it, so job processes find it as a package's analyzer.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from mlyard.analysis.base import AnalysisConfig, AnalysisInputs, Analyzer, Progress, no_progress
from mlyard.errors import DataError, ValidationError


class RowCountConfig(AnalysisConfig):
    inputs: list[str] = Field(default_factory=lambda: ["data"])
    column: str | None = None
    use_model: bool = False
    fail_after_writing: bool = False
    single_file: str | None = None


class RowCountAnalyzer(Analyzer[RowCountConfig]):
    name = "rowcount"
    config_type = RowCountConfig

    def input_names_for(self, config: RowCountConfig) -> tuple[str, ...]:
        return tuple(config.inputs)

    def needs_model(self, config: RowCountConfig) -> bool:
        return config.use_model

    def check(self, config: RowCountConfig, inputs: AnalysisInputs) -> None:
        for name in config.inputs:
            frame = inputs.frame(name)
            if config.column is not None and config.column not in frame.columns:
                raise ValidationError(f"rowcount: column {config.column!r} not in input "
                                      f"{name!r}")
        if config.use_model:
            inputs.require_model("rowcount with use_model")

    def run(self, config: RowCountConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        counts: dict[str, Any] = {}
        for name in config.inputs:
            frame = inputs.frame(name)
            progress(f"counting {name}")
            entry: dict[str, Any] = {"rows": len(frame)}
            if config.column is not None:
                entry["by"] = {str(k): int(v) for k, v in
                               frame[config.column].value_counts(sort=False).items()}
            counts[name] = entry
        if config.use_model:
            model = inputs.require_model("rowcount")
            first = inputs.frame(config.inputs[0])
            counts["predicted"] = [p["label"] for p in model.predict(
                first.iloc[:, 0].astype(str).tolist())][:3]
        if config.single_file is not None:
            frame = inputs.frame(config.inputs[0])
            frame.to_csv(out_dir / config.single_file, index=False)
            return {"rows": len(frame)}
        (out_dir / "counts.json").write_text(json.dumps(counts))
        if config.fail_after_writing:
            raise DataError("rowcount: asked to fail after writing counts.json")
        first_cell = html.escape(str(inputs.frame(config.inputs[0]).iloc[0, 0]))
        (out_dir / "report.html").write_text(
            f"<html><body><h1>rows</h1><p>{first_cell}</p></body></html>")
        return {"inputs": len(counts), "rows": sum(c["rows"] for c in counts.values()
                                                   if isinstance(c, dict))}


class EchoConfig(AnalysisConfig):
    """Any fields: what a surface (CLI, SDK) put in the job's configuration."""

    model_config = ConfigDict(extra="allow")


class ConfigEchoAnalyzer(Analyzer[EchoConfig]):
    """Writes its configuration to ``analysis.json``: stands in for the bias and explain
    analyzers where a test checks what the SDK or CLI asked for."""

    name = "config-echo"
    config_type = EchoConfig

    def needs_model(self, config: EchoConfig) -> bool:
        return bool((config.model_extra or {}).get("needs_model"))

    def check(self, config: EchoConfig, inputs: AnalysisInputs) -> None:
        inputs.frame()

    def run(self, config: EchoConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        (out_dir / "analysis.json").write_text(json.dumps(config.model_dump()))
        return {"fields": len(config.model_dump()), "model": inputs.model_name}
