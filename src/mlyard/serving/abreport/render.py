"""Renderings of an :class:`~mlyard.serving.abreport.model.ABReport`: a plain-text summary
for terminals and a self-contained HTML page (built with :mod:`mlyard.reports`) with one
latency chart per variant. Latencies show in milliseconds (the report holds microseconds).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlyard.reports import (
    escape,
    heading,
    image,
    new_figure,
    note,
    page,
    plain,
    png,
    table,
    text_table,
)
from mlyard.serving.abreport.formatting import interval, ms, p_value, pct
from mlyard.serving.capture import iso_time

if TYPE_CHECKING:  # the report's methods call these renderings
    from mlyard.serving.abreport.model import ABReport

BASIS_LABEL: dict[str, str] = {
    "accuracy": "accuracy against ground truth",
    "error_rate": "operational metrics only (5xx error rate; no ground truth)",
    "p99_latency": "operational metrics only (p99 model latency; no ground truth)",
    "none": "no data to compare",
}


def summary_table(report: ABReport) -> str:
    """A plain-text rendering: one row per variant, the tests, the recommendation."""
    head = ["variant", "invocations", "4xx", "5xx", "err rate", "p50 ms", "p90 ms",
            "p99 ms", "mean ms", "ovh p50 ms"]
    rows = [
        [v.variant, str(v.invocations), str(v.errors_4xx), str(v.errors_5xx),
         pct(v.error_rate), ms(v.model_latency_p50), ms(v.model_latency_p90),
         ms(v.model_latency_p99), ms(v.model_latency_mean), ms(v.overhead_latency_p50)]
        for v in report.variants
    ]
    title = f"A/B report for endpoint {report.endpoint}"
    if report.window is not None:
        title += f" (last {report.window:g} s)"
    parts = [title, text_table(head, rows)]
    if report.has_accuracy:
        ci = f"{round((1 - report.alpha) * 100, 4):g}% CI"
        acc_rows = [
            [v.variant, str(v.scored), str(v.correct), pct(v.accuracy),
             interval(v.accuracy_ci_low, v.accuracy_ci_high), str(v.unscored)]
            for v in report.variants
        ]
        parts += ["", f"Accuracy ({report.matched_events} of {report.ground_truth_events} "
                      "labelled events matched)",
                  text_table(["variant", "n", "correct", "accuracy", ci, "unscored"],
                             acc_rows)]
    if report.comparisons:
        test_rows = [
            [c.metric, f"{c.variant_a} vs {c.variant_b}", pct(c.rate_a), pct(c.rate_b),
             c.test, p_value(c.p_value), p_value(c.p_adjusted),
             "yes" if c.significant else "no"]
            for c in report.comparisons
        ]
        parts += ["", "Pairwise tests",
                  text_table(["metric", "pair", "rate a", "rate b", "test", "p",
                              "p (Holm)", f"significant at {report.alpha:g}"], test_rows)]
    parts += ["", f"Recommendation [{BASIS_LABEL[report.recommendation.basis]}]: "
                  f"{report.recommendation.message}"]
    return "\n".join(parts) + "\n"


def to_html(report: ABReport, title: str | None = None) -> str:
    """A self-contained HTML page: tables, latency charts (embedded PNG), tests and
    the recommendation. Every name is escaped."""
    title = title or f"A/B test report: {report.endpoint}"
    rec = report.recommendation
    facts = [
        ["endpoint", escape(report.endpoint)],
        ["window", escape(f"last {report.window:g} s" if report.window is not None
                          else "all retained data")],
        ["generated", escape(iso_time(report.generated_at))],
        ["significance level (alpha)", escape(f"{report.alpha:g}")],
        ["labelled events matched", escape(f"{report.matched_events} of "
                                           f"{report.ground_truth_events}")],
    ]
    traffic = [
        [escape(v.variant), str(v.invocations), str(v.errors_4xx),
         escape(pct(v.error_rate_4xx)), str(v.errors_5xx), escape(pct(v.error_rate_5xx)),
         escape(pct(v.error_rate))]
        for v in report.variants
    ]
    latency = [
        [escape(v.variant), escape(ms(v.model_latency_p50)), escape(ms(v.model_latency_p90)),
         escape(ms(v.model_latency_p99)), escape(ms(v.model_latency_mean)),
         escape(ms(v.overhead_latency_p50))]
        for v in report.variants
    ]
    sections = [
        table(None, facts),
        heading("Recommendation"),
        f"<p><strong>{escape(rec.message)}</strong></p>",
        note(f"Basis: {BASIS_LABEL[rec.basis]}."),
        heading("Traffic and errors"),
        table(["variant", "invocations", "4xx", "4xx rate", "5xx", "5xx rate",
               "error rate"], traffic),
        heading("Model latency (ms)"),
        table(["variant", "p50", "p90", "p99", "mean", "overhead p50"], latency),
    ]
    charts = _latency_charts(report)
    for name, chart in charts:
        sections.append(image(chart, f"Model latency of variant {name}"))
    if report.has_accuracy:
        conf = f"{round((1 - report.alpha) * 100, 4):g}%"
        acc = [
            [escape(v.variant), str(v.scored), str(v.correct), escape(pct(v.accuracy)),
             escape(interval(v.accuracy_ci_low, v.accuracy_ci_high)), str(v.unscored)]
            for v in report.variants
        ]
        sections += [
            heading("Accuracy against ground truth"),
            table(["variant", "n", "correct", "accuracy", f"{conf} Wilson interval",
                   "unscored"], acc),
        ]
    else:
        sections.append(note("No ground truth matched any captured request: "
                             "the recommendation uses operational metrics only."))
    if report.comparisons:
        tests = [
            [escape(c.metric), escape(f"{c.variant_a} vs {c.variant_b}"),
             escape(pct(c.rate_a)), escape(pct(c.rate_b)), escape(c.test),
             escape(p_value(c.p_value)), escape(p_value(c.p_adjusted)),
             "yes" if c.significant else "no"]
            for c in report.comparisons
        ]
        sections += [
            heading("Pairwise tests"),
            table(["metric", "pair", "rate a", "rate b", "test", "p", "p (Holm)",
                   "significant"], tests),
        ]
    return page(title, sections)


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
