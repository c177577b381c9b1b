"""The A/B report's data: per-variant summaries, pairwise tests, the recommendation and the
report that holds them (:class:`ABReport`), with its JSON form. Renderings live in
:mod:`mlyard.serving.abreport.render`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mlyard.errors import NotFoundError
from mlyard.serving.capture import iso_time

Basis = Literal["accuracy", "error_rate", "p99_latency", "none"]


@dataclass
class VariantSummary:
    """What one variant did over the report's window. Latencies in microseconds; ``None``
    where there is no data. ``accuracy_*`` fields are set only with ground truth."""

    variant: str
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    error_rate_4xx: float | None = None
    error_rate_5xx: float | None = None
    error_rate: float | None = None
    model_latency_mean: float | None = None
    model_latency_p50: float | None = None
    model_latency_p90: float | None = None
    model_latency_p99: float | None = None
    overhead_latency_p50: float | None = None
    scored: int = 0
    correct: int = 0
    accuracy: float | None = None
    accuracy_ci_low: float | None = None
    accuracy_ci_high: float | None = None
    unscored: int = 0  # labelled events whose output held no readable label


@dataclass
class PairwiseTest:
    """A test of ``rate_a`` against ``rate_b`` (accuracy or error rate) of two variants.
    ``statistic`` is z for the z-test and the odds ratio for Fisher's test; ``p_adjusted``
    is Holm's adjustment over all pairs of the same metric."""

    metric: Literal["accuracy", "error_rate"]
    variant_a: str
    variant_b: str
    n_a: int
    n_b: int
    rate_a: float
    rate_b: float
    difference: float
    test: str
    statistic: float | None
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass
class Recommendation:
    """The suggested variant. ``winner`` is set when the data single one out (by
    ``basis``); ``leader`` is the best on ``basis`` either way."""

    winner: str | None
    leader: str | None
    basis: Basis
    significant: bool
    message: str


@dataclass
class ABReport:
    """The result of :func:`ab_report`."""

    endpoint: str
    variants: list[VariantSummary]
    comparisons: list[PairwiseTest]
    recommendation: Recommendation
    alpha: float
    window: float | None
    generated_at: float
    ground_truth_events: int = 0
    matched_events: int = 0
    #: variant -> [(period start, p50, p90, p99)] of ModelLatency (microseconds).
    latency_series: dict[str, list[tuple[float, float, float, float]]] = field(
        default_factory=dict
    )
    series_period: float = 60.0

    @property
    def has_accuracy(self) -> bool:
        """Whether any variant was scored against ground truth."""
        return any(v.scored > 0 for v in self.variants)

    def variant(self, name: str) -> VariantSummary:
        """The summary of variant ``name``."""
        for v in self.variants:
            if v.variant == name:
                return v
        raise NotFoundError(f"the report has no variant {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data (no NaN: missing values are ``None``)."""
        data = asdict(self)
        data["generated_at_iso"] = iso_time(self.generated_at)
        data["latency_series"] = {
            k: [list(p) for p in points] for k, points in self.latency_series.items()
        }
        data["latency_unit"] = "microseconds"
        return data

    def summary_table(self) -> str:
        """A plain-text rendering: one row per variant, the tests, the recommendation."""
        from mlyard.serving.abreport.render import summary_table

        return summary_table(self)

    def to_html(self, title: str | None = None) -> str:
        """A self-contained HTML page: tables, latency charts (embedded PNG), tests and
        the recommendation. Every name is escaped."""
        from mlyard.serving.abreport.render import to_html

        return to_html(self, title)
