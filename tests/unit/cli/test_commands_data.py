"""``mlyard tokenize`` and ``mlyard tables``: Ctrl-C while tokenizing leaves the job running
and says so; ``tables list`` prints JSON on request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.cli import commands_data
from mlyard.core.workspace import Workspace
from tests.unit.cli.test_commands_jobs import _interrupt, _run


def test_ctrl_c_while_tokenizing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = tmp_path / "raw.csv"
    data.write_text("label,text\n1,good\n0,bad\n")
    monkeypatch.setattr(commands_data, "wait_for_job", _interrupt)
    monkeypatch.setattr(type(ws.executor), "submit", lambda self, name: None)
    out = _run("tokenize", "--input", str(data), "--name", "tok-1")
    assert out.exit_code == 130, out.output
    assert "job tok-1 goes on in the background" in out.output
    assert "mlyard jobs stop tok-1" in out.output


def test_tables_list_json(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a,b\n1,2\n")
    assert _run("tables", "register", "t1", str(data)).exit_code == 0
    rows = json.loads(_run("tables", "list", "--json").output)
    assert [r["name"] for r in rows] == ["t1"]
