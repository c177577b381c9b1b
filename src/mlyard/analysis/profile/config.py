"""The data profile's configuration (the agreed :class:`ProfileConfig` fields, plus
``leakage_threshold``)."""

from __future__ import annotations

from mlyard.analysis.base import AnalysisConfig


class ProfileConfig(AnalysisConfig):
    """What :func:`mlyard.analysis.profile.profile_frame` computes.

    ``target``: the label column (class balance, leakage, quick model, Cramér's V); None
    profiles the columns alone. ``sample_size``: profile a seeded sample of at most this many
    rows (None: all rows); the report states the sample and the total. ``text_columns``:
    the free-text columns (default: inferred, see :mod:`mlyard.analysis.profile.types`).
    ``quick_model``: fit the cross-validated baseline (``cv_folds`` folds). ``top_k``: how
    many top values / tokens each column lists. ``leakage_threshold``: a feature whose
    one-feature cross-validated score (ROC AUC for a class target, R² for a numeric one)
    reaches this is flagged as possible target leakage.
    """

    target: str | None = None
    sample_size: int | None = 200_000
    seed: int = 0
    text_columns: list[str] | None = None
    quick_model: bool = True
    cv_folds: int = 3
    top_k: int = 10
    title: str | None = None
    leakage_threshold: float = 0.95
