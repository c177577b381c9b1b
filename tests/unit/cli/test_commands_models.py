"""``mlyard models`` and ``algorithms``: ``--json`` output scripts can read."""

from __future__ import annotations

import json

from mlyard.core.workspace import Workspace
from tests.unit.cli.test_commands_jobs import _run


def test_models_list_json_empty(ws: Workspace) -> None:
    out = _run("models", "list", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == []


def test_algorithms_list_and_describe_json(ws: Workspace) -> None:
    names = [a["AlgorithmName"] for a in json.loads(_run("algorithms", "list", "--json").output)]
    assert "blazingtext" in names
    desc = json.loads(_run("algorithms", "describe", "blazingtext", "--json").output)
    assert desc["AlgorithmName"] == "blazingtext"
    epochs = next(h for h in desc["HyperParameters"] if h["Name"] == "epochs")
    assert epochs["Tunable"] in (True, False) and epochs["Type"]
    assert any(m["Name"] == "validation:accuracy" for m in desc["MetricDefinitions"])
