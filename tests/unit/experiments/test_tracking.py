"""MLflow-like tracking into a fresh workspace, and comparing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.experiments import tracking
from mlyard.experiments.compare import compare, compare_html, resolve_run
from mlyard.experiments.store import ExperimentStore
from mlyard.sdk import experiments as sdk
from tests.unit.lineage.fakes import fill


@pytest.fixture(autouse=True)
def no_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLYARD_JOB_NAME", raising=False)
    monkeypatch.delenv("MLYARD_EXPERIMENT_NAME", raising=False)


def test_runs_log_params_metrics_artifacts(ws: Workspace, tmp_path: Path) -> None:
    with tracking.start_run(experiment="reviews", run_name="lr-0.1", ws=ws) as run:
        tracking.log_param("lr", 0.1)
        tracking.log_params({"epochs": 3})
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            tracking.log_metric("loss", loss, step=step)
        tracking.log_metrics({"acc": 0.8})
        (tmp_path / "plot.txt").write_text("x")
        uri = tracking.log_artifact(tmp_path / "plot.txt")
        with pytest.raises(ValidationError, match="not a number"):
            tracking.log_metric("bad", "abc")  # type: ignore[arg-type]
    assert tracking.active_run() is None
    store = ExperimentStore.of(ws.store)
    record = store.get_run("reviews", "lr-0.1")
    assert record.status == "Finished" and record.ended_at is not None
    assert store.get_params("reviews", "lr-0.1") == {"epochs": 3, "lr": 0.1}
    assert [(m.value, m.step) for m in store.get_metrics("reviews", "lr-0.1", "loss")] == [
        (0.9, 0), (0.5, 1), (0.3, 2)]
    assert store.get_artifacts("reviews", "lr-0.1") == {"plot.txt": uri}
    assert ws.artifacts.read_bytes(uri) == b"x"
    assert run.name == "lr-0.1"
    with pytest.raises(RuntimeError), tracking.start_run(run_name="boom", ws=ws):
        raise RuntimeError("x")
    assert store.get_run("Default", "boom").status == "Failed"
    with pytest.raises(ValidationError, match="does not exist"):
        tracking.start_run(ws=ws).log_artifact(tmp_path / "missing")
    tracking.end_run()


def test_inside_a_job_the_default_run_is_the_jobs(ws: Workspace,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLYARD_JOB_NAME", "train-7")
    monkeypatch.setenv("MLYARD_EXPERIMENT_NAME", "reviews")
    with tracking.start_run(ws=ws) as run:
        tracking.log_metric("f1", 0.7)
    assert (run.experiment, run.name) == ("reviews", "train-7")
    record = ExperimentStore.of(ws.store).get_run("reviews", "train-7")
    assert record.status == "Running"  # the job's status decides
    assert record.source == {"JobName": "train-7"}


def test_compare_runs(ws: Workspace) -> None:
    fill(ws)
    for name, lr, loss in (("a", 0.1, 0.4), ("b", 0.2, 0.3)):
        with tracking.start_run("reviews", name, ws=ws):
            tracking.log_params({"lr": lr})
            tracking.log_metric("loss", loss + 0.2, step=0)
            tracking.log_metric("loss", loss, step=1)
    frame = compare(ws, ["reviews/a", "b", "train-1"])
    assert list(frame.columns) == ["reviews/a", "reviews/b", "Default/train-1"]
    assert frame.loc["metrics.loss", "reviews/b"] == 0.3
    assert frame.loc["params.lr", "reviews/a"] == 0.1
    assert frame.loc["metrics.train:accuracy", "Default/train-1"] == 0.8
    html = compare_html(ws, ["reviews/a", "reviews/b"])
    assert html.count("<img") == 1 and "reviews/a" in html
    with tracking.start_run("other", "a", ws=ws):
        pass
    with pytest.raises(ValidationError, match="several experiments"):
        resolve_run(ExperimentStore.of(ws.store), "a")
    with pytest.raises(NotFoundError):
        compare(ws, ["ghost"])
    with pytest.raises(ValidationError):
        compare(ws, [])
    assert [r.name for r in sdk.Experiment("reviews", ws).runs()] == ["a", "b"]
    assert "other" in [e.name for e in sdk.list_experiments(ws)]
    assert list(sdk.Run("reviews", "a", ws).metrics("loss")["value"]) == pytest.approx([0.6, 0.4])
    assert sdk.compare(sdk.Run("reviews", "a", ws), "reviews/b", ws=ws).shape[1] == 2
