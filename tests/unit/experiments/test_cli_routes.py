"""``mlyard experiments`` (click's runner) and the experiment routes (Starlette)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mlyard.cli.commands_experiments import COMMANDS
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError
from mlyard.experiments import tracking
from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.routes.experiments import routes
from tests.unit.lineage.fakes import fill


@pytest.fixture
def filled(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("MLYARD_JOB_NAME", raising=False)
    fill(ws)
    with tracking.start_run("reviews", "manual", ws=ws):
        tracking.log_params({"lr": 0.1})
        tracking.log_metric("loss", 0.4, step=1)
    return ws


def _cli() -> click.Group:
    group = click.Group("mlyard")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_cli(filled: Workspace, tmp_path: Path) -> None:
    runner, obj = CliRunner(), {"workspace": filled}

    def run(*args: str) -> str:
        result = runner.invoke(_cli(), ["experiments", *args], obj=obj)
        assert result.exit_code == 0, result.output
        return result.output

    listed = json.loads(run("list", "--json"))
    assert {e["ExperimentName"]: e["Runs"] for e in listed} == {"Default": 1, "reviews": 1}
    assert "Default" in run("list")
    assert [r["Run"] for r in json.loads(run("runs", "Default", "--json"))] == ["train-1"]
    assert "JobName=train-1" in run("runs", "Default")
    described = json.loads(run("describe-run", "train-1", "--json"))
    assert described["Params"]["epochs"] == 3
    assert [m["Value"] for m in described["Metrics"]] == [0.5, 0.8]
    assert "train:accuracy" in run("describe-run", "Default/train-1")
    page = tmp_path / "compare.html"
    text = run("compare", "train-1", "reviews/manual", "--html", str(page))
    assert "params.lr" in text and "metrics.train:accuracy" in text
    assert page.read_text().count("<img") == 2
    data = json.loads(run("compare", "train-1", "manual", "--json"))
    assert data["reviews/manual"]["Metrics"] == {"loss": 0.4}
    result = runner.invoke(_cli(), ["experiments", "runs", "ghost"], obj=obj)
    assert isinstance(result.exception, NotFoundError)


def test_routes(filled: Workspace) -> None:
    client = TestClient(Starlette(routes=routes(filled),
                                  exception_handlers=EXCEPTION_HANDLERS))
    assert {e["ExperimentName"] for e in client.get("/api/experiments").json()} == {
        "Default", "reviews"}
    runs = client.get("/api/experiments/reviews/runs").json()
    assert [r["Run"] for r in runs] == ["manual"]
    run = client.get("/api/runs/Default/train-1").json()
    assert run["Params"] == {"epochs": 3, "mode": "supervised"}
    assert len(run["Metrics"]) == 2
    assert client.get("/api/experiments/ghost/runs").status_code == 404
    assert client.get("/api/runs/Default/ghost").status_code == 404
