"""Hyperparameter tuning jobs end to end: strategies, early stopping, warm start, resume
after the driver dies, stop, bad input, the SDK; trials are real training jobs."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import mlyard
from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.records import JobStatus, JobType
from mlyard.core.specs import Channel, MetricDefinitionSpec
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.testing.algorithms import make_text_dataset
from mlyard.training.spec import TrainingJobSpec
from mlyard.tuning.analytics import describe_tuning
from mlyard.tuning.control import resume_tuning, stop_tuning
from mlyard.tuning.ranges import parse_range
from mlyard.tuning.spec import TuningJobSpec, TuningObjective, WarmStartConfig
from mlyard.tuning.store import TrialRecord, TrialStore

SCRIPT = """
import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--x", type=float, default=0.5)
p.add_argument("--y", type=int, default=1)
p.add_argument("--kind", default="a")
p.add_argument("--epochs", type=int, default=3)
p.add_argument("--sleep", type=float, default=0.0)
a, _ = p.parse_known_args()
for e in range(1, a.epochs + 1):
    score = (1 - (a.x - 0.7) ** 2) * e / a.epochs + 0.01 * a.y + (0.05 if a.kind == "b" else 0)
    print(f"epoch {e} score={score:.6f}", flush=True)
    time.sleep(a.sleep)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(str(a.x))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return path


def _training(script: Path, **hps: Any) -> TrainingJobSpec:
    return TrainingJobSpec(
        entry_point=script.name, source_dir=str(script.parent), hyperparameters=hps,
        metric_definitions=[MetricDefinitionSpec(name="score", regex=r"score=([-0-9.]+)")])


def _ranges(*texts: str) -> dict[str, Any]:
    return dict(parse_range(t) for t in texts)


def _tune(ws: Workspace, name: str, script: Path, ranges: dict[str, Any],
          hps: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    spec = TuningJobSpec(training=_training(script, **(hps or {})), ranges=ranges,
                         objective=TuningObjective(metric_name="score"), **kw)
    submit_job(ws, spec, name)
    wait_for_job(ws, name, timeout=300)
    return describe_tuning(ws, name)


def _trial_objectives(desc: dict[str, Any]) -> list[float]:
    return [t["FinalObjectiveValue"] for t in desc["Trials"]
            if t["TrainingJobStatus"] == "Completed"]


@pytest.mark.parametrize("strategy,sampler", [("Random", "tpe"), ("Bayesian", "tpe"),
                                              ("Bayesian", "gp")])
def test_strategies_find_the_best_trial(ws: Workspace, script: Path, strategy: str,
                                        sampler: str) -> None:
    desc = _tune(ws, f"t-{strategy.lower()}-{sampler}", script,
                 _ranges("x=0.0:1.0", "y=1:3", "kind=[a,b]"), strategy=strategy,
                 bayesian_sampler=sampler, max_jobs=6, max_parallel_jobs=2, seed=1)
    assert desc["TrainingJobStatusCounters"]["Completed"] == 6
    best = desc["BestTrainingJob"]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == max(
        _trial_objectives(desc))
    assert ws.store.get_model(best["TrainingJobName"]).job_name == best["TrainingJobName"]
    trials = ws.store.list_jobs(job_type=JobType.TRAINING)
    assert len(trials) == 6


def test_grid_covers_every_combination(ws: Workspace, script: Path) -> None:
    desc = _tune(ws, "t-grid", script, _ranges("y=1:3", "kind=[a,b]"), strategy="Grid",
                 max_jobs=20, max_parallel_jobs=2)
    seen = {(t["TunedHyperParameters"]["y"], t["TunedHyperParameters"]["kind"])
            for t in desc["Trials"]}
    assert len(desc["Trials"]) == 6 and seen == {(y, k) for y in (1, 2, 3) for k in "ab"}
    assert desc["BestTrainingJob"]["TunedHyperParameters"] == {"y": 3, "kind": "b"}


def test_hyperband_stops_poor_trials_at_rungs(ws: Workspace, script: Path) -> None:
    desc = _tune(ws, "t-hyperband", script, _ranges("x=0.0:1.0"),
                 {"epochs": 9, "sleep": 0.15}, strategy="Hyperband", max_jobs=10,
                 max_parallel_jobs=2, seed=3)
    assert desc["EarlyStopped"] >= 1
    stopped = [t for t in desc["Trials"] if (t["StopReason"] or "").startswith("early stop")]
    job = ws.store.get_job(stopped[0]["TrainingJobName"])
    assert job.status is JobStatus.STOPPED and "Hyperband" in (job.failure_reason or "")
    assert desc["BestTrainingJob"] is not None


def test_auto_early_stopping_stops_a_poor_trial(ws: Workspace, script: Path) -> None:
    desc = _tune(ws, "t-early", script, _ranges("x=0.0:1.0"), {"epochs": 6, "sleep": 0.4},
                 strategy="Random", max_jobs=10, max_parallel_jobs=2, early_stopping="Auto",
                 seed=0)
    assert desc["EarlyStopped"] >= 1
    assert desc["TrainingJobStatusCounters"]["Stopped"] == desc["EarlyStopped"]


def test_early_stopped_trials_stop_and_are_counted(ws: Workspace, script: Path) -> None:
    """Issue 10 item 12: with short epochs, trials were logged "early stopping ... not
    promising" yet ran every epoch, ended Completed and were not counted as stopped."""
    epochs = 12
    desc = _tune(ws, "t-early-fast", script, _ranges("x=0.0:1.0"),
                 {"epochs": epochs, "sleep": 0.03}, strategy="Random", max_jobs=10,
                 max_parallel_jobs=2, early_stopping="Auto", seed=0)
    records = {t.training_job: t for t in TrialStore.of(ws.store).list_trials("t-early-fast")}
    early = [t for t in desc["Trials"] if (t["StopReason"] or "").startswith("early stop")]
    assert desc["EarlyStopped"] == len(early) >= 1
    assert desc["TrainingJobStatusCounters"]["Stopped"] == len(early)
    for trial in early:
        assert trial["TrainingJobStatus"] == "Stopped"
        assert ws.store.get_job(trial["TrainingJobName"]).status is JobStatus.STOPPED
    # they stopped: most did not run all their epochs (one whose stop came during its last
    # epochs may have run them, and is Stopped all the same)
    ran = [len(records[t["TrainingJobName"]].intermediate) for t in early]
    assert sum(1 for n in ran if n < epochs) >= len(ran) / 2, ran
    logs = [line.line for line in ws.store.get_logs("t-early-fast")]
    requested = [line for line in logs if ": early stopping:" in line]
    late = [line for line in logs if "completed before its early stop took effect" in line]
    assert len(requested) == len(early) + len(late)
    print(f"early-stopped trials ran {ran} of {epochs} epochs; {len(late)} finished first")


def test_warm_start_reuses_parent_trials(ws: Workspace, script: Path) -> None:
    _tune(ws, "parent", script, _ranges("x=0.0:1.0"), strategy="Random", max_jobs=4,
          max_parallel_jobs=2)
    child = _tune(ws, "child", script, _ranges("x=0.0:1.0"), strategy="Bayesian",
                  max_jobs=2, warm_start=WarmStartConfig(parents=["parent"]))
    logs = [line.line for line in ws.store.get_logs("child")]
    assert any("warm start (IdenticalDataAndAlgorithm): 4 trial(s) from parent" in line
               for line in logs)
    assert len(child["Trials"]) == 2  # the parent's trials are not re-run
    narrower = _tune(ws, "child-tl", script, _ranges("x=0.5:1.0"), strategy="Bayesian",
                     max_jobs=1, warm_start=WarmStartConfig(parents=["parent"],
                                                            type="TransferLearning"))
    parents_inside = sum(1 for t in describe_tuning(ws, "parent")["Trials"]
                         if t["TunedHyperParameters"]["x"] >= 0.5)
    logs = [line.line for line in ws.store.get_logs("child-tl")]
    assert any(f"warm start (TransferLearning): {parents_inside} trial(s)" in line
               for line in logs)
    assert narrower["TrainingJobStatusCounters"]["Completed"] == 1


def test_resume_after_the_driver_dies(ws: Workspace, script: Path) -> None:
    spec = TuningJobSpec(training=_training(script, epochs=2, sleep=0.4),
                         ranges=_ranges("x=0.0:1.0"), objective=TuningObjective(
                             metric_name="score"), strategy="Random", max_jobs=5,
                         max_parallel_jobs=1)
    submit_job(ws, spec, "t-resume")
    deadline = time.monotonic() + 120
    while len([t for t in TrialStore.of(ws.store).list_trials("t-resume")
               if t.status is JobStatus.COMPLETED]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    pid = ws.store.get_job("t-resume").pid
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # the driver only: trials run in their own sessions
    rec = wait_for_job(ws, "t-resume", timeout=60, raise_on_failure=False)
    assert rec.status is JobStatus.FAILED
    resume_tuning(ws, "t-resume")
    wait_for_job(ws, "t-resume", timeout=180)
    trials = TrialStore.of(ws.store).list_trials("t-resume")
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert len(ws.store.list_jobs(job_type=JobType.TRAINING)) == 5  # none ran twice
    assert all(t.status is JobStatus.COMPLETED for t in trials)
    logs = [line.line for line in ws.store.get_logs("t-resume")]
    assert any(line.startswith("resuming:") for line in logs)


@pytest.mark.parametrize("strategy", ["Random", "Bayesian"])
def test_resume_does_not_repeat_earlier_points(ws: Workspace, script: Path,
                                               strategy: str) -> None:
    """Issue 10 item 12: a resumed driver's sampler started again from its first draw, so
    the next trial repeated trial 0's point (Random; Bayesian's random start-up too)."""
    spec = TuningJobSpec(training=_training(script, epochs=1, sleep=0.0),
                         ranges=_ranges("x=0.0:1.0"), objective=TuningObjective(
                             metric_name="score"), strategy=strategy, max_jobs=3,
                         max_parallel_jobs=1, seed=5)
    name = f"t-norepeat-{strategy.lower()}"
    # what a first driver of the same search did before it was stopped: trial 0
    submit_job(ws, spec.model_copy(update={"max_jobs": 1}), f"{name}-a")
    wait_for_job(ws, f"{name}-a", timeout=120)
    submit_job(ws, spec, name, launch=False)
    store = TrialStore.of(ws.store)
    for t in store.list_trials(f"{name}-a"):
        store.put_trial(TrialRecord(name, t.number, t.training_job, t.hyperparameters,
                                    t.status, t.objective, t.intermediate, t.started_at,
                                    t.ended_at, t.stop_reason))
    ws.store.transition_job(name, JobStatus.STOPPED, expected=[JobStatus.PENDING],
                            failure_reason="stopped")
    resume_tuning(ws, name)
    wait_for_job(ws, name, timeout=180)
    trials = store.list_trials(name)
    assert [t.number for t in trials] == [0, 1, 2]
    xs = [t.hyperparameters["x"] for t in trials]
    assert len(set(xs)) == len(xs), f"the resumed {strategy} search repeated a point: {xs}"


def test_resume_creates_the_job_of_a_trial_recorded_before_its_driver_died(
        ws: Workspace, script: Path) -> None:
    spec = TuningJobSpec(training=_training(script, epochs=1, sleep=0.0),
                         ranges=_ranges("x=0.0:1.0"), objective=TuningObjective(
                             metric_name="score"), strategy="Random", max_jobs=2,
                         max_parallel_jobs=1)
    submit_job(ws, spec, "t-orphan", launch=False)
    # the driver recorded trial 0 and died before it created the trial's training job
    TrialStore.of(ws.store).put_trial(TrialRecord("t-orphan", 0, "t-orphan-000", {"x": 0.25},
                                                  JobStatus.PENDING, started_at=time.time()))
    ws.store.transition_job("t-orphan", JobStatus.FAILED, expected=[JobStatus.PENDING],
                            failure_reason="driver died")
    resume_tuning(ws, "t-orphan")
    wait_for_job(ws, "t-orphan", timeout=180)
    trials = TrialStore.of(ws.store).list_trials("t-orphan")
    assert [t.number for t in trials] == [0, 1]
    assert trials[0].hyperparameters == {"x": 0.25}
    assert all(t.status is JobStatus.COMPLETED for t in trials)
    assert ws.store.get_job("t-orphan-000").status is JobStatus.COMPLETED


def test_stopping_a_tuning_job_stops_its_trials(ws: Workspace, script: Path) -> None:
    spec = TuningJobSpec(training=_training(script, epochs=50, sleep=0.2),
                         ranges=_ranges("x=0.0:1.0"), objective=TuningObjective(
                             metric_name="score"), strategy="Random", max_jobs=4,
                         max_parallel_jobs=2)
    submit_job(ws, spec, "t-stop")
    deadline = time.monotonic() + 60

    def in_progress(job: str) -> bool:  # a trial is recorded just before its job is created
        try:
            return ws.store.get_job(job).status is JobStatus.IN_PROGRESS
        except NotFoundError:
            return False

    trials = TrialStore.of(ws.store)
    while sum(1 for t in trials.list_trials("t-stop") if in_progress(t.training_job)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    rec = stop_tuning(ws, "t-stop")
    assert rec.status is JobStatus.STOPPED
    for trial in TrialStore.of(ws.store).list_trials("t-stop"):
        assert ws.store.get_job(trial.training_job).status is JobStatus.STOPPED


def test_bad_tuning_requests_are_refused_before_any_trial(ws: Workspace, tmp_path: Path,
                                                         script: Path) -> None:
    train = make_text_dataset(tmp_path / "t.csv", 30)
    bt = TrainingJobSpec(algorithm="blazingtext", channels=[Channel(name="train",
                                                                     uri=str(train))])

    def refused(match: str, **kw: Any) -> None:
        with pytest.raises((ValidationError, ValueError), match=match):
            args: dict[str, Any] = {"training": bt, "objective": TuningObjective(
                metric_name="train:accuracy"), "ranges": _ranges("learning_rate=0.01:1.0")}
            args.update(kw)
            submit_job(ws, TuningJobSpec(**args), "bad")

    refused("nope is not a hyperparameter", ranges=_ranges("nope=1:3"))
    refused("inverted|empty|min", ranges={"learning_rate": {"type": "Continuous",
                                                           "min_value": 0.5, "max_value": 0.1}})
    refused("zero", ranges={"learning_rate": {"type": "Continuous", "min_value": 0.0,
                                              "max_value": 0.5, "scaling": "Logarithmic"}})
    refused("no values|at least one", ranges={"vector_dim": {"type": "Categorical",
                                                            "values": []}})
    refused("never emits", objective=TuningObjective(metric_name="validation:f1"))
    refused("max_parallel_jobs", max_jobs=2, max_parallel_jobs=3)
    refused("Grid search needs", strategy="Grid")
    refused("outside the allowed", ranges=_ranges("learning_rate=0.001:50.0"))
    with pytest.raises(ValidationError, match="metric definitions"):
        submit_job(ws, TuningJobSpec(training=_training(script), ranges=_ranges("x=0:1"),
                                     objective=TuningObjective(metric_name="loss")), "bad2")
    assert ws.store.list_jobs() == []


def test_sdk_tuner_on_blazingtext(ws: Workspace, tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 60, seed=2)
    est = mlyard.Estimator("blazingtext", hyperparameters={"epochs": 4, "threads": 1,
                                                           "buckets": 20000})
    tuner = mlyard.HyperparameterTuner(
        est, "validation:accuracy",
        {"learning_rate": mlyard.ContinuousParameter(min_value=0.05, max_value=1.0,
                                                     scaling="Logarithmic"),
         "vector_dim": mlyard.CategoricalParameter(values=[10, 20])},
        strategy="Bayesian", max_jobs=4, max_parallel_jobs=2)
    name = tuner.fit({"train": str(train), "validation": str(val)}, job_name="sdk-tune")
    assert name == "sdk-tune"
    frame = tuner.analytics().dataframe()
    assert len(frame) == 4 and {"learning_rate", "vector_dim", "FinalObjectiveValue"} <= set(
        frame.columns)
    best = tuner.best_training_job()
    assert frame["FinalObjectiveValue"].max() == pytest.approx(
        frame.set_index("TrainingJobName").loc[best, "FinalObjectiveValue"])
    model = tuner.best_estimator_model()
    assert model.predict(["love perfect beautiful"])[0]["label"][0] in {"pos", "neg", "mid"}
    outputs = ws.store.get_job("sdk-tune").outputs
    assert outputs["best_training_job"] == best
    report = ws.artifacts.local_path(outputs["report"])
    assert report is not None and "parallel" in report.read_text().lower()
