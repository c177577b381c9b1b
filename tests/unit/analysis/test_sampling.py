"""Balancing and stratified splits: hand-made cases, bad input, and the course's figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs, get_analyzer
from mlyard.analysis.sampling import BalanceAnalyzer, BalanceConfig, balance, stratified_split
from mlyard.errors import ValidationError


def frame() -> pd.DataFrame:
    return pd.DataFrame({"g": ["a"] * 6 + ["b"] * 3 + ["c"] * 4,
                         "h": [0, 1] * 6 + [0],
                         "x": range(13)})


def test_balance_downsamples_to_the_smallest_group() -> None:
    out = balance(frame(), ["g"], seed=1)
    assert out["g"].value_counts().to_dict() == {"a": 3, "b": 3, "c": 3}
    assert set(out["x"]) <= set(range(13)) and out["x"].is_unique
    assert set(out[out.g == "b"]["x"]) == {6, 7, 8}  # the smallest group is kept whole
    pd.testing.assert_frame_equal(out, balance(frame(), ["g"], seed=1))
    assert not out.equals(balance(frame(), ["g"], seed=2))
    two = balance(frame(), ["g", "h"], seed=0)
    assert two.groupby(["g", "h"]).size().tolist() == [1] * 6


def test_balance_with_n_per_group() -> None:
    out = balance(frame(), "g", n_per_group=2)  # type: ignore[arg-type]
    assert out["g"].value_counts().to_dict() == {"a": 2, "b": 2, "c": 2}
    with pytest.raises(ValidationError, match=r"fewer than 4 rows: g=b \(3 rows\)"):
        balance(frame(), ["g"], n_per_group=4)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"by": ["nope"]}, r"column\(s\) \['nope'\] not in the data"),
    ({"by": []}, "at least one column"),
    ({"by": ["g"], "n_per_group": 0}, "positive integer"),
    ({"by": ["g"], "n_per_group": -2}, "positive integer"),
])
def test_balance_refuses_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        balance(frame(), **kwargs)


def test_balance_refuses_an_empty_frame() -> None:
    with pytest.raises(ValidationError, match="no rows"):
        balance(frame().iloc[:0], ["g"])


def test_stratified_split() -> None:
    data = pd.DataFrame({"y": [0] * 10 + [1] * 10, "x": range(20)})
    train, test = stratified_split(data, ["y"], [0.8, 0.2], seed=5)
    assert train["y"].value_counts().to_dict() == {0: 8, 1: 8}
    assert test["y"].value_counts().to_dict() == {0: 2, 1: 2}
    assert sorted([*train.x, *test.x]) == list(range(20))
    again = stratified_split(data, ["y"], [0.8, 0.2], seed=5)
    pd.testing.assert_frame_equal(train, again[0])
    parts = stratified_split(data, None, [0.5, 0.25, 0.25], seed=0)
    assert [len(p) for p in parts] == [10, 5, 5]
    with pytest.raises(ValidationError, match="sum"):
        stratified_split(data, ["y"], [0.8, 0.3])
    with pytest.raises(ValidationError, match="sum"):
        stratified_split(data, ["y"], [1.0])
    with pytest.raises(ValidationError, match="nope"):
        stratified_split(data, ["nope"], [0.5, 0.5])


def test_balance_analyzer(tmp_path: Path) -> None:
    analyzer = get_analyzer("balance")
    assert isinstance(analyzer, BalanceAnalyzer)
    config = analyzer.parse_config({"by": ["g"], "seed": 3, "output_name": "b.parquet"})
    inputs = AnalysisInputs({"data": frame()})
    analyzer.check(config, inputs)
    summary = analyzer.run(config, inputs, tmp_path)
    assert summary["rows_in"] == 13 and summary["rows_out"] == 9 and summary["groups"] == 3
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"),
                                  balance(frame(), ["g"], seed=3))
    written = json.loads((tmp_path / "balance_summary.json").read_text())
    assert written["groups"][1] == {"group": {"g": "b"}, "rows_in": 3, "rows_out": 3}
    for bad, message in [({"by": ["g"], "output_name": "x/y.csv"}, "file name"),
                         ({"by": ["g"], "output_name": "y.xls"}, "cannot tell the format"),
                         ({"by": ["q"]}, "'q'"),
                         ({"by": ["g"], "n_per_group": 5}, "g=b"),
                         ({"by": ["g"], "n_per_group": 0}, "positive")]:
        with pytest.raises(ValidationError, match=message):
            analyzer.check(BalanceConfig(**bad), inputs)


def test_the_course_sets(course_reviews: pd.DataFrame) -> None:
    reviews = course_reviews
    cells = balance(reviews, ["product_category", "sentiment"], seed=0)
    assert len(cells) == 486
    assert set(cells.groupby(["product_category", "sentiment"]).size()) == {9}
    classes = balance(reviews, ["sentiment"], seed=0)
    assert len(classes) == 7_110
    assert classes["sentiment"].value_counts().to_dict() == {-1: 2370, 0: 2370, 1: 2370}
    pd.testing.assert_frame_equal(classes, balance(reviews, ["sentiment"], seed=0))
