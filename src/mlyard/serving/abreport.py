"""A/B test reports of an endpoint's production variants.

:func:`ab_report` compares variants on what the endpoint recorded
(:class:`~mlyard.serving.metrics.MetricsRecorder`): invocations, 4xx/5xx errors, model and
overhead latency. Given ground truth (``eventId`` -> true label, see
:func:`load_ground_truth`) and the captured requests (:func:`mlyard.serving.capture.
read_capture`), it also scores each variant's top-1 accuracy with a Wilson interval and
tests every pair of variants for a difference (two-proportion z-test, Fisher's exact test
when a cell's expected count is below 5; Holm-adjusted when there are more than two
variants).

The recommendation:

* with scored ground truth: the most accurate variant if it is significantly better than
  every other at ``alpha``, else "no significant difference" naming the leader;
* without: *operational metrics only* — the variant with the lowest error rate if that is
  significantly lower than every other's, else the lowest p99 model latency among the
  variants whose error rate is not significantly worse than the best (no test on latency).

Latencies are in microseconds (as recorded) in :meth:`ABReport.to_dict`, in milliseconds
in the text and HTML renderings.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import itertools
import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlyard.errors import DataError, NotFoundError, ValidationError
from mlyard.models.content_types import JSON
from mlyard.models.predictions import top_label
from mlyard.reports import escape, image, new_figure, note, page, plain, png, table, text_table
from mlyard.serving import metrics as m
from mlyard.serving.capture import decode_data, iso_time
from mlyard.stats import holm, two_proportion_test, wilson_interval

Basis = Literal["accuracy", "error_rate", "p99_latency", "none"]

_LABEL_PREFIX = "__label__"
_MAX_SERIES_POINTS = 120
_NICE_PERIODS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


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
        head = ["variant", "invocations", "4xx", "5xx", "err rate", "p50 ms", "p90 ms",
                "p99 ms", "mean ms", "ovh p50 ms"]
        rows = [
            [v.variant, str(v.invocations), str(v.errors_4xx), str(v.errors_5xx),
             _pct(v.error_rate), _ms(v.model_latency_p50), _ms(v.model_latency_p90),
             _ms(v.model_latency_p99), _ms(v.model_latency_mean), _ms(v.overhead_latency_p50)]
            for v in self.variants
        ]
        title = f"A/B report for endpoint {self.endpoint}"
        if self.window is not None:
            title += f" (last {self.window:g} s)"
        parts = [title, text_table(head, rows)]
        if self.has_accuracy:
            ci = f"{round((1 - self.alpha) * 100, 4):g}% CI"
            acc_rows = [
                [v.variant, str(v.scored), str(v.correct), _pct(v.accuracy),
                 _interval(v.accuracy_ci_low, v.accuracy_ci_high), str(v.unscored)]
                for v in self.variants
            ]
            parts += ["", f"Accuracy ({self.matched_events} of {self.ground_truth_events} "
                          "labelled events matched)",
                      text_table(["variant", "n", "correct", "accuracy", ci, "unscored"],
                                  acc_rows)]
        if self.comparisons:
            test_rows = [
                [c.metric, f"{c.variant_a} vs {c.variant_b}", _pct(c.rate_a), _pct(c.rate_b),
                 c.test, _p(c.p_value), _p(c.p_adjusted), "yes" if c.significant else "no"]
                for c in self.comparisons
            ]
            parts += ["", "Pairwise tests",
                      text_table(["metric", "pair", "rate a", "rate b", "test", "p",
                                   "p (Holm)", f"significant at {self.alpha:g}"], test_rows)]
        parts += ["", f"Recommendation [{_BASIS_LABEL[self.recommendation.basis]}]: "
                      f"{self.recommendation.message}"]
        return "\n".join(parts) + "\n"

    def to_html(self, title: str | None = None) -> str:
        """A self-contained HTML page: tables, latency charts (embedded PNG), tests and
        the recommendation. Every name is escaped."""
        title = title or f"A/B test report: {self.endpoint}"
        rec = self.recommendation
        facts = [
            ["endpoint", escape(self.endpoint)],
            ["window", escape(f"last {self.window:g} s" if self.window is not None
                          else "all retained data")],
            ["generated", escape(iso_time(self.generated_at))],
            ["significance level (alpha)", escape(f"{self.alpha:g}")],
            ["labelled events matched", escape(f"{self.matched_events} of "
                                           f"{self.ground_truth_events}")],
        ]
        traffic = [
            [escape(v.variant), str(v.invocations), str(v.errors_4xx),
             escape(_pct(v.error_rate_4xx)), str(v.errors_5xx), escape(_pct(v.error_rate_5xx)),
             escape(_pct(v.error_rate))]
            for v in self.variants
        ]
        latency = [
            [escape(v.variant), escape(_ms(v.model_latency_p50)), escape(_ms(v.model_latency_p90)),
             escape(_ms(v.model_latency_p99)), escape(_ms(v.model_latency_mean)),
             escape(_ms(v.overhead_latency_p50))]
            for v in self.variants
        ]
        sections = [
            table(None, facts),
            "<h2>Recommendation</h2>",
            f"<p><strong>{escape(rec.message)}</strong></p>",
            note(f"Basis: {_BASIS_LABEL[rec.basis]}."),
            "<h2>Traffic and errors</h2>",
            table(["variant", "invocations", "4xx", "4xx rate", "5xx", "5xx rate",
                    "error rate"], traffic),
            "<h2>Model latency (ms)</h2>",
            table(["variant", "p50", "p90", "p99", "mean", "overhead p50"], latency),
        ]
        charts = _latency_charts(self)
        for name, chart in charts:
            sections.append(image(chart, f"Model latency of variant {name}"))
        if self.has_accuracy:
            conf = f"{round((1 - self.alpha) * 100, 4):g}%"
            acc = [
                [escape(v.variant), str(v.scored), str(v.correct), escape(_pct(v.accuracy)),
                 escape(_interval(v.accuracy_ci_low, v.accuracy_ci_high)), str(v.unscored)]
                for v in self.variants
            ]
            sections += [
                "<h2>Accuracy against ground truth</h2>",
                table(["variant", "n", "correct", "accuracy", f"{conf} Wilson interval",
                        "unscored"], acc),
            ]
        else:
            sections.append(note("No ground truth matched any captured request: "
                                 "the recommendation uses operational metrics only."))
        if self.comparisons:
            tests = [
                [escape(c.metric), escape(f"{c.variant_a} vs {c.variant_b}"),
                 escape(_pct(c.rate_a)), escape(_pct(c.rate_b)), escape(c.test),
                 escape(_p(c.p_value)), escape(_p(c.p_adjusted)),
                 "yes" if c.significant else "no"]
                for c in self.comparisons
            ]
            sections += [
                "<h2>Pairwise tests</h2>",
                table(["metric", "pair", "rate a", "rate b", "test", "p", "p (Holm)",
                        "significant"], tests),
            ]
        return page(title, sections)


_BASIS_LABEL: dict[str, str] = {
    "accuracy": "accuracy against ground truth",
    "error_rate": "operational metrics only (error rate; no ground truth)",
    "p99_latency": "operational metrics only (p99 model latency; no ground truth)",
    "none": "no data to compare",
}


# -- formatting ----------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.3f}"


def _p(value: float) -> str:
    return f"{value:.3g}"


def _interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "n/a"
    return f"[{low * 100:.2f}%, {high * 100:.2f}%]"


def _latency_charts(report: ABReport) -> list[tuple[str, bytes]]:
    """One PNG per variant with data: p50/p90/p99 model latency (ms) over time."""
    charts: list[tuple[str, bytes]] = []
    t0 = min((p[0] for pts in report.latency_series.values() for p in pts), default=0.0)
    for name, points in report.latency_series.items():
        if not points:
            continue
        fig = new_figure(7.0, 3.2)
        ax = fig.add_subplot(1, 1, 1)
        xs = [(p[0] - t0) / 60.0 for p in points]
        for i, (label, style) in enumerate((("p50", "-"), ("p90", "--"), ("p99", ":")),
                                           start=1):
            ys = [p[i] / 1000.0 for p in points]
            ax.plot(xs, ys, style, marker="o" if len(xs) < 30 else None, markersize=3,
                    label=label)
        ax.set_xlabel(f"minutes since {iso_time(t0)} ({report.series_period:g} s periods)")
        ax.set_ylabel("model latency (ms)")
        ax.set_title(plain(f"variant {name}", 80))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
        charts.append((name, png(fig)))
    return charts


# -- statistics ----------------------------------------------------------------------------


def _pairwise(
    metric: Literal["accuracy", "error_rate"],
    counts: Sequence[tuple[str, int, int]],
    alpha: float,
) -> list[PairwiseTest]:
    """Tests of every pair of ``(variant, hits, n)`` with n > 0."""
    live = [c for c in counts if c[2] > 0]
    raw: list[tuple[str, int, int, str, int, int, str, float | None, float]] = []
    for (a, xa, na), (b, xb, nb) in itertools.combinations(live, 2):
        test, stat, p = two_proportion_test(xa, na, xb, nb)
        raw.append((a, xa, na, b, xb, nb, test, stat, p))
    adjusted = holm([r[-1] for r in raw])
    return [
        PairwiseTest(metric=metric, variant_a=a, variant_b=b, n_a=na, n_b=nb,
                     rate_a=xa / na, rate_b=xb / nb, difference=xa / na - xb / nb, test=test,
                     statistic=stat, p_value=p, p_adjusted=adj, significant=adj < alpha)
        for (a, xa, na, b, xb, nb, test, stat, p), adj in zip(raw, adjusted, strict=True)
    ]


def _beats_all(leader: str, tests: Sequence[PairwiseTest], higher_is_better: bool) -> bool:
    """Whether ``leader`` is significantly better than every variant it was tested with."""
    mine = [t for t in tests if leader in (t.variant_a, t.variant_b)]
    if not mine:
        return False
    for t in mine:
        diff = t.difference if t.variant_a == leader else -t.difference
        if not t.significant or (diff <= 0 if higher_is_better else diff >= 0):
            return False
    return True


def _worse_than(leader: str, name: str, tests: Sequence[PairwiseTest]) -> bool:
    """Whether ``name``'s error rate is significantly above ``leader``'s."""
    for t in tests:
        if {t.variant_a, t.variant_b} == {leader, name}:
            diff = t.difference if t.variant_a == name else -t.difference
            return t.significant and diff > 0
    return False


# -- predictions ---------------------------------------------------------------------------


def _norm_label(label: str) -> str:
    return label[len(_LABEL_PREFIX):] if label.startswith(_LABEL_PREFIX) else label


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    return None


def predicted_label(data: bytes, content_type: str = JSON) -> str | None:
    """The top-1 label of an endpoint response, or None if none can be read (see
    :func:`mlyard.models.predictions.top_label`, which raises on malformed input instead)."""
    try:
        return top_label(data, content_type)
    except DataError:
        return None


# -- the report ----------------------------------------------------------------------------


def _series_period(metrics: m.MetricsRecorder, span: float) -> float:
    want = max(metrics.resolution, span / _MAX_SERIES_POINTS)
    for p in _NICE_PERIODS:
        if p >= want and p >= metrics.resolution:
            return float(p)
    return float(math.ceil(want / 86400) * 86400)


def _variant_metrics(
    metrics: m.MetricsRecorder, endpoint: str, name: str, start: float | None
) -> VariantSummary:
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


def _score(
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


def _recommend_accuracy(
    summaries: Sequence[VariantSummary], tests: Sequence[PairwiseTest], alpha: float
) -> Recommendation:
    scored = [s for s in summaries if s.scored > 0]
    leader = max(scored, key=lambda s: s.accuracy or 0.0)
    acc = f"{(leader.accuracy or 0.0) * 100:.2f}%"
    if len(scored) == 1:
        return Recommendation(
            winner=None, leader=leader.variant, basis="accuracy", significant=False,
            message=f"only variant {leader.variant} has labelled events (accuracy {acc}); "
                    "nothing to compare",
        )
    if _beats_all(leader.variant, tests, higher_is_better=True):
        worst_p = max(t.p_adjusted for t in tests if leader.variant in (t.variant_a,
                                                                         t.variant_b))
        return Recommendation(
            winner=leader.variant, leader=leader.variant, basis="accuracy", significant=True,
            message=f"variant {leader.variant} wins: accuracy {acc}, significantly better "
                    f"than every other variant (p <= {_p(worst_p)} at alpha {alpha:g})",
        )
    return Recommendation(
        winner=None, leader=leader.variant, basis="accuracy", significant=False,
        message=f"no significant difference in accuracy at alpha {alpha:g}; leader: "
                f"{leader.variant} ({acc})",
    )


def _recommend_operational(
    summaries: Sequence[VariantSummary], tests: Sequence[PairwiseTest], alpha: float
) -> Recommendation:
    live = [s for s in summaries if s.invocations > 0]
    if not live:
        return Recommendation(winner=None, leader=None, basis="none", significant=False,
                              message="no invocations recorded for these variants")
    leader = min(live, key=lambda s: s.error_rate or 0.0)
    if len(live) == 1:
        return Recommendation(
            winner=None, leader=leader.variant, basis="error_rate", significant=False,
            message=f"only variant {leader.variant} has invocations (error rate "
                    f"{_pct(leader.error_rate)}); nothing to compare; operational metrics "
                    "only, no ground truth",
        )
    if _beats_all(leader.variant, tests, higher_is_better=False):
        return Recommendation(
            winner=leader.variant, leader=leader.variant, basis="error_rate",
            significant=True,
            message=f"variant {leader.variant} wins on error rate "
                    f"({_pct(leader.error_rate)}, significantly lower than every other "
                    f"variant at alpha {alpha:g}); operational metrics only, no ground truth",
        )
    fine = [s for s in live if not _worse_than(leader.variant, s.variant, tests)]
    timed = [s for s in fine if s.model_latency_p99 is not None]
    if not timed:
        return Recommendation(
            winner=None, leader=leader.variant, basis="error_rate", significant=False,
            message=f"no significant difference in error rate at alpha {alpha:g} and no "
                    f"latency data; leader: {leader.variant}; operational metrics only",
        )
    fastest = min(timed, key=lambda s: s.model_latency_p99 or 0.0)
    others = ", ".join(f"{s.variant} {_ms(s.model_latency_p99)} ms" for s in timed
                       if s is not fastest)
    detail = f" vs {others}" if others else ""
    return Recommendation(
        winner=fastest.variant, leader=fastest.variant, basis="p99_latency", significant=False,
        message=f"variant {fastest.variant} recommended on p99 model latency "
                f"({_ms(fastest.model_latency_p99)} ms{detail}); error rates do not differ "
                f"significantly at alpha {alpha:g}; operational metrics only, no ground truth, "
                "latency not tested for significance",
    )


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
    data when None); see the module docstring. ``captures`` are records as
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
    summaries = {v: _variant_metrics(metrics, endpoint, v, start) for v in variants}
    report = ABReport(
        endpoint=endpoint, variants=list(summaries.values()), comparisons=[],
        recommendation=Recommendation(None, None, "none", False, ""), alpha=alpha,
        window=window, generated_at=time.time(),
    )
    if ground_truth:
        report.ground_truth_events = len(ground_truth)
        since = None if start is None else iso_time(start)
        report.matched_events = _score(summaries, captures, ground_truth, since, 1.0 - alpha)
    if report.has_accuracy:
        counts = [(s.variant, s.correct, s.scored) for s in report.variants]
        report.comparisons = _pairwise("accuracy", counts, alpha)
        report.recommendation = _recommend_accuracy(report.variants, report.comparisons,
                                                    alpha)
    else:
        counts = [(s.variant, s.errors_4xx + s.errors_5xx, s.invocations)
                  for s in report.variants]
        counts = [(v, min(x, n), n) for v, x, n in counts]
        report.comparisons = _pairwise("error_rate", counts, alpha)
        report.recommendation = _recommend_operational(report.variants, report.comparisons,
                                                       alpha)
        if ground_truth:
            report.recommendation.message += (
                " (ground truth given, but no labelled event matched a captured request "
                "of these variants)"
            )
    # Latency over time for the charts.
    spans = [metrics.span(endpoint, m.MODEL_LATENCY, variant=v) for v in variants]
    firsts = [sp[0] for sp in spans if sp is not None]
    if start is not None:
        firsts = [max(f, start) for f in firsts]
    period = _series_period(metrics, (now - min(firsts)) if firsts else 0.0)
    report.series_period = period
    for v in variants:
        p50, p90, p99 = (
            metrics.query(endpoint, m.MODEL_LATENCY, variant=v, period=period, stat=stat,
                          start=start)
            for stat in ("p50", "p90", "p99")
        )
        report.latency_series[v] = [
            (a.timestamp, a.value, b.value, c.value)
            for a, b, c in zip(p50, p90, p99, strict=True)
        ]
    return report


# -- ground truth --------------------------------------------------------------------------


def _gt_from_json(obj: Any, where: str) -> tuple[str, str]:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "groundTruthData" in obj:  # SageMaker Model Monitor's ground truth record
        meta = obj.get("eventMetadata")
        gt = obj["groundTruthData"]
        if not isinstance(meta, dict) or not isinstance(gt, dict):
            raise DataError(f"{where}: groundTruthData and eventMetadata must be objects")
        event_id = meta.get("eventId")
        data = gt.get("data")
        if gt.get("encoding") == "BASE64" and isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise DataError(f"{where}: bad BASE64 ground truth: {exc}") from None
        if gt.get("encoding") == "JSON" and isinstance(data, str):
            try:
                data = top_label(data.encode("utf-8"), JSON)
            except DataError as exc:
                raise DataError(f"{where}: unreadable JSON ground truth: {exc}") from None
        label = data
    else:
        if "eventId" not in obj or "label" not in obj:
            raise DataError(f"{where}: needs keys eventId and label, got {sorted(obj)}")
        event_id, label = obj["eventId"], obj["label"]
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    event_text, label_text = _scalar(event_id), _scalar(label)
    if not event_text:
        raise DataError(f"{where}: eventId must be a non-empty string or number")
    if label_text is None:
        raise DataError(f"{where}: label must be a string or number, got {label!r}")
    return event_text, label_text


def load_ground_truth(path: str | Path) -> dict[str, str]:
    """Ground truth labels by event id from ``path``.

    JSON Lines (``.jsonl``, ``.json``, ``.ndjson``, or any file starting with ``{``): one
    ``{"eventId": ..., "label": ...}`` a line, or SageMaker Model Monitor's ground truth
    records (``{"groundTruthData": {"data": ..., "encoding": ...}, "eventMetadata":
    {"eventId": ...}, ...}``). CSV: a header naming ``eventId`` (or ``event_id``) and
    ``label`` columns. A repeated event id must repeat its label. Malformed input raises
    :class:`~mlyard.errors.DataError` naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"ground truth file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text: {exc}") from None
    suffix = path.suffix.lower()
    is_json = suffix in (".jsonl", ".json", ".ndjson") or (
        suffix != ".csv" and text.lstrip().startswith("{")
    )
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}

    def add(event_id: str, label: str, lineno: int) -> None:
        known = out.get(event_id)
        if known is not None and known != label:
            raise DataError(
                f"{path}:{lineno}: eventId {event_id!r} has label {label!r} here but "
                f"{known!r} on line {first_line[event_id]}"
            )
        if known is None:
            out[event_id] = label
            first_line[event_id] = lineno

    if is_json:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: invalid JSON: {exc}") from None
            add(*_gt_from_json(obj, f"{path}:{lineno}"), lineno)
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        id_col = label_col = -1
        try:
            for row in reader:
                lineno = reader.line_num
                if not any(c.strip() for c in row):
                    continue
                if header is None:
                    header = [c.strip() for c in row]
                    lower = [c.lower() for c in header]
                    id_col = next((lower.index(k) for k in ("eventid", "event_id")
                                   if k in lower), -1)
                    label_col = lower.index("label") if "label" in lower else -1
                    if id_col < 0 or label_col < 0:
                        raise DataError(
                            f"{path}:{lineno}: the CSV header needs eventId and label "
                            f"columns, got {header}"
                        )
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}"
                    )
                event_id, label = row[id_col].strip(), row[label_col].strip()
                if not event_id:
                    raise DataError(f"{path}:{lineno}: empty eventId")
                add(event_id, label, lineno)
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV: {exc}") from None
    if not out:
        raise DataError(f"{path}: no ground truth records")
    return out
