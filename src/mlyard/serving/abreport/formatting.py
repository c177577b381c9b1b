"""How the A/B report writes numbers: rates in percent, latencies (held in microseconds) in
milliseconds, p-values to three significant digits; ``n/a`` for missing values."""

from __future__ import annotations


def pct(value: float | None) -> str:
    """A rate as a percentage with two decimals (``0.1234`` -> ``12.34%``)."""
    return "n/a" if value is None else f"{value * 100:.2f}%"


def ms(value: float | None) -> str:
    """Microseconds as milliseconds with three decimals."""
    return "n/a" if value is None else f"{value / 1000:.3f}"


def p_value(value: float) -> str:
    """A p-value to three significant digits."""
    return f"{value:.3g}"


def interval(low: float | None, high: float | None) -> str:
    """An interval of rates as ``[low%, high%]``."""
    if low is None or high is None:
        return "n/a"
    return f"[{low * 100:.2f}%, {high * 100:.2f}%]"
