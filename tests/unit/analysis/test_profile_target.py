"""Target balance, leakage, the quick model, the report and bad input of the data profile."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs, get_analyzer
from mlyard.analysis.profile import ProfileAnalyzer, ProfileConfig, profile_frame
from mlyard.errors import ValidationError

HOSTILE = "<script>alert('x')</script>"


def _learnable(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    label = np.where(x1 + 0.5 * x2 + rng.normal(scale=0.5, size=n) > 0.6, "yes", "no")
    noise = rng.random(n) < 0.02  # the leaking column: the label with 2% flipped
    leak = np.where(noise, np.where(label == "yes", "no", "yes"), label)
    return pd.DataFrame({"x1": x1, "x2": x2, "random": rng.normal(size=n),
                         "color": rng.choice(["red", "green", "blue"], size=n),
                         "leak": leak, "label": label})


def test_balance_leakage_and_quick_model() -> None:
    lines: list[str] = []
    summary = profile_frame(_learnable(), ProfileConfig(target="label", cv_folds=3),
                            progress=lines.append)
    target = summary["target"]
    counts = target["class_counts"]
    assert sum(counts.values()) == 600 and set(counts) == {"no", "yes"}
    assert target["imbalance_ratio"] == pytest.approx(max(counts.values()) / min(counts.values()))
    leak = {r["column"]: r for r in summary["leakage"]["features"]}
    assert leak["leak"]["possible_leakage"] and leak["leak"]["score"] > 0.95
    assert not leak["random"]["possible_leakage"] and leak["random"]["score"] < 0.65
    assert not leak["color"]["possible_leakage"]
    assert any("leak: possible target leakage" in w for w in summary["warnings"])
    quick = summary["quick_model"]
    assert quick["scores"]["accuracy"] > quick["baseline_scores"]["accuracy"] + 0.1
    assert quick["score"] > quick["baseline_score"]
    assert quick["importances"][0]["column"] in {"leak", "x1"}
    assert "quick model fold 2/3" in lines
    assert "profiling column 5/6 leak" in lines
    assert set(summary["correlations"]["columns"]) == {"x1", "x2", "random"}
    assert summary["correlations"]["cramers_v"]["leak"] > 0.8


def test_text_quick_model_beats_the_baseline() -> None:
    rng = np.random.default_rng(1)
    good, bad = ["great", "love", "perfect", "soft"], ["awful", "returned", "tight", "cheap"]
    y = rng.integers(0, 2, size=400)
    texts = [" ".join(rng.choice(good if v else bad, size=4)) + " " +
             " ".join(rng.choice(good + bad, size=3)) for v in y]
    frame = pd.DataFrame({"review": texts, "stars": rng.normal(size=400), "y": y})
    summary = profile_frame(frame, ProfileConfig(target="y"))
    assert summary["kinds"]["review"] == "text"
    quick = summary["quick_model"]
    assert quick["model"].startswith("linear")
    assert quick["scores"]["accuracy"] > 0.9 > quick["baseline_scores"]["accuracy"]
    assert quick["importances"][0]["column"] == "review"


def test_regression_target() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=300)
    frame = pd.DataFrame({"x": x, "noise": rng.normal(size=300),
                          "price": 3 * x + rng.normal(scale=0.3, size=300)})
    summary = profile_frame(frame, ProfileConfig(target="price"))
    assert summary["target"]["task"] == "regression"
    leak = {r["column"]: r["score"] for r in summary["leakage"]["features"]}
    assert leak["x"] > 0.8 and leak["noise"] < 0.1
    assert summary["quick_model"]["score"] > 0.8


def test_analyzer_writes_a_self_contained_escaped_report(tmp_path: Path) -> None:
    frame = _learnable(200)
    frame["note"] = [f"{HOSTILE} review number {i} with words" for i in range(200)]
    frame.loc[0, "color"] = HOSTILE
    frame = frame.rename(columns={"random": "<b>col</b>"})
    analyzer = get_analyzer("profile")
    assert isinstance(analyzer, ProfileAnalyzer)
    config = analyzer.parse_config({"target": "label", "title": HOSTILE, "sample_size": 150})
    inputs = AnalysisInputs(frames={"data": frame})
    analyzer.check(config, inputs)
    started = time.perf_counter()
    result = analyzer.run(config, inputs, tmp_path)
    assert time.perf_counter() - started < 30
    assert result["rows"] == 200 and result["sampled_rows"] == 150
    assert result["columns"] == 7 and result["possible_leakage"] == ["leak"]
    assert result["quick_model_metric"] == "macro_f1"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<b>col</b>" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"""(src|href)\s*=\s*['"]?\s*(https?:)?//""", html, re.IGNORECASE)
    assert html.count("<svg ") >= 7 and "data:image" not in html
    assert "150 of 200 rows" in html
    for section in ("Overview", "Target leakage", "Quick model", "Correlations",
                    "counts of color by label"):
        assert section in html
    data = json.loads((tmp_path / "profile.json").read_text(encoding="utf-8"))
    assert data["sample"]["size"] == 150 and data["sample"]["total_rows"] == 200
    assert data["target"]["labelled_rows"] == 150


@pytest.mark.parametrize(("frame", "config", "message"), [
    (pd.DataFrame({"a": [1, 2]}), {"target": "label"}, "target column 'label' is not in the "
                                                      "data; it has ['a']"),
    (pd.DataFrame({"a": [1, 2]}), {"sample_size": 0}, "sample_size must be at least 1"),
    (pd.DataFrame({"a": []}), {}, "the data is empty: it has no rows"),
    (pd.DataFrame(), {}, "the data is empty: it has no columns"),
    (pd.DataFrame({"a": [1, 2]}), {"cv_folds": 1}, "cv_folds must be at least 2"),
    (pd.DataFrame({"a": [1, 2], "t": [None, None]}), {"target": "t"}, "'t' has no values"),
    (pd.DataFrame({"a": [1, 2]}), {"text_columns": ["body"]}, "text column 'body'"),
])
def test_bad_input_is_refused(frame: pd.DataFrame, config: dict[str, object],
                              message: str) -> None:
    analyzer = ProfileAnalyzer()
    with pytest.raises(ValidationError, match=re.escape(message)):
        analyzer.check(analyzer.parse_config(config), AnalysisInputs(frames={"data": frame}))


def test_bad_config_and_text_target() -> None:
    with pytest.raises(ValidationError, match="unknown_field"):
        ProfileAnalyzer().parse_config({"unknown_field": 1})
    frame = pd.DataFrame({"body": [f"a long review text number {i}" for i in range(30)],
                          "x": range(30)})
    with pytest.raises(ValidationError, match="'body' looks like text"):
        profile_frame(frame, ProfileConfig(target="body"))


def test_single_class_target_skips_the_model() -> None:
    frame = pd.DataFrame({"x": range(20), "y": ["a"] * 20})
    summary = profile_frame(frame, ProfileConfig(target="y"))
    assert summary["target"]["class_counts"] == {"a": 20}
    assert summary["quick_model"] is None and summary["leakage"] is None
    assert any("single class" in n for n in summary["notes"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_model_scores_equal_scikit_learn(seed: int) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    from mlyard.analysis.profile.quick_model import _scores

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, size=200)
    pred = np.where(rng.random(200) < 0.6, y, rng.integers(0, 3 + seed, size=200))
    for p in (pred, np.zeros(200, dtype=np.int64)):  # the second predicts a single class
        got = _scores(y, p, "classification")
        assert got["macro_f1"] == pytest.approx(f1_score(y, p, average="macro",
                                                         zero_division=0), abs=1e-12)
        assert got["accuracy"] == pytest.approx(accuracy_score(y, p), abs=1e-12)
