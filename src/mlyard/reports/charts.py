"""Chart helpers of mlyard's reports: a pyplot-free matplotlib figure, its PNG bytes, and
label text safe for matplotlib.

Figures are built with :class:`matplotlib.figure.Figure` on an explicit
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`, never through ``pyplot``: no GUI
backend, no global figure state, safe in worker threads and servers. matplotlib is imported
only when a figure is made, so importing this module stays cheap.

The plain look every report shares: 100 dpi, matplotlib's default style, and PNGs cropped to
their content (``bbox_inches="tight"``).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
"""The resolution of every report chart."""


def plain(text: str, limit: int | None = None) -> str:
    """``text`` safe for a matplotlib label: ``$`` escaped (no mathtext), newlines flattened,
    cut in the middle to ``limit`` characters (with an ellipsis)."""
    text = text.replace("\n", " ").replace("\r", " ")
    if limit is not None and len(text) > limit:
        # Keep both ends: labels often share a prefix and differ at the end.
        head = (limit - 1) // 2
        text = text[:head] + "\u2026" + text[len(text) - (limit - 1 - head) :]
    return text.replace("$", r"\$")


def new_figure(width: float, height: float) -> Figure:
    """A blank ``width`` x ``height`` inch figure on its own Agg canvas (see the module
    notes); add axes with ``fig.add_subplot(1, 1, 1)`` and encode it with :func:`png`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """``fig`` rendered as PNG bytes, cropped to its content."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
