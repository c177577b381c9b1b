"""How the A/B report writes numbers: rates in percent, latencies (held in microseconds) in
milliseconds, p-values to three significant digits; ``n/a`` for missing values."""

from __future__ import annotations


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f}%"


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1000:.3f}"


def p_value(value: float) -> str:
    return f"{value:.3g}"


def interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "n/a"
    return f"[{low * 100:.2f}%, {high * 100:.2f}%]"
