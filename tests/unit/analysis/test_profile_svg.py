"""The profile report's inline SVG charts: well-formed, escaped, one bar per value."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mlyard.analysis.profile import svg

HOSTILE = "<script>alert('x')</script> & \"quotes\""


def _bars(markup: str) -> list[ET.Element]:
    root = ET.fromstring(markup)  # well-formed XML, or this raises
    return [r for r in root.iter("rect") if r.find("title") is not None]


def test_bar_chart_escapes_labels_and_shows_negative_values() -> None:
    markup = svg.bars([HOSTILE, "b", "c"], [3, -1.5, float("nan")], HOSTILE)
    assert "<script" not in markup and "&lt;script&gt;" in markup
    bars = _bars(markup)
    assert len(bars) == 3
    width = {b.findtext("title", "").split(":")[0]: float(b.get("width", "0")) for b in bars}
    assert width["c"] == 0.5  # NaN drawn as zero
    assert 0 < width["b"] < width[svg.cut(HOSTILE)]
    assert float(bars[1].get("x", "0")) < float(bars[0].get("x", "0"))  # left of zero


def test_bar_chart_caps_bars_and_cuts_labels() -> None:
    markup = svg.bars([f"{'x' * 100}{i}" for i in range(50)], list(range(50)), "many")
    assert len(_bars(markup)) == svg.MAX_BARS
    assert "x" * 50 not in markup


def test_stacked_chart_has_a_bar_per_nonzero_cell() -> None:
    counts = {"Dresses": {"-1": 2, "1": 5}, "Tops": {"0": 1}, HOSTILE: {"1": 3}}
    markup = svg.stacked(counts, ["-1", "0", "1"], "counts")
    assert len(_bars(markup)) == 4 and "<script" not in markup


def test_histograms_of_numbers_and_dates() -> None:
    assert len(_bars(svg.histogram([0.0, 1.0, 2.5, 4.0], [3, 0, 7], "h", "x"))) == 3
    dates = svg.histogram(["2024-01-01", "2024-02-01", "2024-03-01"], [4, 1], "d", "when")
    assert len(_bars(dates)) == 2 and "2024-03-01" in dates


def test_ticks_are_round() -> None:
    assert svg.ticks(0, 17433) == [0, 5000, 10000, 15000]
    assert svg.ticks(-1.5, 3) == [-1, 0, 1, 2, 3]
    assert svg.ticks(2, 2) == [2]
