"""The ``mlyard pipelines`` commands and the read-only pipeline routes on a small pipeline
(a condition on a parameter and a Fail step; only the driver job runs)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mlyard.cli.commands_pipelines import COMMANDS
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.routes.pipelines import routes

DEFINITION = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Score", "Type": "Float", "DefaultValue": 2.0}],
    "Steps": [{"Name": "Check", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.Score"},
                        "RightValue": 1.0}],
        "IfSteps": [],
        "ElseSteps": [{"Name": "TooLow", "Type": "Fail",
                       "Arguments": {"ErrorMessage": "score too low"}}]}}]}


def _cli() -> click.Group:
    group = click.Group("mlyard")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_cli_and_routes(ws: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    cli = _cli()
    path = tmp_path / "def.json"
    path.write_text(json.dumps(DEFINITION))
    result = runner.invoke(cli, ["pipelines", "upsert", "gate", "--definition", str(path)])
    assert result.exit_code == 0, result.output
    assert "pipeline gate version 1" in result.output

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DEFINITION, "Steps": [{"Name": "X", "Type": "Robot"}]}))
    result = runner.invoke(cli, ["pipelines", "upsert", "gate", "--definition", str(bad)])
    assert isinstance(result.exception, ValidationError)
    assert "X" in str(result.exception)

    result = runner.invoke(cli, ["pipelines", "start", "gate", "--wait"])
    assert result.exit_code == 0, result.output
    good = result.output.splitlines()[0]
    assert f"pipeline execution {good} Succeeded" in result.output

    result = runner.invoke(cli, ["pipelines", "start", "gate", "--param", "Score=0.5",
                                 "--wait", "--display-name", "low"])
    assert result.exit_code == 1
    low = result.output.splitlines()[0]
    assert "Failed: score too low" in result.output

    result = runner.invoke(cli, ["pipelines", "start", "gate", "--param", "Score=abc"])
    assert isinstance(result.exception, ValidationError)
    assert "Score" in str(result.exception)

    steps = json.loads(runner.invoke(cli, ["pipelines", "steps", low, "--json"]).output)
    assert {s["StepName"]: s["StepStatus"] for s in steps} == {"Check": "Succeeded",
                                                               "TooLow": "Failed"}
    table = runner.invoke(cli, ["pipelines", "steps", good]).output
    assert "outcome True" in table
    listed = json.loads(runner.invoke(cli, ["pipelines", "executions", "gate",
                                            "--json"]).output)
    assert [e["PipelineExecutionArn"] for e in listed] == [low, good]
    assert listed[0]["DisplayName"] == "low"
    assert "gate" in runner.invoke(cli, ["pipelines", "list"]).output
    assert json.loads(runner.invoke(cli, ["pipelines", "definition", "gate"]).output) \
        == DEFINITION
    result = runner.invoke(cli, ["pipelines", "wait", low])
    assert result.exit_code == 1
    result = runner.invoke(cli, ["pipelines", "describe", "ghost"])
    assert isinstance(result.exception, NotFoundError)

    http = TestClient(Starlette(routes=routes(ws), exception_handlers=EXCEPTION_HANDLERS),
                      raise_server_exceptions=False)
    assert [p["PipelineName"] for p in http.get("/api/pipelines").json()] == ["gate"]
    one = http.get("/api/pipelines/gate").json()
    assert one["PipelineDefinition"] == DEFINITION and one["PipelineVersion"] == 1
    execs = http.get("/api/pipelines/gate/executions").json()
    assert [e["PipelineExecutionStatus"] for e in execs] == ["Failed", "Succeeded"]
    assert http.get(f"/api/pipeline-executions/{low}").json()["FailureReason"] == \
        "score too low"
    assert len(http.get(f"/api/pipeline-executions/{low}/steps").json()) == 2
    deleted = runner.invoke(cli, ["pipelines", "delete", "gate"])
    assert deleted.exit_code == 0 and "pipeline gate deleted" in deleted.output
    assert http.get("/api/pipelines").json() == []
    assert http.get(f"/api/pipeline-executions/{low}").status_code == 404
    for url in ("/api/pipelines/ghost", "/api/pipelines/ghost/executions",
                "/api/pipeline-executions/ghost", "/api/pipeline-executions/ghost/steps",
                "/api/pipelines/..%2Fx", "/api/pipeline-executions/a_b"):
        assert http.get(url).status_code == 404, url


@pytest.mark.parametrize("args", [["pipelines", "start", "gate", "--param", "Score"],
                                  ["pipelines", "retry", "nope"]])
def test_cli_bad_input(ws: Workspace, args: list[str]) -> None:
    from mlyard.pipelines.client import upsert_pipeline

    upsert_pipeline(ws, "gate", DEFINITION)
    result = CliRunner().invoke(_cli(), args)
    assert isinstance(result.exception, ValidationError | NotFoundError)
