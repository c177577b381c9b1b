"""The bias analysis' ``report.html``: per stage and facet, a table of every metric for every
facet value (values outside the metric's fair range highlighted), a bar chart of the
headline metrics, and a legend with each metric's meaning and fair range."""

from __future__ import annotations

from typing import Any

from mlyard.analysis.bias import methods
from mlyard.analysis.bias.clarify_json import value_as_float
from mlyard.reports import charts
from mlyard.reports.html import escape, heading, image, note, page, table

_OUTSIDE = "background:#fde2e1"
_HEADLINES = {"pre": ("CI", "DPL"), "post": ("DPPL", "DI")}
_STAGES = (("pre_training_bias_metrics", "pre", "Pre-training bias"),
           ("post_training_bias_metrics", "post", "Post-training bias"))


def _metric(name: str) -> methods.Metric:
    return methods.PRE_TRAINING.get(name) or methods.POST_TRAINING[name]


def _cell(entry: dict[str, Any]) -> str:
    if entry.get("error") is not None:
        return f"<span title='{escape(entry['error'])}'>n/a</span>"
    value = value_as_float(entry["value"])
    if value is None:
        return "n/a"
    fair = _metric(entry["name"]).fair
    text = escape(entry["value"]) if isinstance(entry["value"], str) else f"{value:.4f}"
    if fair is not None and not fair[0] <= value <= fair[1]:
        return f"<span style='{_OUTSIDE}' title='outside {fair[0]} .. {fair[1]}'>{text}</span>"
    return text


def _chart(facet: str, groups: list[dict[str, Any]], names: list[str]) -> str:
    shown = [n for n in names if any(
        e["name"] == n and e.get("error") is None for g in groups for e in g["metrics"])]
    if not shown or not groups:
        return ""
    labels = [charts.plain(str(g["value_or_threshold"]), 30) for g in groups]
    height = 0.9 + 0.28 * len(groups)
    fig = charts.new_figure(4.2 * len(shown), height)
    for k, name in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), k + 1)
        values = []
        for g in groups:
            entry = next((e for e in g["metrics"] if e["name"] == name), None)
            value = value_as_float(entry["value"]) if entry and entry.get("error") is None \
                else None
            values.append(0.0 if value is None or abs(value) == float("inf") else value)
        fair = _metric(name).fair
        colors = ["#c0392b" if fair and not fair[0] <= v <= fair[1] else "#4a7ebb"
                  for v in values]
        ax.barh(range(len(values)), values, color=colors)
        ax.set_yticks(range(len(values)))
        ax.set_yticklabels(labels if k == 0 else [""] * len(labels), fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="#666", linewidth=0.8)
        ax.set_title(charts.plain(name), fontsize=9)
    return image(charts.png(fig), f"{', '.join(shown)} per value of {facet}")


def _legend(names: list[str]) -> str:
    rows = []
    for name in names:
        m = _metric(name)
        fair = "" if m.fair is None else f"{m.fair[0]:g} .. {m.fair[1]:g}"
        rows.append([escape(m.name), escape(m.description), escape(m.meaning), escape(fair)])
    return table(["metric", "description", "meaning", "fair range (highlighted outside)"],
                 rows)


def render(analysis: dict[str, Any], summary: dict[str, Any]) -> str:
    """The report page of an ``analysis.json`` document."""
    sections = [note(f"{summary.get('rows', '?')} rows; label {summary.get('label')!s} "
                     "positive for " + str(summary.get("label_value_or_threshold", "")) +
                     ". Each facet value is compared with all the other rows: 'd' is the "
                     "group, 'a' the rest. Hover over n/a for the reason.")]
    for key, stage, title in _STAGES:
        section = analysis.get(key)
        if not section:
            continue
        sections.append(heading(title))
        all_names: list[str] = []
        for facet, groups in section["facets"].items():
            names = [e["name"] for e in groups[0]["metrics"]] if groups else []
            all_names = all_names or names
            sections.append(heading(f"{title}: facet {facet}", level=3))
            rows = [[escape(g["value_or_threshold"]), *(_cell(e) for e in g["metrics"])]
                    for g in groups]
            sections.append(table(["value or threshold", *names], rows))
            sections.append(_chart(facet, groups, [n for n in _HEADLINES[stage] if n in names]
                                   or names[:1]))
        sections.append(heading(f"{title}: the metrics", level=3))
        sections.append(_legend(all_names))
    return page("Bias report", [s for s in sections if s])
