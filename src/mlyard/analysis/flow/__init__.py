"""Data-preparation flows (the Data Wrangler role): a YAML/JSON file of steps over tables,
run over DataFrames (:func:`run_flow`), as the ``flow`` analysis (:class:`FlowAnalyzer`),
or exported as a standalone Python script (:func:`export_python`). The format is described
in :mod:`mlyard.analysis.flow.document`, the steps in :mod:`mlyard.analysis.flow.steps`.
"""

from mlyard.analysis.flow.analyzer import FlowAnalyzer, FlowConfig
from mlyard.analysis.flow.document import FlowDocument, load_flow, parse_flow
from mlyard.analysis.flow.export import export_python
from mlyard.analysis.flow.run import FlowResult, execute, run_flow
from mlyard.analysis.flow.steps import STEP_TYPES

__all__ = ["STEP_TYPES", "FlowAnalyzer", "FlowConfig", "FlowDocument", "FlowResult",
           "execute", "export_python", "load_flow", "parse_flow", "run_flow"]
