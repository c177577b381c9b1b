"""A training run as a real job process: stop requests seen at the next report, the
script-mode environment as SageMaker's training toolkit builds it (decoded ``SM_HPS``,
``SM_HP_<NAME>``, an existing ``SM_CHECKPOINT_DIR``) and the billable time of an on-demand
job (issue 10, items 12 and 13)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from mlyard.core.jobs import describe_job, submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.specs import MetricDefinitionSpec
from mlyard.core.workspace import Workspace
from mlyard.training.spec import CheckpointConfig, TrainingJobSpec

# The script asks for its own job's stop after epoch 2 (as a tuning driver's early stop
# does) and then runs its remaining epochs without pausing, so the stop lands only if the
# job reads it at the next report or before it completes.
SELF_STOPPING = """
import os
from mlyard.config import Settings
from mlyard.core.workspace import Workspace

ws = Workspace(Settings.from_env())
for epoch in range(1, 41):
    print(f"epoch {epoch} score={epoch / 40:.4f}", flush=True)
    if epoch == 2:
        ws.store.request_stop(os.environ["MLYARD_JOB_NAME"],
                              reason="early stopping: score is not promising (test)")
ws.close()
"""

ENV_DUMP = """
import json, os, pathlib
names = [k for k in os.environ if k.startswith("SM_")]
out = {k: os.environ[k] for k in names}
ckpt = os.environ.get("SM_CHECKPOINT_DIR")
out["checkpoint_dir_exists"] = bool(ckpt) and os.path.isdir(ckpt)
pathlib.Path(os.environ["SM_MODEL_DIR"], "env.json").write_text(json.dumps(out))
"""


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(text))
    return path


def _env(ws: Workspace, name: str) -> dict[str, object]:
    model_dir = ws.artifacts.local_path(ws.store.get_model(name).uri)
    assert model_dir is not None
    loaded: dict[str, object] = json.loads((model_dir / "env.json").read_text())
    return loaded


def test_a_stop_requested_during_training_stops_the_job(ws: Workspace,
                                                        tmp_path: Path) -> None:
    script = _script(tmp_path, SELF_STOPPING)
    spec = TrainingJobSpec(
        entry_point=script.name, source_dir=str(tmp_path),
        metric_definitions=[MetricDefinitionSpec(name="score", regex=r"score=([0-9.]+)")])
    submit_job(ws, spec, "self-stop")
    rec = wait_for_job(ws, "self-stop", timeout=120, raise_on_failure=False)
    assert rec.status is JobStatus.STOPPED, rec.failure_reason
    assert (rec.failure_reason or "").startswith("early stopping")


def test_sm_hps_holds_decoded_values(ws: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, ENV_DUMP)
    # what the CLI's --hp and SageMaker's API give: strings; and native values from the SDK
    hps = {"epochs": "3", "learning-rate": "0.1", "optimizer": "adam", "use_bias": "true",
           "layers": "[64, 32]", "batch": 16, "dropout": 0.5}
    spec = TrainingJobSpec(entry_point=script.name, source_dir=str(tmp_path),
                           hyperparameters=hps)
    submit_job(ws, spec, "hps")
    wait_for_job(ws, "hps", timeout=120)
    env = _env(ws, "hps")
    assert json.loads(str(env["SM_HPS"])) == {
        "epochs": 3, "learning-rate": 0.1, "optimizer": "adam", "use_bias": True,
        "layers": [64, 32], "batch": 16, "dropout": 0.5}
    assert json.loads(str(env["SM_TRAINING_ENV"]))["hyperparameters"]["epochs"] == 3
    assert env["SM_HP_EPOCHS"] == "3" and env["SM_HP_LEARNING_RATE"] == "0.1"
    assert env["SM_HP_OPTIMIZER"] == "adam" and env["SM_HP_USE_BIAS"] == "true"
    assert json.loads(str(env["SM_HP_LAYERS"])) == [64, 32]


def test_sm_checkpoint_dir_exists_for_a_checkpoint_location(ws: Workspace,
                                                            tmp_path: Path) -> None:
    script = _script(tmp_path, ENV_DUMP)
    for name, checkpoint in (
            ("ckpt-default", CheckpointConfig()),
            ("ckpt-local", CheckpointConfig(uri=str(tmp_path / "not" / "yet" / "there"))),
            ("ckpt-artifact", CheckpointConfig(uri=ws.artifacts.uri("ckpts", "run-1")))):
        spec = TrainingJobSpec(entry_point=script.name, source_dir=str(tmp_path),
                               checkpoint=checkpoint)
        submit_job(ws, spec, name)
        wait_for_job(ws, name, timeout=120)
        env = _env(ws, name)
        assert env.get("SM_CHECKPOINT_DIR"), name
        assert env["checkpoint_dir_exists"] is True, name


def test_an_on_demand_job_bills_at_least_its_training_time(ws: Workspace,
                                                           tmp_path: Path) -> None:
    script = _script(tmp_path, "import time\ntime.sleep(0.3)\n" + ENV_DUMP)
    spec = TrainingJobSpec(entry_point=script.name, source_dir=str(tmp_path))
    submit_job(ws, spec, "billing")
    wait_for_job(ws, "billing", timeout=120)
    desc = describe_job(ws, "billing")
    assert desc["TrainingTimeInSeconds"] > 0.3
    assert desc["BillableTimeInSeconds"] >= desc["TrainingTimeInSeconds"]
