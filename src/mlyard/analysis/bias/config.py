"""The bias analysis' configuration, in SageMaker Clarify's ``BiasConfig`` vocabulary."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlyard.analysis.base import AnalysisConfig


class FacetConfig(AnalysisConfig):
    """A sensitive attribute: a column and, optionally, the values that form the sensitive
    group (categorical) or ``[threshold]`` (numeric: values above it are the group).
    None: each value of the column against all the other rows."""

    name: str
    values_or_threshold: list[str | int | float] | None = None


class BiasAnalysisConfig(AnalysisConfig):
    """Pre- and post-training bias metrics of one label over one or more facets.

    ``label_values_or_threshold``: the label values that are the positive outcome, or
    ``[threshold]`` for a numeric label (values above it are positive). Values given as
    strings (the CLI's) are matched to the column's values. ``group_name``: the subgroup
    column of CDDL/CDDPL. Post-training metrics need predictions: ``predicted_label`` (a
    column of the data) or the analysis' model, called in batches of ``batch_size`` on
    ``text_column`` (a text model) or on the ``features`` columns; ``probability_threshold``
    turns the positive classes' probability into a predicted label.
    """

    label: str
    label_values_or_threshold: list[str | int | float] = Field(min_length=1)
    facets: list[FacetConfig] = Field(min_length=1)
    group_name: str | None = None
    pre_training_methods: list[str] | Literal["all"] | None = "all"
    post_training_methods: list[str] | Literal["all"] | None = None
    predicted_label: str | None = None
    probability_threshold: float | None = None
    features: list[str] | None = None
    text_column: str | None = None
    batch_size: int = Field(default=1024, ge=1)
