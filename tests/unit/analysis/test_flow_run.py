"""Running flows: the exported script gives the same outputs as ``run_flow``, the ``flow``
analyzer writes its files and summary, and the course's flow gives the course's table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs, get_analyzer
from mlyard.analysis.flow import (
    FlowAnalyzer,
    FlowConfig,
    execute,
    export_python,
    load_flow,
    parse_flow,
    run_flow,
)
from mlyard.errors import ValidationError

ROOT = Path(__file__).resolve().parents[3]
COURSE_FLOW = ROOT / "examples" / "flows" / "reviews.flow.yaml"

FLOW = """\
version: 1
description: Every kind of step, for the export round trip
inputs: [reviews, extra]
steps:
  - input: reviews
  - rename: {Text: text, Stars: stars}
  - drop_missing: [text]
  - cast: {stars: float}
  - impute: {columns: [stars], strategy: median}
  - filter: {any: [{column: stars, op: '>=', value: 2}, {column: text, op: contains, value: ok}]}
  - map: {column: stars, values: {1.0: 0, 2.0: 0, 3.0: 1}, to: label, unmapped: 'null'}
  - impute: {columns: [label], strategy: constant, value: 2}
  - drop_rare: {column: category, at_most: 1}
  - lowercase: [text]
  - remove_punctuation: [text]
  - tokenize: {column: text, to: tokens}
  - ngrams: {column: tokens, n: 2, to: grams}
  - osb: {column: tokens, window: 3, to: osb}
  - quantile_bin: {column: stars, n: 3, to: stars_bin}
  - cartesian: {columns: [category, stars_bin]}
  - pandas: |
      df["length"] = df["text"].str.len()
  - sql: SELECT *, length * 2 AS double_length FROM df ORDER BY text, category, stars, label
  - scale: {columns: [length], method: minmax}
  - output: features
  - one_hot: [category]
  - drop: [tokens, grams, osb]
  - split: {fractions: {train: 0.6, validation: 0.2, test: 0.2}, stratify: [label], seed: 7}
  - input: extra
  - select: [k]
  - output: keys
"""


def fixture() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    words = ["good", "bad", "ok", "Great!", "meh,", "fine."]
    n = 60
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 6))) for _ in range(n)]
    texts[3] = None  # type: ignore[call-overload]
    stars = [str(int(s)) for s in rng.integers(1, 6, size=n)]
    stars[5] = None  # type: ignore[call-overload]
    category = rng.choice(["Dresses", "Tops", "Pants"], size=n).tolist()
    category[7] = "Rare"
    reviews = pd.DataFrame({"Text": texts, "Stars": stars, "category": category})
    return {"reviews": reviews, "extra": pd.DataFrame({"k": [1, 2], "v": ["a", "b"]})}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda v: list(v) if isinstance(v, np.ndarray) else v)


def test_export_round_trip(tmp_path: Path) -> None:
    doc = parse_flow(FLOW, "round.flow.yaml")
    frames = fixture()
    expected = run_flow(doc, frames)
    assert list(expected) == ["features", "train", "validation", "test", "keys"]
    assert sum(len(expected[n]) for n in ("train", "validation", "test")) == len(
        expected["features"])
    script = tmp_path / "prep.py"
    script.write_text(export_python(doc))
    source = script.read_text()
    assert "mlyard" not in source.replace("mlyard flow export", "")
    inputs = []
    for name, frame in frames.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        inputs += ["--input", f"{name}={tmp_path / f'{name}.csv'}"]
    for fmt in ("parquet", "csv"):
        out = tmp_path / f"out-{fmt}"
        done = subprocess.run([sys.executable, str(script), *inputs, "--output", str(out),
                               "--format", fmt], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{fmt}" for n in expected)
    # the same inputs as the script read them
    read = {name: pd.read_csv(tmp_path / f"{name}.csv") for name in frames}
    expected = run_flow(doc, read)
    for name, frame in expected.items():
        ours = tmp_path / f"ours-{name}.parquet"
        frame.to_parquet(ours, index=False)
        pd.testing.assert_frame_equal(_plain(pd.read_parquet(tmp_path / "out-parquet" /
                                                             f"{name}.parquet")),
                                      _plain(pd.read_parquet(ours)))
    # the analyzer's CSV files are byte-equal to the script's
    analyzer_out = tmp_path / "analyzer"
    analyzer_out.mkdir()
    FlowAnalyzer().run(FlowConfig(flow=FLOW), AnalysisInputs(read), analyzer_out)
    for name in expected:
        assert (analyzer_out / f"{name}.csv").read_bytes() == \
            (tmp_path / "out-csv" / f"{name}.csv").read_bytes()


def test_the_analyzer_writes_outputs_and_a_summary(tmp_path: Path) -> None:
    analyzer = get_analyzer("flow")
    config = analyzer.parse_config({"flow": FLOW, "source_name": "f.yaml",
                                    "output_format": "jsonl"})
    assert analyzer.input_names_for(config) == ("reviews", "extra")
    inputs = AnalysisInputs(fixture())
    analyzer.check(config, inputs)
    summary = analyzer.run(config, inputs, tmp_path)
    assert summary["outputs"]["keys"] == {"rows": 2, "columns": 1}
    written = json.loads((tmp_path / "flow_summary.json").read_text())
    assert [s["type"] for s in written["steps"]][:3] == ["input", "rename", "drop_missing"]
    assert written["steps"][2]["rows_in"] == 60 and written["steps"][2]["rows_out"] == 59
    assert all(s["seconds"] >= 0 for s in written["steps"])
    train = pd.read_json(tmp_path / "train.jsonl", lines=True)
    assert len(train) == next(o["rows"] for o in written["outputs"] if o["name"] == "train")
    with pytest.raises(ValidationError, match=r"f.yaml line 6: step 2 \(rename\): column"):
        analyzer.check(config, AnalysisInputs({"reviews": pd.DataFrame({"x": [1]}),
                                               "extra": pd.DataFrame({"k": [1]})}))
    with pytest.raises(ValidationError, match="input 'extra' is missing"):
        analyzer.check(config, AnalysisInputs({"reviews": fixture()["reviews"]}))
    with pytest.raises(ValidationError, match=r"f.yaml line 2: not valid YAML"):
        analyzer.input_names_for(analyzer.parse_config({"flow": "a: [\nb", "source_name":
                                                        "f.yaml"}))


def test_a_flow_without_outputs_gives_its_last_frame() -> None:
    doc = parse_flow("version: 1\ninputs: raw\nsteps:\n  - drop: [a]\n")
    assert doc.outputs == ("output",)
    result = execute(doc, {"raw": pd.DataFrame({"a": [1], "b": [2]})})
    assert list(result.outputs) == ["output"] and list(result.outputs["output"].columns) == ["b"]
    assert [s.rows_out for s in result.steps] == [1]
    with pytest.raises(ValidationError, match="input 'raw' is not given"):
        run_flow(doc, {})


ODD = r'''version: 1
description: 'C:\new \N """ '' \'
inputs: [r]
steps:
  - pandas: df['q'] = 'C:\\new'
'''


def test_the_export_survives_odd_text() -> None:
    doc = parse_flow(ODD, "odd\\path.yaml")
    namespace: dict[str, Any] = {}
    exec(compile(export_python(doc), "prep.py", "exec"), namespace)
    frames = {"r": pd.DataFrame({"a": [1]})}
    assert namespace["run"](frames)["output"]["q"][0] == "C:\\new"
    assert run_flow(doc, frames)["output"]["q"][0] == "C:\\new"


def test_the_course_flow_gives_the_course_table(tmp_path: Path, reviews_path: Path,
                                                course_reviews: pd.DataFrame) -> None:
    path = reviews_path
    doc = load_flow(COURSE_FLOW)
    out = run_flow(doc, {"raw": pd.read_csv(path)})["prepared"]
    expected = course_reviews
    assert len(out) == 22_626
    keys = ["review_body", "product_category", "sentiment"]
    pd.testing.assert_frame_equal(out.sort_values(keys).reset_index(drop=True),
                                  expected.sort_values(keys).reset_index(drop=True))
    script = tmp_path / "course.py"
    script.write_text(export_python(doc))
    done = subprocess.run([sys.executable, str(script), "--input", f"raw={path}", "--output",
                           str(tmp_path), "--format", "parquet"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "prepared.parquet"), out)
