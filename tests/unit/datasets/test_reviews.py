"""The course transform and stratified splits, on generated data and the real file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlyard.datasets.reviews import (
    balance,
    check_reviews_file,
    course_transform,
    load_raw,
    stratified_split,
)
from mlyard.errors import DataError, NotFoundError
from tests.conftest import reviews_csv


def _raw(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "Review Text": [f"text {i}" if i % 13 else None for i in range(n)],
        "Rating": rng.integers(1, 6, n),
        "Class Name": ["Dresses"] * (n - 5) + ["Rare"] * 5,
    })


def test_transform_rules() -> None:
    out = course_transform(_raw())
    assert list(out.columns) == ["sentiment", "review_body", "product_category"]
    assert set(out["product_category"]) == {"Dresses"}
    assert out["review_body"].notna().all()
    raw = _raw()
    kept = raw.dropna().query("`Class Name` == 'Dresses'")
    expected = np.select([kept["Rating"] <= 2, kept["Rating"] == 3], [-1, 0], 1)
    assert out["sentiment"].tolist() == expected.tolist()


def test_split_is_stratified_and_disjoint() -> None:
    frame = pd.DataFrame({"y": [0] * 80 + [1] * 20, "x": range(100)})
    a, b, c = stratified_split(frame, "y", (0.8, 0.1, 0.1), seed=1)
    assert (len(a), len(b), len(c)) == (80, 10, 10)
    assert (b["y"] == 1).sum() == 2 and (a["y"] == 1).sum() == 16
    assert set(a["x"]) | set(b["x"]) | set(c["x"]) == set(range(100))
    with pytest.raises(DataError, match=r"must be positive and sum to 1, got \(0\.5, 0\.6\)"):
        stratified_split(frame, "y", (0.5, 0.6))
    assert balance(frame, "y")["y"].value_counts().tolist() == [20, 20]


def test_missing_file_says_where_to_get_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFoundError, match="Kaggle"):
        check_reviews_file(tmp_path / "nope.csv")


@pytest.mark.skipif(not reviews_csv().exists(), reason="the shared reviews CSV is absent")
def test_real_file_matches_course_counts() -> None:
    path = reviews_csv()
    out = course_transform(load_raw(path))
    assert len(out) == 22_626
    assert out["sentiment"].value_counts().to_dict() == {1: 17_433, 0: 2_823, -1: 2_370}
