"""What the A/B report measures per variant: invocations, errors and latency from the
endpoint's :class:`~mlyard.serving.metrics.MetricsRecorder`, latency over time for the
charts, and accuracy of the captured responses against ground truth (read with
:func:`mlyard.models.predictions.top_label`, scored with a Wilson interval)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from mlyard.errors import DataError
from mlyard.models.predictions import top_label
from mlyard.serving import metrics as m
from mlyard.serving.abreport.model import VariantSummary
from mlyard.serving.capture import decode_data
from mlyard.stats import wilson_interval

_LABEL_PREFIX = "__label__"
_MAX_SERIES_POINTS = 120
_NICE_PERIODS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


def _norm_label(label: str) -> str:
    """``label`` without fastText's ``__label__`` prefix, so ``__label__pos`` matches ``pos``."""
    return label[len(_LABEL_PREFIX):] if label.startswith(_LABEL_PREFIX) else label


def series_period(metrics: m.MetricsRecorder, span: float) -> float:
    """A round period (seconds) that cuts ``span`` seconds into at most about 120 points and
    is no finer than the recorder's resolution."""
    want = max(metrics.resolution, span / _MAX_SERIES_POINTS)
    for p in _NICE_PERIODS:
        if p >= want and p >= metrics.resolution:
            return float(p)
    return float(math.ceil(want / 86400) * 86400)


def variant_metrics(
    metrics: m.MetricsRecorder, endpoint: str, name: str, start: float | None
) -> VariantSummary:
    """The operational numbers of variant ``name`` since ``start`` (accuracy left unset)."""

    def agg(metric: str, stat: str) -> float | None:
        return metrics.aggregate(endpoint, metric, variant=name, stat=stat, start=start)

    s = VariantSummary(variant=name)
    s.invocations = round(agg(m.INVOCATIONS, "Sum") or 0.0)
    s.errors_4xx = round(agg(m.INVOCATION_4XX_ERRORS, "Sum") or 0.0)
    s.errors_5xx = round(agg(m.INVOCATION_5XX_ERRORS, "Sum") or 0.0)
    if s.invocations > 0:
        s.error_rate_4xx = s.errors_4xx / s.invocations
        s.error_rate_5xx = s.errors_5xx / s.invocations
        s.error_rate = min(1.0, (s.errors_4xx + s.errors_5xx) / s.invocations)
    s.model_latency_mean = agg(m.MODEL_LATENCY, "Average")
    s.model_latency_p50 = agg(m.MODEL_LATENCY, "p50")
    s.model_latency_p90 = agg(m.MODEL_LATENCY, "p90")
    s.model_latency_p99 = agg(m.MODEL_LATENCY, "p99")
    s.overhead_latency_p50 = agg(m.OVERHEAD_LATENCY, "p50")
    return s


def score(
    summaries: Mapping[str, VariantSummary],
    captures: Iterable[Mapping[str, Any]],
    ground_truth: Mapping[str, str],
    since: str | None,
    confidence: float,
) -> int:
    """Fill the accuracy fields of ``summaries``; returns the events matched."""
    truth = {str(k): _norm_label(str(v)) for k, v in ground_truth.items()}
    seen: set[tuple[str, str]] = set()
    for record in captures:
        variant = record.get("variant")
        meta = record.get("eventMetadata") or {}
        event_id = meta.get("eventId")
        if variant not in summaries or event_id not in truth:
            continue
        if since is not None and str(meta.get("inferenceTime", "")) < since:
            continue
        key = (str(variant), str(event_id))
        if key in seen:
            continue
        seen.add(key)
        summary = summaries[str(variant)]
        output = (record.get("captureData") or {}).get("endpointOutput")
        label: str | None = None
        if isinstance(output, dict):
            try:
                label = top_label(
                    decode_data(output), str(output.get("observedContentType", ""))
                )
            except DataError:
                label = None
        if label is None:
            summary.unscored += 1
            continue
        summary.scored += 1
        summary.correct += int(_norm_label(label) == truth[str(event_id)])
    for s in summaries.values():
        if s.scored > 0:
            s.accuracy = s.correct / s.scored
            s.accuracy_ci_low, s.accuracy_ci_high = wilson_interval(
                s.correct, s.scored, confidence
            )
    return len({e for _, e in seen})


def latency_series(
    metrics: m.MetricsRecorder,
    endpoint: str,
    variants: list[str],
    start: float | None,
    now: float,
) -> tuple[float, dict[str, list[tuple[float, float, float, float]]]]:
    """The period of the latency charts and, per variant, ``(period start, p50, p90, p99)``
    of ModelLatency (microseconds) from ``start`` (all retained data when None): at most
    about 120 points of a round period (see :func:`series_period`)."""
    spans = [metrics.span(endpoint, m.MODEL_LATENCY, variant=v) for v in variants]
    firsts = [sp[0] for sp in spans if sp is not None]
    if start is not None:
        firsts = [max(f, start) for f in firsts]
    period = series_period(metrics, (now - min(firsts)) if firsts else 0.0)
    series: dict[str, list[tuple[float, float, float, float]]] = {}
    for v in variants:
        p50, p90, p99 = (
            metrics.query(endpoint, m.MODEL_LATENCY, variant=v, period=period, stat=stat,
                          start=start)
            for stat in ("p50", "p90", "p99")
        )
        series[v] = [
            (a.timestamp, a.value, b.value, c.value)
            for a, b, c in zip(p50, p90, p99, strict=True)
        ]
    return period, series
