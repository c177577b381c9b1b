"""Building an A/B report: :func:`ab_report` gathers each variant's numbers, compares the
variants and recommends one (see :mod:`mlyard.serving.abreport`)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from mlyard.errors import DataError, ValidationError
from mlyard.models.content_types import JSON
from mlyard.models.predictions import top_label
from mlyard.serving import metrics as m
from mlyard.serving.abreport.decide import (
    pairwise,
    recommend_accuracy,
    recommend_operational,
)
from mlyard.serving.abreport.gather import latency_series, score, variant_metrics
from mlyard.serving.abreport.model import ABReport, Recommendation
from mlyard.serving.capture import iso_time


def ab_report(
    metrics: m.MetricsRecorder,
    endpoint: str,
    variants: list[str],
    *,
    captures: Iterable[Mapping[str, Any]] = (),
    ground_truth: Mapping[str, str] | None = None,
    window: float | None = None,
    alpha: float = 0.05,
) -> ABReport:
    """Compare ``variants`` of ``endpoint`` over the last ``window`` seconds (all retained
    data when None); see :mod:`mlyard.serving.abreport`. ``captures`` are records as
    :func:`~mlyard.serving.capture.read_capture` yields them (with ``"variant"``)."""
    if not variants:
        raise ValidationError("an A/B report needs at least one variant")
    if len(set(variants)) != len(variants):
        raise ValidationError(f"variant names repeat: {variants}")
    if not 0.0 < alpha < 1.0:
        raise ValidationError(f"alpha must be between 0 and 1, got {alpha}")
    if window is not None and not window > 0:
        raise ValidationError(f"window must be > 0 seconds, got {window}")
    now = metrics.now()
    start = None if window is None else now - window
    summaries = {v: variant_metrics(metrics, endpoint, v, start) for v in variants}
    report = ABReport(
        endpoint=endpoint, variants=list(summaries.values()), comparisons=[],
        recommendation=Recommendation(None, None, "none", False, ""), alpha=alpha,
        window=window, generated_at=time.time(),
    )
    if ground_truth:
        report.ground_truth_events = len(ground_truth)
        since = None if start is None else iso_time(start)
        report.matched_events = score(summaries, captures, ground_truth, since, 1.0 - alpha)
    if report.has_accuracy:
        counts = [(s.variant, s.correct, s.scored) for s in report.variants]
        report.comparisons = pairwise("accuracy", counts, alpha)
        report.recommendation = recommend_accuracy(report.variants, report.comparisons, alpha)
    else:
        # 5xx only: model and server failures; a 4xx is the client's bad input
        counts = [(s.variant, s.errors_5xx, s.invocations) for s in report.variants]
        counts = [(v, min(x, n), n) for v, x, n in counts]
        report.comparisons = pairwise("error_rate", counts, alpha)
        report.recommendation = recommend_operational(
            report.variants, report.comparisons, alpha
        )
        if ground_truth:
            report.recommendation.message += (
                " (ground truth given, but no labelled event matched a captured request "
                "of these variants)"
            )
    report.series_period, report.latency_series = latency_series(
        metrics, endpoint, variants, start, now
    )
    return report


def predicted_label(data: bytes, content_type: str = JSON) -> str | None:
    """The top-1 label of an endpoint response, or None if none can be read (see
    :func:`mlyard.models.predictions.top_label`, which raises on malformed input instead)."""
    try:
        return top_label(data, content_type)
    except DataError:
        return None
