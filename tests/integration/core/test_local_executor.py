"""Real subprocess jobs through the local process executor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.records import JobStatus, JobType
from mlyard.core.specs import Channel, MetricDefinitionSpec
from mlyard.core.stores import SqlAlchemyStore
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, ValidationError
from mlyard.testing.executors import ExecutorConformance
from mlyard.training.spec import TrainingJobSpec


class TestLocalExecutor(ExecutorConformance):
    @pytest.fixture
    def ws(self, ws: Workspace) -> Workspace:  # the conftest workspace (local executor)
        assert ws.executor.name == "local"
        return ws


SAGEMAKER_SCRIPT = """
import argparse, json, os, pathlib
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--learning-rate", type=float)
parser.add_argument("--model-dir", default=os.environ["SM_MODEL_DIR"])
parser.add_argument("--train", default=os.environ["SM_CHANNEL_TRAIN"])
parser.add_argument("--output-data-dir", default=os.environ["SM_OUTPUT_DATA_DIR"])
args = parser.parse_args()
rows = sum(1 for f in pathlib.Path(args.train).iterdir() for _ in open(f))
env = {k: v for k, v in os.environ.items() if k.startswith("SM_")}
for epoch in range(args.epochs):
    print(f"epoch {epoch} train_loss={1.0 / (epoch + 1):.3f}", flush=True)
pathlib.Path(args.model_dir, "model.json").write_text(json.dumps({"rows": rows}))
pathlib.Path(args.output_data_dir, "env.json").write_text(json.dumps(env))
"""


def test_sagemaker_script_runs_unchanged(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(SAGEMAKER_SCRIPT)
    data = tmp_path / "train.csv"
    data.write_text("a\nb\nc\n")
    spec = TrainingJobSpec(
        entry_point="train.py", source_dir=str(tmp_path),
        hyperparameters={"epochs": 3, "learning-rate": 0.1},
        channels=[Channel(name="train", uri=str(data))],
        metric_definitions=[MetricDefinitionSpec(name="train:loss",
                                                 regex=r"train_loss=([0-9.]+)")],
    )
    submit_job(ws, spec, "script-1")
    rec = wait_for_job(ws, "script-1", timeout=120)
    model_dir = ws.artifacts.local_path(rec.outputs["model"])
    assert model_dir is not None
    assert json.loads((model_dir / "model.json").read_text()) == {"rows": 3}
    assert [p.value for p in ws.store.get_metrics("script-1", "train:loss")] == [1.0, 0.5, 0.333]
    out_dir = ws.artifacts.local_path(rec.outputs["output"])
    assert out_dir is not None
    env = json.loads((out_dir / "data" / "env.json").read_text())
    assert json.loads(env["SM_HPS"]) == {"epochs": 3, "learning-rate": 0.1}
    assert json.loads(env["SM_HOSTS"]) == ["algo-1"] and env["SM_CURRENT_HOST"] == "algo-1"
    assert env["SM_NUM_GPUS"] == "0" and json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_HP_EPOCHS"] == "3"
    assert ws.store.get_model("script-1").flavor == "script"


def test_failed_script_registers_no_model(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(textwrap.dedent("""
        import os, pathlib
        pathlib.Path(os.environ["SM_MODEL_DIR"], "half.bin").write_text("partial")
        raise ValueError("label column missing")
    """))
    submit_job(ws, TrainingJobSpec(entry_point=str(tmp_path / "bad.py")), "script-bad")
    with pytest.raises(JobFailedError, match="label column missing"):
        wait_for_job(ws, "script-bad", timeout=120)
    assert ws.store.list_models() == []
    assert not ws.artifacts.exists(ws.artifacts.uri("jobs", "script-bad", "model"))


def test_validation_before_any_job(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        submit_job(ws, TrainingJobSpec(entry_point=str(tmp_path / "missing.py")), "nojob")
    with pytest.raises(ValidationError, match="unknown algorithm"):
        submit_job(ws, TrainingJobSpec(algorithm="xgboostish"), "nojob")
    assert ws.store.list_jobs() == []


def test_max_runtime_stops_job(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(60)\n")
    submit_job(ws, TrainingJobSpec(entry_point=str(tmp_path / "slow.py"),
                                   max_runtime_seconds=1), "slow")
    rec = wait_for_job(ws, "slow", timeout=60, raise_on_failure=False)
    assert rec.status is JobStatus.STOPPED
    assert "MaxRuntimeExceeded" in (rec.failure_reason or "")


def test_killed_job_process_is_marked_failed(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "suicide.py").write_text(
        "import os, signal, time\nprint('hi', flush=True)\ntime.sleep(1)\n"
        "os.kill(os.getppid(), signal.SIGKILL)\n")  # the job runner dies
    submit_job(ws, TrainingJobSpec(entry_point=str(tmp_path / "suicide.py")), "killed")
    rec = wait_for_job(ws, "killed", timeout=60, raise_on_failure=False)
    assert rec.status is JobStatus.FAILED
    assert "without reporting" in (rec.failure_reason or "")


def test_concurrent_writers(ws: Workspace, tmp_path: Path) -> None:
    """Several processes writing jobs, logs and metrics into one SQLite file at once."""
    worker = tmp_path / "writer.py"
    worker.write_text(textwrap.dedent(f"""
        import sys, time
        from mlyard.core.stores import SqlAlchemyStore
        from mlyard.core.records import JobType, JobStatus, MetricPoint
        store = SqlAlchemyStore({ws.settings.db_url!r})
        me = sys.argv[1]
        for i in range(40):
            name = f"{{me}}-{{i}}"
            store.create_job(name, JobType.PROCESSING, {{}})
            store.transition_job(name, JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
            store.append_logs(name, [(time.time(), "line")] * 5)
            store.put_metrics(name, [MetricPoint("m", float(i), i, time.time())])
            store.transition_job(name, JobStatus.COMPLETED, expected=[JobStatus.IN_PROGRESS])
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [subprocess.Popen([sys.executable, str(worker), f"w{k}"], env=env)
             for k in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    store = SqlAlchemyStore(ws.settings.db_url)
    done = store.list_jobs(job_type=JobType.PROCESSING, status=JobStatus.COMPLETED, limit=1000)
    assert len(done) == 160
    assert all(len(store.get_logs(r.name)) == 5 for r in done[:10])


def test_newer_schema_is_refused(ws: Workspace) -> None:
    import sqlalchemy as sa

    from mlyard.errors import WorkspaceError

    with ws.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(sa.text("UPDATE schema_info SET version = 999"))
    with pytest.raises(WorkspaceError, match="newer than this mlyard"):
        SqlAlchemyStore(ws.settings.db_url)


def test_script_reports_metrics_directly(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "report.py").write_text(textwrap.dedent("""
        import mlyard
        for step in range(3):
            mlyard.report_metric("custom:score", step * 0.5, step)
    """))
    submit_job(ws, TrainingJobSpec(entry_point=str(tmp_path / "report.py")), "reporter")
    wait_for_job(ws, "reporter", timeout=120)
    points = ws.store.get_metrics("reporter", "custom:score")
    assert [(p.step, p.value) for p in points] == [(0, 0.0), (1, 0.5), (2, 1.0)]
