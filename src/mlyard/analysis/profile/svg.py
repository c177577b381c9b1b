"""The profile report's charts as inline SVG: horizontal bar charts (top values, class
counts, importances), stacked bar charts (counts by category and label) and histograms.

Why not matplotlib (:mod:`mlyard.reports.charts`, which the other reports use): these charts
are rectangles and labels, and matplotlib spent 0.2-0.35 s laying out and encoding each
PNG on a shared 2-core host - 18 charts, 4-5 s, a third of a profile of the reviews data
set. Writing the SVG takes about a millisecond per chart, and the page stays
self-contained (the ``<svg>`` elements are in the page: no file, script or link), with
text that stays sharp when zoomed and can be searched. Every string from the data is
escaped with :func:`mlyard.reports.html.escape`; labels are cut in the middle to
:data:`LABEL_CHARS` characters. Text widths are estimated (no font metrics), which a label
column sized by the longest label absorbs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from mlyard.reports.html import escape

#: Width of every chart, pixels.
WIDTH = 640
#: Labels are cut to this many characters.
LABEL_CHARS = 40
#: Bars shown per bar chart.
MAX_BARS = 30
FONT = 12
#: Estimated width of a character at :data:`FONT` pixels.
CHAR_PX = 7.0
BAR = 18
GAP = 4
COLOR = "#4c72b0"
PALETTE = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3",
           "#8c8c8c", "#ccb974", "#64b5cd")


def cut(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` on one line, cut in the middle to ``limit`` characters (ellipsis)."""
    text = text.replace("\n", " ").replace("\r", " ")
    if len(text) > limit:
        head = (limit - 1) // 2
        text = text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]
    return text


def number(value: float) -> str:
    """A short label for a number: thousands separators for whole numbers, else 3
    significant digits."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"


def ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values (1, 2 or 5 times a power of ten apart) covering
    ``[low, high]``."""
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [low]
    raw = span / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9)
    return [round(i * step, 12) for i in range(first, math.floor(high / step + 1e-9) + 1)]


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = FONT,
          extra: str = "") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}'"
            f"{extra}>{escape(text)}</text>")


def _svg(height: float, title: str, body: list[str]) -> str:
    return (f"<svg role='img' width='{WIDTH}' "
            f"height='{height:.0f}' viewBox='0 0 {WIDTH} {height:.0f}' "
            "style='max-width:100%;height:auto;font-family:sans-serif' "
            f"aria-label='{escape(title)}'><title>{escape(title)}</title>"
            + _text(WIDTH / 2, 16, cut(title, 90), "middle", FONT + 1,
                    " font-weight='bold'") + "".join(body) + "</svg>")


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) if math.isfinite(float(v)) else 0.0 for v in values]


def _x_axis(left: float, right: float, low: float, high: float, top: float,
            bottom: float, label: str) -> tuple[list[str], float]:
    """Grid lines, tick labels and the axis label of a horizontal value axis; returns the
    parts and the y below them."""
    scale = (right - left) / (high - low) if high > low else 0.0
    parts = []
    for t in ticks(low, high):
        x = left + (t - low) * scale
        parts.append(f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top:.1f}' y2='{bottom:.1f}' "
                     "stroke='#ddd'/>")
        parts.append(_text(x, bottom + 14, number(t), "middle", FONT - 2))
    parts.append(_text((left + right) / 2, bottom + 30, cut(label, 60), "middle"))
    return parts, bottom + 38


def bars(labels: Sequence[str], values: Sequence[float], title: str,
         xlabel: str = "count") -> str:
    """A horizontal bar chart of the first :data:`MAX_BARS` ``values`` (negative values
    extend left of zero), labelled with ``labels`` and each bar's value."""
    names = [cut(str(x)) for x in labels[:MAX_BARS]]
    vals = _finite(values[:MAX_BARS])
    low, high = min(0.0, *vals) if vals else 0.0, max(0.0, *vals) if vals else 1.0
    if high == low:
        high = low + 1.0
    left = 10 + CHAR_PX * max((len(n) for n in names), default=1)
    right = WIDTH - 70
    scale = (right - left) / (high - low)
    zero = left + (0.0 - low) * scale
    top = 28.0
    bottom = top + len(vals) * (BAR + GAP)
    axis, height = _x_axis(left, right, low, high, top, bottom, xlabel)
    parts = list(axis)
    for i, (name, value) in enumerate(zip(names, vals, strict=True)):
        y = top + i * (BAR + GAP)
        x0, x1 = sorted((zero, zero + value * scale))
        parts.append(f"<rect x='{x0:.1f}' y='{y:.1f}' width='{max(x1 - x0, 0.5):.1f}' "
                     f"height='{BAR}' fill='{COLOR}'><title>{escape(name)}: "
                     f"{escape(number(value))}</title></rect>")
        parts.append(_text(left - 6, y + BAR - 5, name, "end"))
        parts.append(_text(x1 + 4, y + BAR - 5, number(value), "start", FONT - 2))
    parts.append(f"<line x1='{zero:.1f}' x2='{zero:.1f}' y1='{top:.1f}' "
                 f"y2='{bottom:.1f}' stroke='#333'/>")
    return _svg(height, title, parts)


def stacked(counts: dict[str, dict[str, int]], labels: Sequence[str], title: str) -> str:
    """Counts by category and label: one horizontal bar per category (the
    :data:`MAX_BARS` largest), stacked by label, with a legend."""
    cats = sorted(counts, key=lambda c: -sum(counts[c].values()))[:MAX_BARS]
    names = [cut(c) for c in cats]
    totals = [sum(counts[c].get(lab, 0) for lab in labels) for c in cats]
    high = float(max(totals, default=0)) or 1.0
    left = 10 + CHAR_PX * max((len(n) for n in names), default=1)
    right = WIDTH - 70
    scale = (right - left) / high
    legend = [cut(str(lab), 20) for lab in labels]
    parts: list[str] = []
    x = left
    for j, name in enumerate(legend):  # legend row under the title
        color = PALETTE[j % len(PALETTE)]
        parts.append(f"<rect x='{x:.1f}' y='26' width='10' height='10' fill='{color}'/>")
        parts.append(_text(x + 14, 35, name, "start", FONT - 1))
        x += 24 + CHAR_PX * len(name)
    top = 44.0
    bottom = top + len(cats) * (BAR + GAP)
    axis, height = _x_axis(left, right, 0.0, high, top, bottom, "count")
    parts.extend(axis)
    for i, (cat, name) in enumerate(zip(cats, names, strict=True)):
        y = top + i * (BAR + GAP)
        x = left
        for j, lab in enumerate(labels):
            n = counts[cat].get(lab, 0)
            if n:
                parts.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{n * scale:.1f}' "
                             f"height='{BAR}' fill='{PALETTE[j % len(PALETTE)]}'><title>"
                             f"{escape(name)}, {escape(cut(str(lab), 20))}: {n:,}</title>"
                             "</rect>")
                x += n * scale
        parts.append(_text(left - 6, y + BAR - 5, name, "end"))
        parts.append(_text(x + 4, y + BAR - 5, number(totals[i]), "start", FONT - 2))
    return _svg(height, title, parts)


def histogram(edges: Sequence[float | str], counts: Sequence[int], title: str,
              xlabel: str) -> str:
    """A histogram: one bar per bin between consecutive ``edges`` (numbers; or date
    strings, then bins by position with the first and last edge labelled)."""
    left, right, top, bottom = 56.0, WIDTH - 20.0, 28.0, 208.0
    high = float(max(counts, default=0)) or 1.0
    yscale = (bottom - top) / high
    dates = bool(edges) and isinstance(edges[0], str)
    nums = [float(i) for i in range(len(counts) + 1)] if dates else [float(e) for e in edges]  # type: ignore[arg-type]
    low_x, high_x = nums[0], nums[-1]
    xscale = (right - left) / (high_x - low_x) if high_x > low_x else 0.0
    parts = []
    for t in ticks(0.0, high, 4):
        y = bottom - t * yscale
        parts.append(f"<line x1='{left}' x2='{right}' y1='{y:.1f}' y2='{y:.1f}' "
                     "stroke='#ddd'/>")
        parts.append(_text(left - 4, y + 4, number(t), "end", FONT - 2))
    for (a, b), n, (ea, eb) in zip(itertools.pairwise(nums), counts,
                                   itertools.pairwise(edges), strict=True):
        x0, x1 = left + (a - low_x) * xscale, left + (b - low_x) * xscale
        tip = (f"{ea} to {eb}" if dates else f"{number(float(ea))} to {number(float(eb))}")
        parts.append(f"<rect x='{x0:.1f}' y='{bottom - n * yscale:.1f}' "
                     f"width='{max(x1 - x0 - 1, 0.5):.1f}' height='{n * yscale:.1f}' "
                     f"fill='{COLOR}'><title>{escape(tip)}: {n:,}</title></rect>")
    if dates:
        marks = [(left, cut(str(edges[0]), 19), "start"),
                 (right, cut(str(edges[-1]), 19), "end")]
    else:
        marks = [(left + (t - low_x) * xscale, number(t), "middle")
                 for t in ticks(low_x, high_x, 6)]
    parts.extend(_text(x, bottom + 14, text, anchor, FONT - 2) for x, text, anchor in marks)
    parts.append(f"<line x1='{left}' x2='{right}' y1='{bottom}' y2='{bottom}' "
                 "stroke='#333'/>")
    parts.append(_text((left + right) / 2, bottom + 30, cut(xlabel, 60), "middle"))
    parts.append(_text(14, (top + bottom) / 2, "rows", "middle", FONT,
                       f" transform='rotate(-90 14 {(top + bottom) / 2:.1f})'"))
    return _svg(bottom + 38, title, parts)
