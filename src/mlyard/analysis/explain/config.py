"""The configuration of the ``explain`` analysis (SHAP explanations, SageMaker Clarify's
``SHAPConfig`` + ``TextConfig`` vocabulary)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mlyard.analysis.base import AnalysisConfig

Granularity = Literal["token", "sentence", "paragraph"]
AggMethod = Literal["mean_abs", "median", "mean_sq"]


class ExplainAnalysisConfig(AnalysisConfig):
    """What to explain and how.

    Tabular (``text_column`` unset): Kernel SHAP over ``features`` against ``baseline`` rows
    (default: a k-means summary of the data, or per-column median/mode when a feature is not
    numeric). Text (``text_column`` set): shap's Partition explainer over the text's units at
    ``granularity``; ``baseline`` may then hold one row with the replacement text for masked
    units (default ``""``: masked units are dropped, as Clarify does).
    """

    label: str | None = None
    features: list[str] | None = None
    text_column: str | None = None
    granularity: Granularity = "token"
    language: str = "english"
    baseline: list[list[Any]] | None = None
    num_samples: int | None = Field(default=None, ge=1)
    agg_method: AggMethod = "mean_abs"
    use_logit: bool = False
    save_local_shap_values: bool = True
    seed: int = 0
    max_records: int | None = Field(default=None, ge=1)
    batch_size: int = Field(default=1024, ge=1)
    #: Added: how many top units (tokens, sentences...) ``global_top_shap_text`` keeps per
    #: label, Clarify's ``max_top_tokens``.
    max_top_tokens: int = Field(default=50, ge=1)
