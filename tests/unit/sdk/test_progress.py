"""The progress line of ``Estimator.fit`` / ``HyperparameterTuner.fit``: status, epoch,
last metric and elapsed time; rewritten in place on a terminal, periodic lines elsewhere."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mlyard.core.records import JobRecord, JobStatus, MetricPoint
from mlyard.core.workspace import Workspace
from mlyard.sdk import jobs as sdk_jobs
from mlyard.sdk.progress import JobProgress, training_detail
from mlyard.sdk.tuner import tuning_detail
from mlyard.tuning.store import TrialRecord, TrialStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _training(ws: Workspace, name: str = "bt-1") -> JobRecord:
    ws.store.create_job(name, "training", {"hyperparameters": {"epochs": 10}})
    ws.store.put_metrics(
        name,
        [
            MetricPoint("train:loss", 0.5, 2, 10.0),
            MetricPoint("validation:accuracy", 0.91234, 3, 12.0),
        ],
    )
    return ws.store.get_job(name)


def _with(record: JobRecord, status: JobStatus) -> JobRecord:
    from dataclasses import replace

    return replace(record, status=status)


def test_training_detail_is_last_epoch_and_metric(ws: Workspace) -> None:
    record = _training(ws)
    assert training_detail(ws, record) == "epoch 3/10 validation:accuracy=0.9123"
    ws.store.create_job("empty", "training", {})
    assert training_detail(ws, ws.store.get_job("empty")) == ""


def test_plain_output_prints_on_change_and_at_most_every_interval(ws: Workspace) -> None:
    record = _training(ws)
    out, clock = io.StringIO(), Clock()
    show = JobProgress(ws, "bt-1", stream=out, tty=False, every_seconds=30.0, clock=clock)
    show(record)  # Pending: first line
    clock.now = 1.0
    show(record)  # same status, too soon: nothing
    show(_with(record, JobStatus.IN_PROGRESS))  # status changed
    clock.now = 20.0
    show(_with(record, JobStatus.IN_PROGRESS))
    clock.now = 32.0
    show(_with(record, JobStatus.IN_PROGRESS))  # interval passed
    show(_with(record, JobStatus.COMPLETED))
    show(_with(record, JobStatus.COMPLETED))  # after the end: nothing
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == [
        "Pending",
        "InProgress",
        "InProgress",
        "Completed",
    ]
    assert lines[0] == "bt-1 Pending epoch 3/10 validation:accuracy=0.9123 elapsed 0s"
    assert "\r" not in out.getvalue()


def test_tty_output_rewrites_one_line(ws: Workspace) -> None:
    record = _training(ws)
    out, clock = io.StringIO(), Clock()
    show = JobProgress(ws, "bt-1", stream=out, tty=True, clock=clock)
    show(_with(record, JobStatus.IN_PROGRESS))
    clock.now = 2.0
    show(_with(record, JobStatus.IN_PROGRESS))
    show(_with(record, JobStatus.COMPLETED))
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert text.rstrip("\n").rsplit("\r", 1)[-1].startswith("bt-1 Completed epoch 3/10")


def test_job_wait_shows_progress_unless_logs(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record = _training(ws)
    ws.store.transition_job("bt-1", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
    ws.store.transition_job("bt-1", JobStatus.COMPLETED, expected=[JobStatus.IN_PROGRESS])
    job = sdk_jobs.TrainingJob(ws, record.name)
    job.wait(progress=True)
    assert "bt-1 Completed epoch 3/10 validation:accuracy=0.9123" in capsys.readouterr().out
    job.wait(logs=True, progress=True)  # the full log instead (here: empty), no line
    assert capsys.readouterr().out == ""
    job.wait()
    assert capsys.readouterr().out == ""


def test_estimator_fit_shows_progress_by_default(
    ws: Workspace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlyard.sdk.estimator import Estimator

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(sdk_jobs.TrainingJob, "wait", lambda self, **kw: seen.append(kw))
    monkeypatch.setattr(type(ws.executor), "submit", lambda self, name: None)
    data = tmp_path / "t.txt"
    data.write_text("__label__a good\n__label__b bad\n")
    est = Estimator("blazingtext", workspace=ws)
    est.fit(data, job_name="bt-2")
    est.fit(data, job_name="bt-3", logs=True)
    est.fit(data, job_name="bt-4", progress=False)
    assert seen == [
        {"logs": False, "progress": True},
        {"logs": True, "progress": True},
        {"logs": False, "progress": False},
    ]


def test_tuning_detail_counts_trials_and_best(ws: Workspace) -> None:
    ws.store.create_job(
        "tu-1",
        "tuning",
        {"max_jobs": 5, "objective": {"metric_name": "validation:loss", "type": "Minimize"}},
    )
    trials = TrialStore.of(ws.store)
    trials.put_trial(TrialRecord("tu-1", 0, "tu-1-000", {}, JobStatus.COMPLETED, 0.4))
    trials.put_trial(TrialRecord("tu-1", 1, "tu-1-001", {}, JobStatus.COMPLETED, 0.3))
    trials.put_trial(TrialRecord("tu-1", 2, "tu-1-002", {}, JobStatus.IN_PROGRESS))
    assert (
        tuning_detail(ws, ws.store.get_job("tu-1"))
        == "trials 2/5 done, 1 running, best validation:loss=0.3"
    )
