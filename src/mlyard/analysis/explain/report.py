"""The explanation's self-contained HTML report: a summary, a global bar chart of the
aggregate SHAP values per output, the top units of a text explanation, and each record's
text with its units highlighted for the predicted label (red: pushes towards it, blue:
away from it; the stronger the colour, the larger the value). Every piece of data text is
escaped (a review may hold ``<script>``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlyard.analysis.explain.tabular import TabularExplanation
from mlyard.analysis.explain.text import TextExplanation
from mlyard.reports import charts, html
from mlyard.reports.tables import cell

#: Bars in a global chart, records highlighted in a text report.
TOP_BARS = 20
HIGHLIGHTED_RECORDS = 50
_RED = (214, 39, 40)
_BLUE = (31, 119, 180)
_CSS = (".shap-text{line-height:1.9;margin:.4rem 0 1rem;text-align:left}"
        ".shap-text span{border-radius:3px;padding:1px 0}")


def bar_chart(names: list[str], sizes: list[float], signs: list[float], title: str,
              xlabel: str) -> bytes:
    """A horizontal bar chart (largest on top) of ``sizes``, red where ``signs`` > 0."""
    fig = charts.new_figure(7.0, 0.35 * max(len(names), 3) + 1.0)
    ax = fig.add_subplot(1, 1, 1)
    ys = np.arange(len(names))[::-1]
    colours = ["#%02x%02x%02x" % (_RED if s > 0 else _BLUE) for s in signs]
    ax.barh(ys, sizes, color=colours)
    ax.set_yticks(ys)
    ax.set_yticklabels([charts.plain(n, 40) for n in names])
    ax.set_xlabel(charts.plain(xlabel))
    ax.set_title(charts.plain(title, 80))
    return charts.png(fig)


def _colour(value: float, scale: float) -> str:
    alpha = 0.0 if scale <= 0 else min(1.0, abs(value) / scale) * 0.75
    r, g, b = _RED if value > 0 else _BLUE
    return f"rgba({r},{g},{b},{alpha:.3f})"


def highlighted(segments: list[str], values: np.ndarray, scale: float, label: str) -> str:
    """One record's text as escaped ``<span>``s coloured by their SHAP value for ``label``."""
    spans = []
    for seg, v in zip(segments, values, strict=True):
        tip = html.escape(f"{label}: {float(v):+.4f}")
        spans.append(f"<span style='background:{_colour(float(v), scale)}' "
                     f"title='{tip}'>{html.escape(seg)}</span>")
    return "<div class='shap-text'>" + "".join(spans) + "</div>"


def _summary(about: dict[str, Any]) -> str:
    return html.table(None, [[html.escape(k), cell(v)] for k, v in about.items()])


def tabular_report(exp: TabularExplanation, about: dict[str, Any]) -> str:
    """The report page of a Kernel SHAP explanation."""
    sections = [html.heading("Summary"), _summary(about)]
    method = exp.agg_method
    for k, label in enumerate(exp.outputs):
        glob = exp.global_values(k)
        names = list(glob)[:TOP_BARS]
        signs = [float(exp.values[:, exp.features.index(n), k].mean()) for n in names]
        sections.append(html.heading(f"Global SHAP values, label {label}"))
        sections.append(html.image(
            bar_chart(names, [glob[n] for n in names], signs, f"label {label}",
                      f"{method} SHAP value"),
            f"global SHAP values for label {label}"))
        sections.append(html.note(f"expected value {float(exp.expected_value[k]):.6g}; red: "
                                  "the feature raises this output on average, blue: lowers"))
    return html.page("SHAP explanations (Kernel SHAP)", sections)


def text_report(exp: TextExplanation, about: dict[str, Any], top: int = TOP_BARS) -> str:
    """The report page of a text explanation."""
    sections = [f"<style>{_CSS}</style>", html.heading("Summary"), _summary(about)]
    for k, label in enumerate(exp.outputs):
        rows = exp.top_tokens(k, top)
        sections.append(html.heading(f"Top {exp.granularity}s, label {label}"))
        if not rows:
            sections.append(html.note("no units to show"))
            continue
        sections.append(html.image(
            bar_chart([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                      f"label {label}", f"{exp.agg_method} SHAP value"),
            f"top units for label {label}"))
        sections.append(html.note(f"bar length: {exp.agg_method} of the unit's SHAP values "
                                  "over its occurrences; red: the unit raises this output on "
                                  "average, blue: lowers it"))
        sections.append(html.table(
            [exp.granularity, exp.agg_method, "mean SHAP", "occurrences"],
            [[html.escape(u), cell(a), cell(m), cell(c)] for u, a, m, c in rows]))
    shown = exp.records[:HIGHLIGHTED_RECORDS]
    if shown:
        values = np.concatenate([r.values.reshape(-1) for r in shown])
        scale = float(np.percentile(np.abs(values), 99)) if values.size else 0.0
        sections.append(html.heading("Records"))
        sections.append(html.note(
            f"the first {len(shown)} of {len(exp.records)} records, each unit coloured by its "
            "SHAP value for the predicted label: red pushes towards it, blue away"))
        for i, rec in enumerate(shown):
            k = int(np.argmax(rec.prediction)) if rec.prediction.size else 0
            label = exp.outputs[k]
            sections.append(f"<p><b>record {html.escape(exp.index[i])}</b>: predicted "
                            f"{html.escape(label)} ({float(rec.prediction[k]):.3f})</p>")
            sections.append(highlighted(rec.segments, rec.values[:, k], scale, label))
    return html.page(f"SHAP explanations of {exp.column} ({exp.granularity} level)", sections)
