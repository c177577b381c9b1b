"""SHAP explanations (the explainability half of SageMaker Clarify): Kernel SHAP for any
model over tabular features, shap's Partition explainer for a text classifier's text at
token, sentence or paragraph level; Clarify's ``analysis.json`` and
``explanations_shap/out.csv``, and an HTML report.

* :func:`explain_tabular` / :func:`explain_text`: functions over a DataFrame and a loaded
  model;
* :class:`ExplainAnalyzer` (``explain``): the analysis a job or the CLI runs.

shap is imported when an explanation runs, not with this package.
"""

from mlyard.analysis.explain.analyzer import ExplainAnalyzer
from mlyard.analysis.explain.config import ExplainAnalysisConfig
from mlyard.analysis.explain.tabular import TabularExplanation, explain_tabular
from mlyard.analysis.explain.text import TextExplanation, explain_text, explain_texts

__all__ = [
    "ExplainAnalysisConfig",
    "ExplainAnalyzer",
    "TabularExplanation",
    "TextExplanation",
    "explain_tabular",
    "explain_text",
    "explain_texts",
]
