"""The Women's E-Commerce Clothing Reviews dataset and the course's transform.

The course (Practical Data Science) keeps ``review_body``, ``star_rating`` and
``product_category``, drops rows with missing values, maps ratings to ``sentiment``
(-1 for 1-2, 0 for 3, 1 for 4-5) and drops categories with 10 or fewer reviews (rows in a
fixed order, so that seeded splits are reproducible):
22,626 rows, sentiment -1/0/1 = 2,370 / 2,823 / 17,433.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mlyard.errors import DataError, NotFoundError

#: Where the reviews CSV is looked for unless ``MLYARD_REVIEWS_CSV`` says otherwise (relative
#: to the current folder: the repository root, with ``../shared`` beside it).
DEFAULT_REVIEWS_CSV = "../shared/data/womens_clothing_ecommerce_reviews.csv"


def reviews_csv_path() -> Path:
    """The reviews CSV's path: ``MLYARD_REVIEWS_CSV``, else :data:`DEFAULT_REVIEWS_CSV`."""
    return Path(os.environ.get("MLYARD_REVIEWS_CSV") or DEFAULT_REVIEWS_CSV)


DATASET_HELP = (
    "Women's E-Commerce Clothing Reviews (23,486 rows, CC0) by Nick Brooks, on Kaggle: "
    "https://www.kaggle.com/datasets/nicapotato/womens-ecommerce-clothing-reviews ; "
    "save it as womens_clothing_ecommerce_reviews.csv and point MLYARD_REVIEWS_CSV "
    "(or --data) at it"
)

#: The course transform as SQL over a table of the raw CSV (``{raw}`` is its name).
TRANSFORM_SQL = """
WITH t AS (
    SELECT "Review Text" AS review_body, Rating AS star_rating,
           "Class Name" AS product_category
    FROM {raw}
    WHERE "Review Text" IS NOT NULL AND Rating IS NOT NULL AND "Class Name" IS NOT NULL
), kept AS (
    SELECT product_category FROM t GROUP BY product_category HAVING COUNT(*) > 10
)
SELECT CASE WHEN star_rating <= 2 THEN -1 WHEN star_rating = 3 THEN 0 ELSE 1 END
           AS sentiment,
       review_body, product_category
FROM t WHERE product_category IN (SELECT product_category FROM kept)
ORDER BY review_body, product_category, sentiment
"""


def check_reviews_file(path: Path) -> Path:
    """``path`` if it exists, else a NotFoundError that says where to get the data."""
    if not path.is_file():
        raise NotFoundError(f"reviews data not found at {path}. Get the public dataset: "
                            f"{DATASET_HELP}")
    return path


def load_raw(path: Path) -> pd.DataFrame:
    """The raw CSV as a DataFrame."""
    frame = pd.read_csv(check_reviews_file(path), index_col=0)
    needed = {"Review Text", "Rating", "Class Name"}
    missing = needed - set(frame.columns)
    if missing:
        raise DataError(f"{path} lacks column(s) {sorted(missing)}; has {list(frame.columns)}")
    return frame


def course_transform(raw: pd.DataFrame) -> pd.DataFrame:
    """The course transform in pandas (same rows as :data:`TRANSFORM_SQL`)."""
    frame = raw.rename(columns={"Review Text": "review_body", "Rating": "star_rating",
                                "Class Name": "product_category"})
    frame = frame[["star_rating", "review_body", "product_category"]].dropna()
    counts = frame["product_category"].value_counts()
    frame = frame[frame["product_category"].isin(counts[counts > 10].index)]
    sentiment = np.select([frame["star_rating"] <= 2, frame["star_rating"] == 3], [-1, 0], 1)
    frame = frame.assign(sentiment=sentiment.astype(int)).drop(columns=["star_rating"])
    return frame[["sentiment", "review_body", "product_category"]].reset_index(drop=True)


def stratified_split(frame: pd.DataFrame, label: str, fractions: tuple[float, ...],
                     seed: int = 42) -> list[pd.DataFrame]:
    """Split ``frame`` into parts of the given fractions with each label's share kept."""
    if abs(sum(fractions) - 1.0) > 1e-9 or any(f <= 0 for f in fractions):
        raise DataError(f"split fractions must be positive and sum to 1, got {fractions}")
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    for _, group in frame.groupby(label, sort=True):
        idx = group.index.to_numpy().copy()
        rng.shuffle(idx)
        bounds = np.round(np.cumsum(fractions) * len(idx)).astype(int)
        start = 0
        for i, end in enumerate(bounds):
            parts[i].extend(idx[start:end].tolist())
            start = end
    out = []
    for part in parts:
        chosen = np.array(part, dtype=np.int64)
        rng.shuffle(chosen)
        out.append(frame.loc[chosen].reset_index(drop=True))
    return out


def balance(frame: pd.DataFrame, label: str, seed: int = 42) -> pd.DataFrame:
    """Down-sample every label to the size of the smallest (the course's balanced set)."""
    smallest = int(frame[label].value_counts().min())
    return (frame.groupby(label, group_keys=False)
            .sample(n=smallest, random_state=seed).reset_index(drop=True))
