"""The data profile of the course's reviews table (skipped without the data file)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs
from mlyard.analysis.profile import ProfileAnalyzer, ProfileConfig


@pytest.mark.slow
def test_course_reviews_profile(tmp_path: Path, course_reviews: pd.DataFrame) -> None:
    frame = course_reviews
    result = ProfileAnalyzer().run(ProfileConfig(target="sentiment"),
                                   AnalysisInputs(frames={"data": frame}), tmp_path)
    assert result["rows"] == 22_626 and result["sampled_rows"] == 22_626
    data = json.loads((tmp_path / "profile.json").read_text(encoding="utf-8"))
    assert data["target"]["class_counts"] == {"-1": 2370, "0": 2823, "1": 17433}
    assert data["kinds"] == {"sentiment": "categorical", "review_body": "text",
                             "product_category": "categorical"}
    assert data["quick_model"]["score"] > data["quick_model"]["baseline_score"]
    assert result["possible_leakage"] == []
