"""What the CLI does with a hostile model directory (``mlyard evaluate``, ``models
describe``): refuse it with one line and a non-zero exit, run none of its code, and say
plainly which models run user code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.cli.main import main
from mlyard.core.workspace import Workspace
from mlyard.models.base import write_manifest
from mlyard.models.handler import SCRIPT, handler_manifest
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.models import save_test_model
from tests.unit.models.test_base import hostile_model


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI as ``mlyard`` runs it: (exit status, stdout, stderr)."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _register(ws: Workspace, name: str, model_dir: Path, flavor: str) -> None:
    ws.store.create_model(name, model_dir.resolve().as_uri(), flavor)


def test_evaluate_refuses_a_manifest_loader_and_runs_no_payload(
        ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    _register(ws, "evil", hostile_model(tmp_path / "evil", marker), "blazingtext")
    data = make_text_dataset(tmp_path / "data.csv", 20)
    code, out, err = _run(capsys, "evaluate", "--model", "evil", "--data", str(data))
    assert code == 2, (out, err)
    assert err.startswith("error: ")
    assert "'site:addsitedir' is not the loader of flavor 'blazingtext'" in err
    assert "Traceback" not in out + err
    assert not marker.exists()


def test_describe_says_what_loading_runs(ws: Workspace, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    _register(ws, "evil", hostile_model(tmp_path / "evil", marker), "blazingtext")
    _register(ws, "echo", save_test_model(tmp_path / "echo"), "test")
    handler_dir = tmp_path / "handler"
    write_manifest(handler_dir, handler_manifest())
    (handler_dir / SCRIPT).parent.mkdir()
    (handler_dir / SCRIPT).write_text("def model_fn(model_dir):\n    return None\n")
    _register(ws, "scripted", handler_dir, "pytorch-handler")

    def loading(name: str) -> str:
        code, out, err = _run(capsys, "models", "describe", name)
        assert code == 0, err
        return str(json.loads(out)["Loading"])

    assert loading("scripted") == "flavor: pytorch-handler - runs user code: code/inference.py"
    assert loading("echo").startswith("flavor: test - no user code; reads mlyard-model.json")
    refused = loading("evil")
    assert refused.startswith("refused: ")
    assert "'site:addsitedir' is not the loader of flavor 'blazingtext'" in refused
    assert not marker.exists()
