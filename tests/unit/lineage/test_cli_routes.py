"""``mlyard lineage`` (click's runner) and ``GET /api/lineage`` (Starlette's client)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mlyard.cli.commands_lineage import COMMANDS
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError
from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.routes.lineage import routes
from tests.unit.lineage.fakes import fill


@pytest.fixture
def filled(ws: Workspace) -> Workspace:
    fill(ws)
    return ws


def _cli() -> click.Group:
    group = click.Group("mlyard")
    for command in COMMANDS:
        group.add_command(command)
    return group


def test_cli_table_json_html(filled: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    obj = {"workspace": filled}
    result = runner.invoke(_cli(), ["lineage", "bt-1"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "Name/Source" in result.output and "train-1" in result.output
    assert "file:///data/raw.csv" in result.output
    result = runner.invoke(_cli(), ["lineage", "train-1", "--downstream", "--depth", "1",
                                    "--json"], obj=obj)
    data = json.loads(result.output)
    assert data["Direction"] == "downstream"
    assert {e["Id"] for e in data["Entities"]} == {"artifact:file:///art/train-1/model"}
    page = tmp_path / "lineage.html"
    result = runner.invoke(_cli(), ["lineage", "endpoint:reviews", "--html", str(page)],
                           obj=obj)
    assert result.exit_code == 0 and "<svg" in page.read_text()
    result = runner.invoke(_cli(), ["lineage", "ghost"], obj=obj)
    assert isinstance(result.exception, NotFoundError)
    result = runner.invoke(_cli(), ["lineage", "bt-1", "--depth", "0"], obj=obj)
    assert result.exit_code == 2


def test_route(filled: Workspace) -> None:
    client = TestClient(Starlette(routes=routes(filled),
                                  exception_handlers=EXCEPTION_HANDLERS))
    reply = client.get("/api/lineage", params={"entity": "bt-1", "direction": "UPSTREAM"})
    assert reply.status_code == 200
    assert "artifact:file:///data/raw.csv" in {e["Id"] for e in reply.json()["Entities"]}
    assert client.get("/api/lineage", params={"entity": "ghost"}).status_code == 404
    assert client.get("/api/lineage").status_code == 400
    assert client.get("/api/lineage", params={"entity": "bt-1",
                                              "direction": "up"}).status_code == 400
    assert client.get("/api/lineage", params={"entity": "bt-1",
                                              "depth": "0"}).status_code == 400
