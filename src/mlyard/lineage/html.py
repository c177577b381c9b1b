"""A lineage query as one self-contained HTML page: an inline SVG graph laid out left to
right in layers (upstream entities to the left of the start, downstream ones to the
right, one column per edge of distance), followed by the lineage table.

Every text from the graph (names, URIs, properties) is escaped; the page loads nothing
and runs no script, so it opens anywhere (and under the server's strict report policy).
"""

from __future__ import annotations

from collections import defaultdict

from mlyard.lineage.query import TABLE_COLUMNS, LineageResult
from mlyard.reports import escape, note, page, table

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 210, 46, 90, 18, 20
#: Fill colour of each lineage type's boxes.
COLOURS = {"Artifact": "#e8f1fb", "Action": "#fdf0e0", "Context": "#eef7ea",
           "TrialComponent": "#f3eafa"}
#: Most characters of a box's label line.
LABEL_CHARS = 30


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` cut in the middle to ``limit`` characters (URIs differ at both ends)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "\u2026" + text[len(text) - (limit - 1 - head):]


def svg(result: LineageResult) -> str:
    """The graph of ``result`` as an ``<svg>`` element."""
    layer = {result.start.id: 0}
    for step in result.steps:
        layer[step.entity.id] = -step.depth if step.direction == "Input" else step.depth
    columns: dict[int, list[str]] = defaultdict(list)
    for entity_id, index in layer.items():
        columns[index].append(entity_id)
    low = min(columns)
    height_rows = max(len(v) for v in columns.values())
    width = MARGIN * 2 + len(columns) * BOX_W + (len(columns) - 1) * GAP_X
    height = MARGIN * 2 + height_rows * BOX_H + (height_rows - 1) * GAP_Y
    where: dict[str, tuple[float, float]] = {}
    for index, ids in columns.items():
        top = MARGIN + (height_rows - len(ids)) * (BOX_H + GAP_Y) / 2
        for row, entity_id in enumerate(sorted(ids)):
            where[entity_id] = (MARGIN + (index - low) * (BOX_W + GAP_X),
                                top + row * (BOX_H + GAP_Y))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' aria-label='lineage graph'>",
             "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' "
             "markerWidth='7' markerHeight='7' orient='auto-start-reverse'>"
             "<path d='M0,0 L10,5 L0,10 z' fill='#777'/></marker></defs>"]
    for assoc in result.associations:
        up, down = assoc.flow()
        if up not in where or down not in where:
            continue
        (x1, y1), (x2, y2) = where[up], where[down]
        sx, sy, ex, ey = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
        if x2 <= x1:  # same column: connect bottom to top
            sx, sy, ex, ey = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
        parts.append(f"<line x1='{sx:.0f}' y1='{sy:.0f}' x2='{ex:.0f}' y2='{ey:.0f}' "
                     "stroke='#777' marker-end='url(#arrow)'>"
                     f"<title>{escape(assoc.association_type.value)}</title></line>")
        parts.append(f"<text x='{(sx + ex) / 2:.0f}' y='{(sy + ey) / 2 - 4:.0f}' "
                     "font-size='10' fill='#555' text-anchor='middle'>"
                     f"{escape(assoc.association_type.value)}</text>")
    entities = result.entities
    for entity_id, (x, y) in where.items():
        entity = entities[entity_id]
        start = entity_id == result.start.id
        fill = COLOURS.get(entity.lineage_type.value, "#f5f5f5")
        parts.append(
            f"<g><title>{escape(entity.id)}</title>"
            f"<rect x='{x:.0f}' y='{y:.0f}' width='{BOX_W}' height='{BOX_H}' rx='6' "
            f"fill='{fill}' stroke='{'#c0392b' if start else '#999'}' "
            f"stroke-width='{2 if start else 1}'/>"
            f"<text x='{x + 8:.0f}' y='{y + 18:.0f}' font-size='12' font-weight='bold'>"
            f"{escape(_short(entity.source))}</text>"
            f"<text x='{x + 8:.0f}' y='{y + 35:.0f}' font-size='11' fill='#555'>"
            f"{escape(entity.entity_type)} \u00b7 {escape(entity.lineage_type.value)}"
            "</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def render(result: LineageResult) -> str:
    """A complete HTML page: the graph and the lineage table of ``result``."""
    rows = [[escape(r[c]) for c in TABLE_COLUMNS] for r in result.rows()]
    start = result.start
    return page(f"Lineage of {start.source}", [
        note(f"{start.entity_type} {start.id} ({start.lineage_type.value}); "
             f"{result.direction}, at most {result.max_depth} edges away; "
             f"{len(result.steps)} entities reached."),
        f"<div style='overflow-x:auto'>{svg(result)}</div>",
        table(list(TABLE_COLUMNS), rows) if rows else note("Nothing reached."),
    ])
