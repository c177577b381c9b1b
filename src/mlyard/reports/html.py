"""HTML building blocks of mlyard's reports: escaping, tables, embedded images, notes,
headings and the page that holds them.

Every report (evaluation, profiler, tuning, A/B test) is one self-contained page: no
external style sheet, script or image, so it can be mailed or archived as a single file.
The pieces are plain strings; :func:`page` joins them under one style sheet (:data:`CSS`).

Escaping contract: functions that take *text* (:func:`escape`, :func:`note`, :func:`heading`,
the ``header`` of :func:`table`, ``alt`` of :func:`image`, ``title`` of :func:`page`) escape it;
table *cells* and page *sections* are HTML already, and callers escape the user strings in
them with :func:`escape`. :mod:`html` of the standard library does the escaping; the rest is
string assembly, for which a template engine would add a dependency and no safety.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}.note{color:#666}
img{max-width:100%;height:auto;border:1px solid #eee}
"""
"""The one style sheet of every report page."""


def escape(value: object) -> str:
    """``str(value)`` with ``& < > " '`` escaped, safe in element text and quoted
    attributes."""
    return html.escape(str(value), quote=True)


def table(header: Sequence[str] | None, rows: Sequence[Sequence[str]]) -> str:
    """An HTML table. ``header`` (column names, or None for a headless key/value table) is
    escaped here; the cells of ``rows`` are HTML and must be escaped by the caller."""
    head = ""
    if header is not None:
        head = "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` embedding ``png`` as a base64 data URL, with ``alt`` text."""
    data = base64.b64encode(png).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' alt='{escape(alt)}'>"


def note(text: str) -> str:
    """A grey explanatory paragraph (``<p class='note'>``) holding ``text``, escaped."""
    return f"<p class='note'>{escape(text)}</p>"


def heading(text: str, level: int = 2, anchor: str | None = None) -> str:
    """An ``<h2>`` (or ``<h{level}>``) of ``text``, escaped; ``anchor`` becomes its ``id`` so
    that ``<a href='#anchor'>`` links to it."""
    if not 1 <= level <= 6:
        raise ValueError(f"a heading level is 1 to 6, got {level}")
    ident = "" if anchor is None else f" id='{escape(anchor)}'"
    return f"<h{level}{ident}>{escape(text)}</h{level}>"


def page(title: str, sections: Sequence[str]) -> str:
    """A complete HTML document titled ``title`` (escaped, also its ``<h1>``) holding
    ``sections`` (HTML) one per line, styled by :data:`CSS`."""
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>\n" + "\n".join(sections) + "\n</body></html>\n"
    )
