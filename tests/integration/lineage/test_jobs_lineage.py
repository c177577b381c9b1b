"""Real jobs: a processing job prepares data, a training script trains on its output
(logging a metric through the job's own run); lineage upstream from the model reaches the
raw data, and the experiments show the training run with its metrics."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.specs import Channel, MetricDefinitionSpec
from mlyard.core.workspace import Workspace
from mlyard.experiments.collect import sync
from mlyard.experiments.store import ExperimentStore
from mlyard.lineage.query import lineage
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput
from mlyard.training.spec import TrainingJobSpec

PREPARE = """
import os, pathlib
rows = pathlib.Path(os.environ["MLYARD_INPUT_RAW"], "raw.csv").read_text().splitlines()
out = pathlib.Path(os.environ["MLYARD_OUTPUT_TRAIN"])
out.mkdir(parents=True, exist_ok=True)
(out / "train.csv").write_text("\\n".join(r.upper() for r in rows) + "\\n")
"""

TRAIN = """
import os, pathlib
from mlyard.experiments.tracking import log_metric, log_param
rows = pathlib.Path(os.environ["SM_CHANNEL_TRAIN"], "train.csv").read_text().split()
for epoch in range(3):
    print(f"epoch={epoch} loss={1.0 / (epoch + 1):.3f}", flush=True)
log_param("rows", len(rows))
log_metric("script_accuracy", 0.9, step=2)
pathlib.Path(os.environ["SM_MODEL_DIR"], "model.txt").write_text(",".join(rows))
"""


def test_lineage_and_experiments_of_real_jobs(ws: Workspace, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # The training script runs in its own folder: keep a relative PYTHONPATH pointing here.
    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
             if p]
    if paths:
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "raw.csv").write_text("a\nb\nc\n")
    (tmp_path / "prepare.py").write_text(textwrap.dedent(PREPARE))
    (tmp_path / "train.py").write_text(textwrap.dedent(TRAIN))
    submit_job(ws, ProcessingJobSpec(
        entry_point="prepare.py", source_dir=str(tmp_path),
        inputs=[ProcessingInput(name="raw", source=str(raw))],
        outputs=[ProcessingOutput(name="train")]), "prep")
    prep = wait_for_job(ws, "prep", timeout=60, raise_on_failure=True)
    submit_job(ws, TrainingJobSpec(
        entry_point="train.py", source_dir=str(tmp_path), hyperparameters={"epochs": 3},
        channels=[Channel(name="train", uri=prep.outputs["train"])],
        metric_definitions=[MetricDefinitionSpec(name="loss", regex=r"loss=([0-9.]+)")]),
        "train")
    wait_for_job(ws, "train", timeout=60, raise_on_failure=True)

    result = lineage(ws, "model:train", "upstream")
    reached = {s.entity.id: s for s in result.steps}
    assert reached["job:train"].entity.entity_type == "TrainingJob"
    assert reached["job:prep"].entity.entity_type == "ProcessingJob"
    raw_id = f"artifact:{raw.as_uri()}"
    assert reached[raw_id].direction == "Input"
    assert reached[raw_id].entity.entity_type == "DataSet"
    down = {s.entity.id for s in lineage(ws, str(raw), "downstream").steps}
    assert {"job:prep", "job:train", "model:train"} <= down

    sync(ws)
    store = ExperimentStore.of(ws.store)
    run = store.get_run("Default", "train")
    assert run.status == "Finished" and run.source == {"JobName": "train"}
    params = store.get_params("Default", "train")
    assert params["epochs"] == 3 and params["rows"] == 3
    loss = [m.value for m in store.get_metrics("Default", "train", "loss")]
    assert loss == pytest.approx([1.0, 0.5, 0.333])
    assert [m.value for m in store.get_metrics("Default", "train", "script_accuracy")] == [0.9]
    assert "model" in store.get_artifacts("Default", "train")
