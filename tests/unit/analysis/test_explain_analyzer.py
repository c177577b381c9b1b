"""The ``explain`` analyzer: Clarify's files, the report, the summary, progress, and the
refusals of ``check``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.base import AnalysisInputs, get_analyzer
from mlyard.analysis.explain import ExplainAnalysisConfig, ExplainAnalyzer
from mlyard.errors import ValidationError
from tests.unit.analysis.explain_models import (
    PLANTED,
    FlatModel,
    NoProbaModel,
    NotImplementedModel,
    corpus,
    tabular_data,
    tabular_model,
    text_model,
)

HOSTILE = "<script>alert('x')</script> & \"quotes\""


@pytest.fixture(scope="module")
def tmodel():  # type: ignore[no-untyped-def]
    return text_model()


def tabular_frame(n: int = 30) -> pd.DataFrame:
    X, y = tabular_data(n, seed=2)
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    frame["y"] = y
    return frame


def text_frame() -> pd.DataFrame:
    texts, labels = corpus(16, seed=4)
    texts[0] = f"{HOSTILE} {PLANTED} dress"
    return pd.DataFrame({"review": pd.array(texts, dtype="str"), "label": labels,
                         "stars": np.arange(16)})


def run(analyzer: ExplainAnalyzer, config: ExplainAnalysisConfig, inputs: AnalysisInputs,
        out: Path) -> tuple[dict, list[str]]:  # type: ignore[type-arg]
    lines: list[str] = []
    analyzer.check(config, inputs)
    summary = analyzer.run(config, inputs, out, progress=lines.append)
    return summary, lines


def test_registry_and_config() -> None:
    analyzer = get_analyzer("explain")
    assert isinstance(analyzer, ExplainAnalyzer)
    assert analyzer.needs_model(ExplainAnalysisConfig())
    config = analyzer.parse_config({"text_column": "review", "granularity": "sentence"})
    assert config.granularity == "sentence"
    with pytest.raises(ValidationError, match="granularity"):
        analyzer.parse_config({"granularity": "word"})
    with pytest.raises(ValidationError, match="nsamples"):
        analyzer.parse_config({"nsamples": 3})


def test_tabular_run_writes_clarify_files(tmp_path: Path) -> None:
    analyzer = ExplainAnalyzer()
    inputs = AnalysisInputs(frames={"data": tabular_frame()}, model=tabular_model(),
                            model_name="lr-1")
    config = ExplainAnalysisConfig(label="y", max_records=20)
    summary, lines = run(analyzer, config, inputs, tmp_path)
    assert summary["records"] == 20 and summary["records_per_second"] > 0
    assert summary["top"][0] == {"feature": "x0", "label": "0",
                                 "value": summary["top"][0]["value"]}
    assert lines and lines[-1] == "explained 20/20 records"
    doc = json.loads((tmp_path / "analysis.json").read_text())
    kernel = doc["explanations"]["kernel_shap"]
    assert set(kernel) == {"0", "1"}
    assert set(kernel["1"]["global_shap_values"]) == {"x0", "x1", "x2", "x3"}
    assert isinstance(kernel["1"]["expected_value"], float)
    assert doc["mlyard"]["model"] == "lr-1"
    out = pd.read_csv(tmp_path / "explanations_shap" / "out.csv")
    assert list(out.columns) == [f"x{j}_{k}" for k in "01" for j in range(4)]
    assert len(out) == 20
    # the global value is the mean |local value| (agg_method mean_abs)
    assert kernel["1"]["global_shap_values"]["x0"] == pytest.approx(out["x0_1"].abs().mean())
    page = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in page and "Global SHAP values, label 1" in page


def test_text_run_writes_clarify_files_and_escapes_the_report(tmp_path: Path,
                                                              tmodel) -> None:  # type: ignore[no-untyped-def]
    analyzer = ExplainAnalyzer()
    inputs = AnalysisInputs(frames={"data": text_frame()}, model=tmodel, model_name="bow")
    config = ExplainAnalysisConfig(text_column="review", label="label", num_samples=200,
                                   max_top_tokens=5)
    summary, _ = run(analyzer, config, inputs, tmp_path)
    assert summary["records"] == 16
    assert any(t["token"] == PLANTED for t in summary["top"])
    doc = json.loads((tmp_path / "analysis.json").read_text())
    pos = doc["explanations"]["kernel_shap"]["pos"]
    assert list(pos["global_shap_values"]) == ["review"]
    top = pos["global_top_shap_text"]["review"]
    assert len(top) == 5 and next(iter(top)) == PLANTED
    assert doc["mlyard"]["granularity"] == "token" and doc["mlyard"]["language"] == "english"
    out = pd.read_csv(tmp_path / "explanations_shap" / "out.csv")
    assert list(out.columns) == ["review_neg", "review_pos"]
    cell = json.loads(out.loc[0, "review_pos"])
    assert cell[0] == {"attribution": [pytest.approx(cell[0]["attribution"][0])],
                       "description": {"partial_text": "script", "start_idx": 1}}
    planted = [c for c in cell if c["description"]["partial_text"] == PLANTED]
    assert planted and planted[0]["attribution"][0] > 0
    page = (tmp_path / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "rgba(214,39,40" in page  # a red (positive) highlight


def test_no_local_values_when_not_asked(tmp_path: Path) -> None:
    inputs = AnalysisInputs(frames={"data": tabular_frame(5)}, model=tabular_model())
    config = ExplainAnalysisConfig(label="y", save_local_shap_values=False)
    summary, _ = run(ExplainAnalyzer(), config, inputs, tmp_path)
    assert not (tmp_path / "explanations_shap").exists()
    assert summary["files"] == ["analysis.json", "report.html"]


@pytest.mark.parametrize("model", [NoProbaModel(), NotImplementedModel(), FlatModel()])
def test_a_model_without_probabilities_is_refused(model) -> None:  # type: ignore[no-untyped-def]
    inputs = AnalysisInputs(frames={"data": text_frame()}, model=model, model_name="m-1")
    with pytest.raises(ValidationError, match="model m-1 returns no probabilities; SHAP "
                                              "needs them"):
        ExplainAnalyzer().check(ExplainAnalysisConfig(text_column="review"), inputs)
    tab = AnalysisInputs(frames={"data": tabular_frame()}, model=model, model_name="m-1")
    with pytest.raises(ValidationError, match="returns no probabilities"):
        ExplainAnalyzer().check(ExplainAnalysisConfig(label="y"), tab)


@pytest.mark.parametrize(("config", "message"), [
    ({"text_column": "body"}, r"column\(s\) \['body'\] not in the data"),
    ({"text_column": "stars"}, "text_column 'stars' does not hold text"),
    ({"text_column": "review", "label": "nope"}, r"\['nope'\]"),
    ({"text_column": "review", "language": "japanese"}, "language 'japanese'"),
    ({"text_column": "review", "baseline": [["a", "b"]]}, "a text baseline is one row"),
    ({"text_column": "review", "features": ["stars"]}, "not both"),
])
def test_bad_text_input_is_refused(config, message, tmodel) -> None:  # type: ignore[no-untyped-def]
    inputs = AnalysisInputs(frames={"data": text_frame()}, model=tmodel)
    with pytest.raises(ValidationError, match=message):
        ExplainAnalyzer().check(ExplainAnalysisConfig(**config), inputs)


def test_bad_tabular_input_is_refused() -> None:
    analyzer = ExplainAnalyzer()
    frame = tabular_frame()
    model = tabular_model()
    inputs = AnalysisInputs(frames={"data": frame}, model=model, model_name="lr")
    with pytest.raises(ValidationError, match=r"\['x9'\]"):
        analyzer.check(ExplainAnalysisConfig(label="y", features=["x0", "x9"]), inputs)
    with pytest.raises(ValidationError, match="one value per feature"):
        analyzer.check(ExplainAnalysisConfig(label="y", baseline=[[0, 0]]), inputs)
    with pytest.raises(ValidationError, match="label 'y' is also a feature"):
        analyzer.check(ExplainAnalysisConfig(label="y", features=["x0", "y"]), inputs)
    texty = frame.assign(x3=["red", "blue"] * 15)
    with pytest.raises(ValidationError, match=r"model lr cannot take the non-numeric "
                                              r"feature\(s\) \['x3'\]"):
        analyzer.check(ExplainAnalysisConfig(label="y"),
                       AnalysisInputs(frames={"data": texty}, model=model, model_name="lr"))
    with pytest.raises(ValidationError, match="no rows"):
        analyzer.check(ExplainAnalysisConfig(label="y"),
                       AnalysisInputs(frames={"data": frame.iloc[:0]}, model=model))
    with pytest.raises(ValidationError, match="needs a model"):
        analyzer.check(ExplainAnalysisConfig(label="y"), AnalysisInputs(frames={"data": frame}))
