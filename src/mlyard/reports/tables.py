"""Tables of mlyard's reports: a fixed-width text table for terminals, an HTML table of
records with heterogeneous keys, and JSON-safe values for report files.

These complement :func:`mlyard.reports.html.table`, which lays out cells the caller has
already formatted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from mlyard.reports.html import escape, table


def text_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: ``head``, a rule of dashes, then ``rows``; the first column is
    left-aligned, the others right-aligned, columns two spaces apart, no trailing blanks."""
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join
    out = [line(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append(line("-" * w for w in widths))
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        out.append(line(cells))
    return "\n".join(x.rstrip() for x in out)


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None, enums as their value, tuples and sets as
    lists, mapping keys as strings and other objects (paths, ...) as strings: safe for
    ``json.dumps(allow_nan=False)``."""
    if isinstance(value, Enum):
        return jsonable(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def cell(value: Any) -> str:
    """A value as an escaped table cell: floats to 6 significant digits, mappings and lists
    as compact JSON (see :func:`jsonable`), None as empty."""
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    if isinstance(value, dict | list):
        return escape(json.dumps(jsonable(value)))
    return escape("" if value is None else value)


def records_table(
    records: Sequence[Mapping[str, Any]],
    max_rows: int | None = None,
    format_cell: Callable[[Any], str] = cell,
) -> str:
    """An HTML table of ``records``: one column per key, in order of first appearance over
    all records (a record lacking a key gets an empty cell), at most ``max_rows`` rows, each
    value formatted by ``format_cell``."""
    header: list[str] = []
    for record in records:
        header.extend(k for k in record if k not in header)
    shown = records if max_rows is None else records[:max_rows]
    return table(header, [[format_cell(r.get(k)) for k in header] for r in shown])


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` as indented UTF-8 JSON with a final newline; NaN and
    infinities are refused (pass the data through :func:`jsonable` first to map them to
    null)."""
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
