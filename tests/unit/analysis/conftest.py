"""Fixtures of the analysis tests: the course's reviews table, read once per session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlyard.datasets.reviews import course_transform, load_raw
from tests.conftest import reviews_csv


@pytest.fixture(scope="session")
def reviews_path() -> Path:
    """The shared reviews CSV; the test is skipped (saying where it was looked for) if absent."""
    path = reviews_csv()
    if not path.is_file():
        pytest.skip(f"reviews data not found at {path} (set MLYARD_REVIEWS_CSV)")
    return path


@pytest.fixture(scope="session")
def _course_table(reviews_path: Path) -> pd.DataFrame:
    return course_transform(load_raw(reviews_path))


@pytest.fixture
def course_reviews(_course_table: pd.DataFrame) -> pd.DataFrame:
    """The course's transformed reviews (22,626 rows), a fresh copy per test."""
    return _course_table.copy()
