"""The Clarify-style SDK (:mod:`mlyard.sdk.clarify`): its objects map onto the bias and
explain analyzers' configurations, unsupported Clarify options are refused by name, and
each ``run_*`` runs an analysis job (here in this process, over an analyzer that writes the
configuration it was given)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mlyard
from mlyard.analysis import base
from mlyard.core.jobs import submit_job
from mlyard.core.runner import run_job
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.sdk import clarify
from mlyard.sdk.clarify import (
    BiasConfig,
    ClarifyProcessor,
    DataConfig,
    ModelConfig,
    ModelPredictedLabelConfig,
    SageMakerClarifyProcessor,
    SHAPConfig,
    TextConfig,
)
from mlyard.testing.models import save_test_model

ECHO = "tests.unit.analysis.rowcount:ConfigEchoAnalyzer"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"sentiment": [1, 0, 1, -1], "review_body": ["good", "bad", "ok", "no"],
                  "product_category": ["A", "B", "A", "B"], "pred": [1, 0, 0, 1]}
                 ).to_csv(path, index=False)
    return path


@pytest.fixture
def processor(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> SageMakerClarifyProcessor:
    """A processor whose jobs run in this process over the config-echo analyzer."""
    monkeypatch.setitem(base.ANALYZERS, "bias", ECHO)
    monkeypatch.setitem(base.ANALYZERS, "explain", ECHO)

    def submit_and_run(ws_: Workspace, spec: Any, name: str) -> Any:
        record = submit_job(ws_, spec, name, launch=False)
        run_job(ws_, name)
        return record

    monkeypatch.setattr(clarify, "submit_job", submit_and_run)
    return SageMakerClarifyProcessor(role="ignored", instance_count=1,
                                     instance_type="ml.c5.xlarge", workspace=ws)


def _config(job: clarify.AnalysisJob) -> dict[str, Any]:
    return job.analysis()


def test_pre_training_bias_maps_clarify_names(processor: SageMakerClarifyProcessor,
                                              data: Path, tmp_path: Path) -> None:
    out = tmp_path / "bias"
    data_config = DataConfig(s3_data_input_path=str(data), s3_output_path=str(out),
                             label="sentiment", headers=["sentiment", "review_body",
                                                         "product_category", "pred"])
    bias = BiasConfig(label_values_or_threshold=[1], facet_name="product_category")
    job = processor.run_pre_training_bias(data_config, bias, methods=["CI", "DPL"],
                                          job_name="pre-1", logs=False)
    assert job is processor.latest_job and job.status.value == "Completed"
    assert job.output == out.resolve().as_uri()
    assert _config(job) == {
        "label": "sentiment", "label_values_or_threshold": [1],
        "facets": [{"name": "product_category", "values_or_threshold": None}],
        "pre_training_methods": ["CI", "DPL"], "post_training_methods": None}
    assert json.loads((out / "analysis.json").read_text())["label"] == "sentiment"
    assert job.summary == {"fields": 5, "model": None}
    spec = job.record.spec
    assert spec["analysis"] == "bias" and spec["inputs"] == {"data": str(data.resolve())}


def test_run_bias_with_a_model_and_several_facets(processor: SageMakerClarifyProcessor,
                                                  ws: Workspace, data: Path,
                                                  tmp_path: Path) -> None:
    model_dir = save_test_model(tmp_path / "echo", "echo")
    ws.store.create_model("m-1", ws.artifacts.upload(model_dir, ws.artifacts.uri(
        "models", "m-1")), "test")
    data_config = DataConfig(str(data), str(tmp_path / "both"), label=0,
                             headers=["sentiment", "review_body", "product_category", "pred"],
                             excluded_columns=["pred"])
    bias = BiasConfig([1], ["product_category", "review_body"], [["A"], None],
                      group_name="review_body")
    job = processor.run_bias(data_config, bias, ModelConfig(model_name="m-1",
                                                            instance_type="ml.m5.xlarge"),
                             ModelPredictedLabelConfig(probability_threshold=0.7),
                             pre_training_methods="all", post_training_methods=["DPPL"],
                             job_name="both-1", logs=False)
    config = _config(job)
    assert config["facets"] == [{"name": "product_category", "values_or_threshold": ["A"]},
                                {"name": "review_body", "values_or_threshold": None}]
    assert config["group_name"] == "review_body" and config["probability_threshold"] == 0.7
    assert config["pre_training_methods"] == "all"
    assert config["post_training_methods"] == ["DPPL"]
    assert config["features"] == ["review_body", "product_category"]
    assert job.record.spec["model_name"] == "m-1"


def test_post_training_bias_from_a_predicted_label_column(
        processor: SageMakerClarifyProcessor, data: Path, tmp_path: Path) -> None:
    data_config = DataConfig(str(data), str(tmp_path / "post"), label="sentiment",
                             predicted_label="pred")
    job = processor.run_post_training_bias(data_config, BiasConfig([1], "product_category"),
                                           job_name="post-1", logs=False)
    config = _config(job)
    assert config["predicted_label"] == "pred" and config["pre_training_methods"] is None
    assert config["post_training_methods"] == "all"
    with pytest.raises(ValidationError, match="needs a ModelConfig or"):
        processor.run_post_training_bias(DataConfig(str(data), str(tmp_path / "p2"),
                                                    label="sentiment"),
                                         BiasConfig([1], "product_category"))


def test_text_explainability(processor: SageMakerClarifyProcessor, ws: Workspace,
                             data: Path, tmp_path: Path) -> None:
    model_dir = save_test_model(tmp_path / "echo", "echo")
    ws.store.create_model("bt-1", ws.artifacts.upload(model_dir, ws.artifacts.uri(
        "models", "bt-1")), "test")
    data_config = DataConfig(str(data), str(tmp_path / "shap"), label="sentiment",
                             excluded_columns=["product_category", "pred"])
    shap = SHAPConfig(num_samples=50, agg_method="mean_abs", save_local_shap_values=True,
                      text_config=TextConfig(granularity="token", language="english"))
    job = processor.run_explainability(data_config, ModelConfig(model_name="bt-1"), shap,
                                       job_name="shap-1", logs=False)
    assert _config(job) == {"label": "sentiment", "num_samples": 50, "agg_method": "mean_abs",
                            "use_logit": False, "save_local_shap_values": True, "seed": 0,
                            "text_column": "review_body", "granularity": "token",
                            "language": "english"}
    tabular = processor.explain_config(DataConfig(str(data), "x", label="sentiment"),
                                       SHAPConfig(baseline=[[0, "A"]], seed=3,
                                                  features_to_explain=["pred"]))
    assert tabular["features"] == ["pred"] and tabular["baseline"] == [[0, "A"]]
    with pytest.raises(ValidationError, match="needs one text column"):
        processor.explain_config(DataConfig(str(data), "x", label="sentiment"),
                                 SHAPConfig(text_config=TextConfig("sentence", "english")))


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: DataConfig(d, "o", s3_compression_type="Gzip"), "s3_compression_type"),
    (lambda d: DataConfig(d, "o", dataset_type="image/jpeg"), "dataset_type 'image/jpeg'"),
    (lambda d: DataConfig(d, "o", features="features"), "features as a JMESPath"),
    (lambda d: DataConfig(d, "o", joinsource="id"), "joinsource"),
    (lambda d: DataConfig(d, "o", label=3), "index 3 needs headers"),
    (lambda d: SHAPConfig(image_config=object()), "image_config is not supported"),
    (lambda d: SHAPConfig(baseline="s3://bucket/baseline.csv"), "a baseline file"),
    (lambda d: SHAPConfig(num_clusters=4), "num_clusters"),
    (lambda d: SHAPConfig(agg_method="max"), "agg_method 'max'"),
    (lambda d: TextConfig("word", "english"), "granularity 'word'"),
    (lambda d: ModelConfig(model_name="m", endpoint_name="ep"), "ModelConfig endpoint_name"),
    (lambda d: ModelConfig(), "needs model_name"),
    (lambda d: ModelPredictedLabelConfig(label="predicted_label"), "ModelPredictedLabelConfig"),
    (lambda d: BiasConfig([1], ["a", "b"], [["x"]]), "1 entries for 2 facets"),
])
def test_unsupported_options_are_refused(make: Any, message: str, data: Path) -> None:
    with pytest.raises(ValidationError, match=message):
        make(str(data))


def test_bad_input_makes_no_job(processor: SageMakerClarifyProcessor, ws: Workspace,
                                data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="differ from the data's columns"):
        DataConfig(str(data), str(tmp_path / "o"), label="sentiment",
                   headers=["a", "b", "c", "d"], excluded_columns=["d"]).columns(ws)
    with pytest.raises(ValidationError, match="needs label"):
        processor.run_pre_training_bias(DataConfig(str(data), str(tmp_path / "o")),
                                        BiasConfig([1], "product_category"))
    with pytest.raises(ValidationError, match="model_scores"):
        processor.run_explainability(DataConfig(str(data), "o"), ModelConfig(model_name="m"),
                                     SHAPConfig(), model_scores=1)
    with pytest.raises(NotFoundError, match="no-such-model"):
        processor.run_explainability(DataConfig(str(data), str(tmp_path / "o")),
                                     ModelConfig(model_name="no-such-model"), SHAPConfig())
    assert ws.store.list_jobs() == []


def test_public_names() -> None:
    assert mlyard.ClarifyProcessor is ClarifyProcessor is SageMakerClarifyProcessor
    assert mlyard.BiasConfig is BiasConfig and mlyard.SHAPConfig is SHAPConfig
    assert isinstance(partial(DataConfig, "d", "o")(), DataConfig)
