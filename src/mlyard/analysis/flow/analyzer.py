"""The ``flow`` analysis: a data-preparation flow run as an analyzer (and so as a job).

The configuration carries the flow's text (a job stores it with its spec, so a re-run does
not depend on the file still being there); the inputs are the names the flow declares.
:meth:`FlowAnalyzer.run` writes ``<output>.<format>`` per output of the flow and
``flow_summary.json`` (rows and columns per output, rows in/out and seconds per step).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from mlyard.analysis.base import AnalysisConfig, AnalysisInputs, Analyzer, Progress, no_progress
from mlyard.analysis.data import write_frame
from mlyard.analysis.flow.document import FlowDocument, parse_flow
from mlyard.analysis.flow.recipes import for_text_file
from mlyard.analysis.flow.run import execute


class FlowConfig(AnalysisConfig):
    """A flow to run: its text (YAML or JSON), the name errors give it, the output format."""

    flow: str
    source_name: str = "<flow>"
    output_format: Literal["csv", "parquet", "jsonl"] = "csv"


class FlowAnalyzer(Analyzer[FlowConfig]):
    """Runs a data-preparation flow (:mod:`mlyard.analysis.flow`)."""

    name = "flow"
    config_type = FlowConfig

    def document(self, config: FlowConfig) -> FlowDocument:
        """The configuration's flow, parsed (a ValidationError with the file and line)."""
        return parse_flow(config.flow, config.source_name)

    def input_names_for(self, config: FlowConfig) -> tuple[str, ...]:
        return self.document(config).inputs

    def check(self, config: FlowConfig, inputs: AnalysisInputs) -> None:
        doc = self.document(config)
        headers = {name: [str(c) for c in inputs.frame(name).columns] for name in doc.inputs}
        doc.check(headers)

    def run(self, config: FlowConfig, inputs: AnalysisInputs, out_dir: Path,
            progress: Progress = no_progress) -> dict[str, Any]:
        doc = self.document(config)
        frames = {name: inputs.frame(name) for name in doc.inputs}
        progress(f"running {len(doc.steps)} steps over {', '.join(doc.inputs)}")
        result = execute(doc, frames)
        outputs: list[dict[str, Any]] = []
        for name, frame in result.outputs.items():
            path = out_dir / f"{name}.{config.output_format}"
            progress(f"writing {name}: {len(frame)} rows")
            write_frame(for_text_file(frame) if config.output_format == "csv" else frame, path)
            outputs.append({"name": name, "file": path.name, "rows": len(frame),
                            "columns": [str(c) for c in frame.columns]})
        summary: dict[str, Any] = {
            "flow": doc.source, "inputs": {name: {"rows": len(frames[name]),
                                                  "columns": len(frames[name].columns)}
                                           for name in doc.inputs},
            "outputs": outputs, "steps": [s.as_dict() for s in result.steps],
            "seconds": round(result.seconds, 4)}
        (out_dir / "flow_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return {"flow": doc.source, "seconds": summary["seconds"],
                "outputs": {o["name"]: {"rows": o["rows"], "columns": len(o["columns"])}
                            for o in outputs}}
