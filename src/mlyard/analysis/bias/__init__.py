"""Bias metrics before and after training, in SageMaker Clarify's vocabulary and formats.

``pre_training_bias(frame, config)`` and ``post_training_bias(frame, config, predicted)``
return the ``analysis.json`` sections as plain functions on a DataFrame; :class:`BiasAnalyzer`
is the ``bias`` analysis (``mlyard bias``), which also calls a model for predictions and
writes ``analysis.json``, ``analysis_config.json`` and ``report.html``. Values match the
open-source ``smclarify`` package (Clarify's own code) to the last bits; they are computed
from one count table per facet instead of a scan per metric and value
(:mod:`mlyard.analysis.bias.counts`).
"""

from mlyard.analysis.bias.analyzer import BiasAnalyzer
from mlyard.analysis.bias.config import BiasAnalysisConfig, FacetConfig
from mlyard.analysis.bias.methods import split_methods
from mlyard.analysis.bias.sections import post_training_bias, pre_training_bias

__all__ = ["BiasAnalysisConfig", "BiasAnalyzer", "FacetConfig", "post_training_bias",
           "pre_training_bias", "split_methods"]
