"""The ``bias`` analyzer: its files, predictions from a model in batches, and bad input."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs, get_analyzer
from mlyard.analysis.bias import BiasAnalysisConfig, BiasAnalyzer, FacetConfig, post_training_bias
from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel, ModelManifest


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(["good", "bad", "fine", "poor"])
    return pd.DataFrame({
        "sentiment": rng.choice([-1, 0, 1], n, p=[0.2, 0.2, 0.6]),
        "category": rng.choice(["Dresses", "Knits", "Blouses"], n),
        "region": rng.choice(["north", "south"], n),
        "age": rng.uniform(18, 80, n).round(1),
        "review_body": [" ".join(rng.choice(words, 3)) for _ in range(n)],
    })


class WordModel(LoadedModel):
    """A text classifier with BlazingText's string labels: "1" if the text says good or fine,
    else "-1"; records the size of every batch it is called with."""

    def __init__(self) -> None:
        self.manifest = ModelManifest(flavor="test", labels=["-1", "1"], input_type="text")
        self.batches: list[int] = []

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        self.batches.append(len(instances))
        pos = np.array([0.9 if ("good" in t or "fine" in t) else 0.3 for t in instances])
        return np.column_stack([1 - pos, pos])


def test_run_writes_clarify_files(tmp_path: Path) -> None:
    analyzer = get_analyzer("bias")
    assert isinstance(analyzer, BiasAnalyzer)
    config = analyzer.parse_config({
        "label": "sentiment", "label_values_or_threshold": ["1"],
        "facets": [{"name": "category"}, {"name": "age", "values_or_threshold": ["40"]}],
        "group_name": "region"})
    assert not analyzer.needs_model(config)
    frame = _frame()
    summary = analyzer.run(config, AnalysisInputs(frames={"data": frame}), tmp_path)
    assert summary["rows"] == 400 and summary["facets"] == {"category": 3, "age": 1}
    assert summary["metrics"] == 4 * 8 and summary["seconds"] >= 0
    analysis = json.loads((tmp_path / "analysis.json").read_text())
    section = analysis["pre_training_bias_metrics"]
    assert section["label"] == "sentiment" and section["label_value_or_threshold"] == "1"
    assert section["facets"]["age"][0]["value_or_threshold"].startswith("(40.0, ")
    assert "post_training_bias_metrics" not in analysis
    doc = json.loads((tmp_path / "analysis_config.json").read_text())
    assert doc["dataset_type"] == "text/csv" and doc["headers"] == list(frame.columns)
    assert doc["label"] == "sentiment" and doc["label_values_or_threshold"] == ["1"]
    assert doc["facet"] == [{"name_or_index": "category"},
                            {"name_or_index": "age", "value_or_threshold": ["40"]}]
    assert doc["group_variable"] == "region"
    assert doc["methods"]["pre_training_bias"] == {"methods": "all"}
    assert "post_training_bias" not in doc["methods"]
    html = (tmp_path / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Class Imbalance (CI)" in html
    assert "facet category" in html and "Blouses" in html and "data:image/png" in html


def test_post_training_through_a_model_in_batches(tmp_path: Path) -> None:
    frame = _frame(n=1000)
    model = WordModel()
    analyzer = BiasAnalyzer()
    config = BiasAnalysisConfig(label="sentiment", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="category")],
                                pre_training_methods=["CI"], post_training_methods="all",
                                text_column="review_body", batch_size=300)
    assert analyzer.needs_model(config)
    inputs = AnalysisInputs(frames={"data": frame}, model=model, model_name="bt-1")
    analyzer.run(config, inputs, tmp_path)
    assert model.batches == [4, 300, 300, 300, 100]   # check's probe, then the batches
    analysis = json.loads((tmp_path / "analysis.json").read_text())
    post = analysis["post_training_bias_metrics"]
    # Same numbers as the plain function given the labels the model means ("1" -> 1).
    predicted = np.where(frame["review_body"].str.contains("good|fine"), 1, -1)
    expected = post_training_bias(frame, config, predicted)
    assert post == json.loads(json.dumps(expected))
    doc = json.loads((tmp_path / "analysis_config.json").read_text())
    assert doc["predictor"]["model_name"] == "bt-1"
    assert doc["methods"]["post_training_bias"] == {"methods": "all"}


def test_probability_threshold(tmp_path: Path) -> None:
    frame = _frame(n=200)   # 3 distinct of 200 (< 5%): categorical by Clarify's rule
    model = WordModel()
    analyzer = BiasAnalyzer()
    # Every score (0.9 or 0.3) is above 0.2: every prediction positive.
    config = BiasAnalysisConfig(label="sentiment", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="category")],
                                post_training_methods=["DPPL"], text_column="review_body",
                                probability_threshold=0.2)
    predicted = analyzer.predictions(config, AnalysisInputs(frames={"data": frame},
                                                            model=model))
    assert set(predicted.tolist()) == {1} and predicted.dtype.kind == "i"
    config = config.model_copy(update={"probability_threshold": 0.95})
    predicted = analyzer.predictions(config, AnalysisInputs(frames={"data": frame},
                                                            model=model))
    assert set(predicted.tolist()) == {-1}


def _check(config: dict[str, Any], frame: pd.DataFrame | None = None,
           model: LoadedModel | None = None) -> None:
    analyzer = BiasAnalyzer()
    base = {"label": "sentiment", "label_values_or_threshold": [1],
            "facets": [{"name": "category"}]}
    base.update(config)
    analyzer.check(analyzer.parse_config(base),
                   AnalysisInputs(frames={"data": _frame() if frame is None else frame},
                                  model=model))


@pytest.mark.parametrize(("config", "message"), [
    ({"label": "stars"}, r"\['stars'\] not in the data"),
    ({"facets": [{"name": "colour"}]}, r"\['colour'\] not in the data"),
    ({"group_name": "city"}, r"\['city'\] not in the data"),
    ({"label_values_or_threshold": [5]}, "label 'sentiment': value 5 does not occur"),
    ({"facets": [{"name": "category", "values_or_threshold": ["Jeans"]}]},
     "facet 'category': value 'Jeans' does not occur"),
    ({"facets": [{"name": "review_body", "values_or_threshold": [3]}]},
     "facet 'review_body': 3 looks like a threshold, but the column is not numeric"),
    ({"facets": [{"name": "age"}]}, "facet 'age' is numeric.*give a threshold"),
    ({"facets": [{"name": "age", "values_or_threshold": [99]}]}, "no row is in"),
    ({"pre_training_methods": ["CI", "XYZ"]}, "unknown bias method 'XYZ'"),
    ({"post_training_methods": ["CI"], "predicted_label": "sentiment"},
     "CI is a pre-training metric"),
    ({"post_training_methods": "all"}, "post-training bias needs predictions"),
    ({"post_training_methods": "all", "predicted_label": "guess"},
     r"\['guess'\] not in the data"),
    ({"pre_training_methods": None}, "no methods"),
    ({"facets": []}, "facets"),
    ({"probability_threshold": 2.0}, r"probability_threshold must be in \[0, 1\]"),
])
def test_bad_input(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _check(config)


def test_facet_with_one_value() -> None:
    frame = _frame().assign(category="Dresses")
    with pytest.raises(ValidationError, match=r"facet 'category' has 1 distinct value"):
        _check({}, frame)


def test_model_labels_that_are_all_positive_refuse_a_threshold() -> None:
    class OneSided(WordModel):
        def __init__(self) -> None:
            super().__init__()
            self.manifest = ModelManifest(flavor="test", labels=["1", "__label__1"])

    config = BiasAnalysisConfig(label="sentiment", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="category")],
                                post_training_methods="all", text_column="review_body",
                                probability_threshold=0.5)
    with pytest.raises(ValidationError, match="both sides"):
        BiasAnalyzer().predictions(config, AnalysisInputs(frames={"data": _frame()},
                                                          model=OneSided()))


class StringsOnly(WordModel):
    """A text model that, like BlazingText, refuses anything but strings."""

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        if not all(isinstance(t, str) for t in instances):
            raise ValidationError("predicts from strings")
        return super().predict_proba(instances)


def test_a_text_model_gets_the_one_free_text_column_by_default(tmp_path: Path) -> None:
    frame = _frame(n=100)
    model = StringsOnly()
    config = BiasAnalysisConfig(label="sentiment", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="category")],
                                post_training_methods="all")
    inputs = AnalysisInputs(frames={"data": frame}, model=model, model_name="bt-1")
    BiasAnalyzer().run(config, inputs, tmp_path)   # review_body: the only 3-word column
    assert model.batches[-1] == 100


def test_a_model_that_cannot_take_the_rows_is_refused_by_check() -> None:
    frame = _frame(n=100).assign(notes=lambda f: f["review_body"])  # two text columns
    model = StringsOnly()
    config = BiasAnalysisConfig(label="sentiment", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="category")],
                                post_training_methods="all")
    inputs = AnalysisInputs(frames={"data": frame}, model=model, model_name="bt-1")
    with pytest.raises(ValidationError, match=r"bt-1 cannot predict .*--text-column"):
        BiasAnalyzer().check(config, inputs)
    assert model.batches == []    # only the 4-row probe was tried, and refused
