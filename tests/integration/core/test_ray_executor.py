"""The Ray executor runs the same job command as a Ray task on a local Ray instance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.sdk.session import set_default_workspace
from mlyard.testing.executors import ExecutorConformance

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class TestRayExecutor(ExecutorConformance):
    @pytest.fixture
    def ws(self, settings: Settings, local_ray: None) -> Iterator[Workspace]:
        workspace = Workspace(settings.with_(executor="ray"))
        set_default_workspace(workspace)
        assert workspace.executor.name == "ray"
        yield workspace
        set_default_workspace(None)
        workspace.close()


DDP_SCRIPT = """
import json, os, pathlib
import torch, torch.distributed as dist
dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
grad = torch.tensor([float(rank + 1)])
dist.all_reduce(grad)
if rank == 0:
    pathlib.Path(os.environ["SM_MODEL_DIR"], "out.json").write_text(json.dumps(
        {"sum": grad.item(), "world": world, "master": os.environ["MASTER_ADDR"]}))
print(f"rank {rank} pid {os.getpid()} done", flush=True)
dist.destroy_process_group()
"""


def test_distributed_job_runs_as_ray_workers(settings: Settings, local_ray: None,
                                             tmp_path: Path) -> None:
    import json

    from mlyard.core.jobs import submit_job, wait_for_job
    from mlyard.training.spec import DistributionConfig, TrainingJobSpec

    (tmp_path / "train.py").write_text(DDP_SCRIPT)
    with Workspace(settings.with_(executor="ray")) as ws:
        spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                               distribution=DistributionConfig(processes_per_host=2))
        submit_job(ws, spec, "ray-ddp")
        wait_for_job(ws, "ray-ddp", timeout=180)
        logs = [line.line for line in ws.store.get_logs("ray-ddp")]
        assert any("workers run as Ray actors (2)" in line for line in logs)
        assert any(line.startswith("[algo-1 rank 1] rank 1 pid") for line in logs)
        model_dir = ws.artifacts.local_path(ws.store.get_model("ray-ddp").uri)
        assert model_dir is not None
        out = json.loads((model_dir / "out.json").read_text())
        assert out == {"sum": 3.0, "world": 2, "master": out["master"]} and out["master"]


def test_tuning_trials_run_on_the_ray_executor(settings: Settings, local_ray: None,
                                               tmp_path: Path) -> None:
    from mlyard.core.jobs import submit_job, wait_for_job
    from mlyard.core.specs import MetricDefinitionSpec
    from mlyard.training.spec import TrainingJobSpec
    from mlyard.tuning.analytics import describe_tuning
    from mlyard.tuning.ranges import parse_range
    from mlyard.tuning.spec import TuningJobSpec, TuningObjective

    (tmp_path / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--x', type=float)\n"
        "a, _ = p.parse_known_args()\nprint(f'score={1 - (a.x - 0.3) ** 2:.6f}', flush=True)\n")
    with Workspace(settings.with_(executor="ray")) as ws:
        spec = TuningJobSpec(
            training=TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path),
                                     metric_definitions=[MetricDefinitionSpec(
                                         name="score", regex=r"score=([-0-9.]+)")]),
            ranges=dict([parse_range("x=0.0:1.0")]),
            objective=TuningObjective(metric_name="score"), strategy="Random", max_jobs=3,
            max_parallel_jobs=1)
        submit_job(ws, spec, "ray-tune")
        wait_for_job(ws, "ray-tune", timeout=180)
        desc = describe_tuning(ws, "ray-tune")
        assert desc["TrainingJobStatusCounters"]["Completed"] == 3
        for trial in desc["Trials"]:
            assert ws.store.get_job(trial["TrainingJobName"]).executor == "ray"


def test_pipeline_steps_run_on_the_ray_executor(settings: Settings, local_ray: None,
                                                tmp_path: Path) -> None:
    """A pipeline's driver and its step jobs are Ray tasks; a property reference carries
    the first step's output to the second."""
    import sys

    from mlyard.pipelines import Pipeline, ProcessingStep
    from mlyard.processing.spec import ProcessingInput, ProcessingOutput
    from mlyard.sdk.processor import Processor

    (tmp_path / "make.py").write_text(
        "import os, pathlib\n"
        "pathlib.Path(os.environ['MLYARD_OUTPUT_DATA'], 'n.txt').write_text('41')\n")
    (tmp_path / "add.py").write_text(
        "import os, pathlib\n"
        "n = int(pathlib.Path(os.environ['MLYARD_INPUT_DATA'], 'n.txt').read_text())\n"
        "pathlib.Path(os.environ['MLYARD_OUTPUT_OUT'], 'n.txt').write_text(str(n + 1))\n")
    with Workspace(settings.with_(executor="ray")) as ws:
        make = ProcessingStep("Make", processor=Processor(
            entry_point="make.py", source_dir=str(tmp_path), python=sys.executable,
            workspace=ws), outputs=[ProcessingOutput(name="data")])
        add = ProcessingStep("Add", processor=Processor(
            entry_point="add.py", source_dir=str(tmp_path), python=sys.executable,
            workspace=ws),
            inputs=[ProcessingInput(
                name="data",
                source=make.properties.ProcessingOutputConfig.Outputs["data"].S3Output.S3Uri)],
            outputs=[ProcessingOutput(name="out")])
        pipe = Pipeline("on-ray", steps=[make, add], workspace=ws)
        pipe.upsert()
        execution = pipe.start()
        assert execution.wait(timeout=180).status == "Succeeded"
        steps = {s["StepName"]: s for s in execution.list_steps()}
        assert set(steps) == {"Make", "Add"}
        for step in steps.values():
            job = step["Metadata"]["ProcessingJob"]["Arn"]
            assert ws.store.get_job(job).executor == "ray"
        assert ws.store.get_job(execution.execution_id).executor == "ray"
        out = ws.store.get_job(steps["Add"]["Metadata"]["ProcessingJob"]["Arn"]).outputs["out"]
        assert ws.artifacts.read_bytes(out.rstrip("/") + "/n.txt") == b"42"
