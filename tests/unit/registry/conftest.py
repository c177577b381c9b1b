"""Fixtures of the registry's unit tests: registered stand-in models and an evaluation
file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.core.workspace import Workspace
from mlyard.testing.models import save_test_model


@pytest.fixture
def models(ws: Workspace, tmp_path: Path) -> list[str]:
    """Two registered echo models, ``m-1`` and ``m-2``."""
    names = ["m-1", "m-2"]
    for name in names:
        model_dir = save_test_model(tmp_path / name, "echo")
        ws.store.create_model(name, ws.artifacts.upload(
            model_dir, ws.artifacts.uri("models", name)), "test")
    return names


@pytest.fixture
def evaluation(tmp_path: Path) -> Path:
    """An evaluation.json as the course's evaluate step writes it."""
    path = tmp_path / "evaluation.json"
    path.write_text(json.dumps({"metrics": {"accuracy": {"value": 0.87}}}))
    return path
