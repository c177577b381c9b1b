"""The data profile (Data Wrangler's "data insights" and the course's exploratory
analysis): inferred column types, counts, histograms, top values, text statistics,
duplicates, target balance, correlations, target leakage and a quick model, as a JSON
summary (:func:`profile_frame`) and a self-contained HTML report
(:func:`mlyard.analysis.profile.report.render`); :class:`ProfileAnalyzer` runs both as the
``profile`` analysis."""

from mlyard.analysis.profile.analyzer import ProfileAnalyzer
from mlyard.analysis.profile.config import ProfileConfig
from mlyard.analysis.profile.summary import profile_frame

__all__ = ["ProfileAnalyzer", "ProfileConfig", "profile_frame"]
