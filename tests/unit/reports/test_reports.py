"""Unit tests of mlyard.reports: HTML pieces, charts and tables shared by every report."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

from mlyard.reports import (
    CSS,
    cell,
    escape,
    heading,
    image,
    jsonable,
    new_figure,
    note,
    page,
    plain,
    png,
    records_table,
    table,
    text_table,
    write_json,
)

WEIRD = '<b>&"x\'</b>'
ESCAPED = "&lt;b&gt;&amp;&quot;x&#x27;&lt;/b&gt;"


def test_escaping_pieces() -> None:
    assert escape(WEIRD) == ESCAPED
    assert note(WEIRD) == f"<p class='note'>{ESCAPED}</p>"
    assert heading(WEIRD) == f"<h2>{ESCAPED}</h2>"
    assert heading("Details", 3, anchor="rule-<x>") == "<h3 id='rule-&lt;x&gt;'>Details</h3>"
    with pytest.raises(ValueError, match="level"):
        heading("x", 7)


def test_table_escapes_header_not_cells() -> None:
    html = table([WEIRD, "b"], [["<i>1</i>", "2"]])
    assert html == (
        f"<table><thead><tr><th>{ESCAPED}</th><th>b</th></tr></thead>"
        "<tbody><tr><td><i>1</i></td><td>2</td></tr></tbody></table>"
    )
    headless = "<table><tbody><tr><td>k</td><td>v</td></tr></tbody></table>"
    assert table(None, [["k", "v"]]) == headless


def test_image_and_page() -> None:
    html = image(b"\x89PNG", WEIRD)
    assert html == f"<img src='data:image/png;base64,iVBORw==' alt='{ESCAPED}'>"
    doc = page(WEIRD, ["<p>one</p>", "<p>two</p>"])
    assert doc.startswith("<!DOCTYPE html>\n") and doc.endswith("</body></html>\n")
    assert f"<title>{ESCAPED}</title>" in doc and f"<h1>{ESCAPED}</h1>" in doc
    assert CSS in doc and "<p>one</p>\n<p>two</p>" in doc and WEIRD not in doc


def test_text_table_aligns_columns() -> None:
    # headers are left-aligned, the first column too, the other cells right-aligned
    out = text_table(["name", "n"], [["a", "1"], ["long name", "100"]])
    assert out.splitlines() == [
        "name       n",
        "---------  ---",
        "a            1",
        "long name  100",
    ]


class _Colour(Enum):
    RED = "red"


def test_jsonable_cell_and_records(tmp_path: Path) -> None:
    data = {1: [math.nan, math.inf, 1.5], "c": _Colour.RED, "p": Path("/x"), "t": (1, 2)}
    assert jsonable(data) == {"1": [None, None, 1.5], "c": "red", "p": "/x", "t": [1, 2]}
    assert cell(1 / 3) == "0.333333" and cell(None) == "" and cell({"a": "<"}) == (
        "{&quot;a&quot;: &quot;&lt;&quot;}"
    )
    html = records_table([{"a": 1}, {"b": 2.5, "a": None}, {"a": 3}], max_rows=2)
    assert "<th>a</th><th>b</th>" in html and html.count("<tr>") == 3 and "<td>3</td>" not in html
    path = tmp_path / "x.json"
    write_json(path, {"a": [1, 2]})
    assert path.read_text() == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'
    with pytest.raises(ValueError):
        write_json(path, {"a": math.nan})


def test_charts() -> None:
    assert plain("a$b\nc") == r"a\$b c"
    cut = plain("abcdefghij", 5)
    assert cut == "ab\u2026ij" and len(cut) == 5
    fig = new_figure(2.0, 1.5)
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    data = png(fig)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


def test_import_is_cheap() -> None:
    code = "import sys, mlyard.reports; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert result.stdout.strip() == "False"


def test_reports_json_round_trip() -> None:
    text = json.dumps(jsonable({"x": (1.0, float("-inf"))}), allow_nan=False)
    assert json.loads(text) == {"x": [1.0, None]}
