"""Runs derived from jobs, tuning trials and pipeline executions."""

from __future__ import annotations

import pytest

from mlyard.core.records import JobRecord, JobStatus, MetricPoint
from mlyard.core.workspace import Workspace
from mlyard.experiments.collect import collect_runs, sync
from mlyard.experiments.store import ExperimentStore
from mlyard.tuning.store import TrialRecord
from tests.unit.lineage.fakes import FakeExecution, FakeStep, fill, stub_other_stores

POINTS = {"train": [MetricPoint("loss", 1.0, 1, 1.0), MetricPoint("loss", 0.5, 2, 2.0)],
          "t-001": [MetricPoint("acc", 0.7, 1, 3.0)],
          "t-002": [MetricPoint("acc", 0.9, 1, 3.0)],
          "prep": [MetricPoint("rows", 10.0, None, 4.0), MetricPoint("rows", 12.0, None, 5.0)]}


def _job(name: str, kind: str, spec: dict, status: JobStatus = JobStatus.COMPLETED
         ) -> JobRecord:
    return JobRecord(name, kind, status, {"kind": kind, **spec}, 1.0, 2.0,
                     ended_at=2.0 if status.terminal else None,
                     outputs={"model": f"file:///{name}/model"} if kind == "training" else {})


def test_runs_of_jobs_trials_and_executions() -> None:
    jobs = [_job("train", "training", {"hyperparameters": {"epochs": 2}}),
            _job("mine", "training", {"environment": {"MLYARD_EXPERIMENT_NAME": "reviews"}},
                 JobStatus.IN_PROGRESS),
            _job("t-001", "training", {}), _job("t-002", "training", {}, JobStatus.FAILED),
            _job("tune", "tuning", {}), _job("prep", "processing", {})]
    trials = {"tune": [TrialRecord("tune", 1, "t-001", {"lr": 0.1}, JobStatus.COMPLETED),
                       TrialRecord("tune", 2, "t-002", {"lr": 0.2}, JobStatus.FAILED)]}
    execution = FakeExecution("pipe-1", "pipe", parameters={"MinAccuracy": 0.8})
    steps = {"pipe-1": [FakeStep("Prepare", "Processing", job_name="prep"),
                        FakeStep("Train", "Training", job_name="train"),
                        FakeStep("Check", "Condition")]}
    runs = {(r.run.experiment, r.run.name): r
            for r in collect_runs(jobs, trials, [execution], steps,
                                  lambda name: POINTS.get(name, []))}
    assert set(runs) == {("Default", "train"), ("reviews", "mine"), ("tune", "t-001"),
                         ("tune", "t-002"), ("pipe", "pipe-1")}
    train = runs[("Default", "train")]
    assert (train.run.status, train.params, train.run.source) == (
        "Finished", {"epochs": 2}, {"JobName": "train"})
    assert [m.value for m in train.metrics] == [1.0, 0.5]
    assert train.artifacts == {"model": "file:///train/model"}
    assert runs[("reviews", "mine")].run.status == "Running"
    trial = runs[("tune", "t-002")]
    assert (trial.run.status, trial.params, trial.run.source["TrialNumber"]) == (
        "Failed", {"lr": 0.2}, 2)
    assert [m.value for m in runs[("tune", "t-001")].metrics] == [0.7]
    pipe = runs[("pipe", "pipe-1")]
    assert pipe.params == {"MinAccuracy": 0.8} and pipe.run.status == "Finished"
    assert {m.key: m.value for m in pipe.metrics} == {"Prepare/rows": 12.0,
                                                      "Train/loss": 0.5}
    read: list[str] = []
    skipped = collect_runs(jobs, trials, [execution], steps,
                           lambda name: read.append(name) or [],  # type: ignore[func-returns-value]
                           skip=lambda run: run.status != "Running")
    assert [(r.run.experiment, r.run.name) for r in skipped] == [("reviews", "mine")]
    assert read == ["mine"]


def test_sync_imports_once(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(ws)
    stub_other_stores(monkeypatch, executions=[FakeExecution("reviews-1", "reviews")],
                      steps={"reviews-1": [FakeStep("Train", "Training", job_name="train-1")]})
    assert sync(ws) == 2
    assert sync(ws) == 0
    store = ExperimentStore.of(ws.store)
    assert [m.value for m in store.get_metrics("Default", "train-1")] == [0.5, 0.8]
    assert store.get_params("Default", "train-1") == {"epochs": 3, "mode": "supervised"}
    assert [m.key for m in store.get_metrics("reviews", "reviews-1")] == [
        "Train/train:accuracy"]
