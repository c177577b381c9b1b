"""The profile's self-contained HTML report, built from the JSON summary alone.

Sections: overview (rows, sample, columns, duplicates, warnings), the target (class counts
chart, counts by category and label), one section per column (statistics and a chart:
histogram, top values or text-length histogram), correlations, target leakage and the quick
model. Charts are inline SVG elements (:mod:`mlyard.analysis.profile.svg`, which says why
not matplotlib PNGs); every string from the data goes through
:func:`mlyard.reports.html.escape` (a review can hold ``<script>``), in charts too.
"""

from __future__ import annotations

from typing import Any

from mlyard.analysis.profile import svg
from mlyard.reports.html import escape, heading, note, page, table
from mlyard.reports.tables import cell


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return escape(f"{value:,.4g}")
    if isinstance(value, int) and not isinstance(value, bool):
        return escape(f"{value:,}")
    return cell(value)


def _kv(rows: list[tuple[str, Any]]) -> str:
    return table(None, [[escape(k), _fmt(v)] for k, v in rows])


def _overview(s: dict[str, Any]) -> str:
    sample = s["sample"]
    sampled = (f"a seeded sample of {sample['size']:,} of {sample['total_rows']:,} rows "
               f"(seed {sample['seed']})" if sample["sampled"]
               else f"all {sample['total_rows']:,} rows")
    kinds: dict[str, int] = {}
    for kind in s["kinds"].values():
        kinds[kind] = kinds.get(kind, 0) + 1
    rows = [("rows", s["rows"]), ("rows profiled", s["sampled_rows"]),
            ("columns", s["columns"]),
            ("column kinds", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))),
            ("duplicate rows", s["duplicate_rows"]),
            ("seconds", s.get("seconds", 0.0))]
    parts = [heading("Overview", anchor="overview"),
             note(f"Every figure is computed on {sampled}."), _kv(rows)]
    if s["warnings"]:
        parts.append(heading("Warnings", 3))
        parts.append("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in s["warnings"])
                     + "</ul>")
    parts.extend(note(n) for n in s.get("notes", []))
    return "\n".join(parts)


def _target(s: dict[str, Any]) -> str:
    t = s["target"]
    if t is None:
        return ""
    parts = [heading(f"Target: {t['name']}", anchor="target"),
             note(f"{t['task']}; {t['missing']:,} row(s) without a target value are left out "
                  "of the target sections.")]
    if t["task"] == "classification":
        counts = t["class_counts"]
        parts.append(table(["class", "rows", "share"],
                           [[escape(k), _fmt(v), escape(f"{t['shares'][k]:.1%}")]
                            for k, v in counts.items()]))
        parts.append(_kv([("imbalance ratio (largest / smallest class)",
                           t["imbalance_ratio"]),
                          ("majority class", t["majority_class"]),
                          ("majority share", t["majority_share"])]))
        parts.append(svg.bars(list(counts), list(counts.values()),
                              f"class counts of {t['name']}"))
        for col, by in t.get("by_category", {}).items():
            title = f"counts of {col} by {t['name']}"
            parts.append(heading(title, 3))
            parts.append(svg.stacked(by, list(counts), title))
    else:
        parts.append(_kv(list(t.get("statistics", {}).items())))
    return "\n".join(parts)


def _column(p: dict[str, Any], index: int) -> str:
    name = p["name"]
    parts = [heading(f"{name} ({p['kind']})", anchor=f"col-{index}")]
    rows: list[tuple[str, Any]] = [
        ("kind", p["kind"]), ("dtype", p["dtype"]), ("values", p["count"]),
        ("missing", f"{p['missing']:,} ({p['missing_share']:.1%})"),
        ("invalid", p["invalid"]), ("distinct", p["distinct"])]
    rows.extend((k, v) for k, v in p.get("numeric", {}).items())
    if "datetime" in p:
        rows.extend(p["datetime"].items())
    chart = ""
    if "histogram" in p and p["histogram"]["counts"]:
        chart = svg.histogram(p["histogram"]["edges"], p["histogram"]["counts"],
                              f"histogram of {name}", name)
    if "top_values" in p:
        top = p["top_values"]
        rows.append(("other values (count)", p["other_count"]))
        chart = svg.bars([t["value"] for t in top], [t["count"] for t in top],
                         f"counts by {name}")
    if "text" in p:
        txt = p["text"]
        for what in ("words", "characters"):
            for k in ("mean", "median", "min", "max", "p95"):
                if k in txt[what]:
                    rows.append((f"{what} per value: {k}", txt[what][k]))
        rows.append(("vocabulary size (tokens)", txt["vocabulary_size"]))
        rows.append(("empty values", txt["empty"]))
        if txt["word_histogram"]["counts"]:
            chart = svg.histogram(txt["word_histogram"]["edges"],
                                  txt["word_histogram"]["counts"],
                                  f"length of {name} in words", "words")
    parts.append(_kv(rows))
    if "top_values" in p:
        parts.append(table(["value", "count"], [[escape(t["value"]), _fmt(t["count"])]
                                                for t in p["top_values"]]))
    if "text" in p:
        for key, label in (("top_tokens_no_stop_words", "top tokens (no stop words)"),
                           ("top_tokens", "top tokens")):
            toks = p["text"][key]
            if toks:
                parts.append(table([label, "count"], [[escape(t["token"]), _fmt(t["count"])]
                                                      for t in toks]))
    if p["warnings"]:
        parts.append("<ul>" + "".join(f"<li>{escape(w)}</li>" for w in p["warnings"])
                     + "</ul>")
    parts.append(chart)
    return "\n".join(parts)


def _matrix(names: list[str], matrix: list[list[Any]]) -> str:
    return table(["", *names], [[escape(n), *(_fmt(v) for v in row)]
                                for n, row in zip(names, matrix, strict=True)])


def _correlations(s: dict[str, Any]) -> str:
    c = s["correlations"]
    parts = [heading("Correlations", anchor="correlations")]
    if c.get("pearson"):
        parts += [heading("Pearson", 3), _matrix(c["columns"], c["pearson"]),
                  heading("Spearman", 3), _matrix(c["columns"], c["spearman"])]
    else:
        parts.append(note("Fewer than two number columns: no correlation matrix."))
    if c.get("cramers_v"):
        parts += [heading("Cramér's V with the target", 3),
                  table(["column", "Cramér's V"],
                        [[escape(k), _fmt(v)] for k, v in c["cramers_v"].items()])]
    return "\n".join(parts)


def _leakage(s: dict[str, Any]) -> str:
    leak = s["leakage"]
    if leak is None:
        return ""
    metric = "ROC AUC" if leak["metric"] == "roc_auc" else "R²"
    rows = [[escape(r["column"]), escape(r["kind"]), _fmt(r["score"]),
             "<b>possible leakage</b>" if r["possible_leakage"] else ""]
            for r in leak["features"]]
    return "\n".join([
        heading("Target leakage", anchor="leakage"),
        note(f"Each feature's own predictive power: the cross-validated {metric} of a "
             f"one-feature model. At or above {leak['threshold']} a feature is flagged: it "
             "may be derived from the target and absent at prediction time."),
        table(["column", "kind", metric, ""], rows)])


def _quick(s: dict[str, Any]) -> str:
    q = s["quick_model"]
    if q is None:
        return ""
    rows = [("model", q["model"]), ("folds", q["folds"]), ("rows", q["rows"])]
    for k, v in q["scores"].items():
        rows.append((f"{k} (cross-validated)", v))
        rows.append((f"{k} of the {q['baseline']} baseline", q["baseline_scores"][k]))
    imp = q["importances"]
    return "\n".join([
        heading("Quick model", anchor="quick-model"), _kv(rows),
        note(f"Importance: {q['importance_method']}."),
        table(["column", "importance"], [[escape(r["column"]), _fmt(r["importance"])]
                                         for r in imp]),
        svg.bars([r["column"] for r in imp], [r["importance"] for r in imp],
                 "quick model feature importance", f"drop in {q['metric']}")])


def render(summary: dict[str, Any]) -> str:
    """The report page of a :func:`~mlyard.analysis.profile.profile_frame` summary."""
    toc = " · ".join(f"<a href='#col-{i}'>{escape(p['name'])}</a>"
                     for i, p in enumerate(summary["column_profiles"]))
    sections = [_overview(summary), _target(summary),
                heading("Columns", anchor="columns"), f"<p>{toc}</p>",
                *(_column(p, i) for i, p in enumerate(summary["column_profiles"])),
                _correlations(summary), _leakage(summary), _quick(summary)]
    return page(summary["title"], [x for x in sections if x])
