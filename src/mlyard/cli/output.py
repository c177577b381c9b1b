"""Plain-text tables, value formatting and ``--json`` output for the CLI."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def fmt(value: Any) -> str:
    """A cell: floats to 4 significant places, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def fmt_time(ts: float | None) -> str:
    """A Unix time as local ``YYYY-MM-DD HH:MM:SS``."""
    if ts is None:
        return "-"
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An aligned text table."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def json_option(f: F) -> F:
    """``--json``: print the command's result as JSON instead of a table (every list and
    describe command takes it, so scripts need no table parsing)."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print JSON instead of a table.")(f)


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (times as numbers, other objects as strings)."""
    click.echo(json.dumps(value, indent=2, default=str))
