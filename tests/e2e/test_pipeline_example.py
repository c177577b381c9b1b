"""``examples/pipeline_reviews.py``: the course pipeline from a clean workspace through
approval, deployment and predictions, on a sample of the real reviews data (about 26 s on
2 quiet cores: both runs of the pipeline, the second one cached)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import REPO, reviews_csv

EXAMPLE = REPO / "examples" / "pipeline_reviews.py"


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLYARD_HOME": str(home)}
    return subprocess.run([sys.executable, str(EXAMPLE), *args], env=env, text=True,
                          capture_output=True, timeout=600, cwd=REPO)


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4,000 rows of the raw reviews CSV (its columns and index, as the original)."""
    if not reviews_csv().exists():
        pytest.skip("the shared reviews CSV is absent")
    path = tmp_path_factory.mktemp("data") / "reviews-sample.csv"
    pd.read_csv(reviews_csv(), index_col=0).sample(n=4000, random_state=0).to_csv(path)
    return path


def test_course_pipeline_runs_approves_deploys_and_predicts(tmp_path: Path,
                                                            sample_csv: Path) -> None:
    home = tmp_path / "ws"
    out = tmp_path / "summary.json"
    proc = _run(home, "--data", str(sample_csv), "--min-accuracy", "0.5", "--epochs", "5",
                "--summary", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(out.read_text())
    assert summary["status"] == "Succeeded"
    assert summary["steps_run"] and {"Prepare", "Train", "Evaluate", "AccuracyOK", "Register",
                                     "CreateModel"} <= set(summary["steps_run"])
    assert "TooLow" not in summary["steps_run"] and summary["cache_hits"] == []
    assert 0.5 <= summary["accuracy"] <= 1.0
    assert len(summary["predictions"]) == 5
    assert all(p["label"] in {"-1", "0", "1"} for p in summary["predictions"])
    assert "Prepare" in proc.stdout and "Succeeded" in proc.stdout   # the step table
    assert not (home / "server.json").exists()                      # the server was stopped

    from mlyard.config import Settings
    from mlyard.core.workspace import Workspace
    from mlyard.registry.service import get_package

    with Workspace(Settings.from_env(home)) as ws:
        package = get_package(ws, summary["model_package"])
        assert package.approval_status == "Approved"
        assert [e.status for e in package.history] == ["PendingManualApproval", "Approved"]
        statistics = package.model_metrics["ModelQuality"]["Statistics"]
        assert statistics["Content"]["metrics"]["accuracy"]["value"] == summary["accuracy"]

    # The same pipeline with a threshold above any accuracy: Prepare, Train and Evaluate are
    # cache hits, the condition is False, TooLow fails the execution, nothing is registered.
    proc = _run(home, "--data", str(sample_csv), "--min-accuracy", "0.999", "--epochs", "5",
                "--summary", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = json.loads(out.read_text())
    assert summary["status"] == "Failed"
    assert {"Prepare", "Train", "Evaluate"} <= set(summary["cache_hits"])
    assert "TooLow" in summary["steps_run"] and "Register" not in summary["steps_run"]
    assert summary["model_package"] is None
    assert "accuracy below threshold" in (summary["failure_reason"] or "")


def test_course_pipeline_without_data_says_where_to_get_it(tmp_path: Path) -> None:
    proc = _run(tmp_path / "ws", "--data", str(tmp_path / "absent.csv"), "--no-deploy")
    assert proc.returncode == 2
    assert "Kaggle" in proc.stderr and "absent.csv" in proc.stderr


def _prepare_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "course_prepare", REPO / "examples" / "pipeline" / "prepare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prepare_is_the_course_transform_and_a_seeded_stratified_split() -> None:
    rows = [(f"review {i}", 1 + i % 5, "Dresses" if i % 7 else "Knits") for i in range(400)]
    rows += [("rare category", 5, "Casual bottoms")] * 3 + [(None, 4, "Dresses")]
    raw = pd.DataFrame(rows, columns=["Review Text", "Rating", "Class Name"])
    prepare = _prepare_module().prepare
    parts = prepare(raw, fractions=(0.8, 0.1, 0.1), seed=42)
    again = prepare(raw.sample(frac=1.0, random_state=1), fractions=(0.8, 0.1, 0.1), seed=42)
    assert list(parts) == ["train", "validation", "test"]
    for name, part in parts.items():
        assert list(part.columns) == ["label", "text"]
        pd.testing.assert_frame_equal(part, again[name])   # the CSV's row order does not matter
    everything = pd.concat(parts.values())
    assert len(everything) == 400                            # missing text, rare category gone
    assert "rare category" not in set(everything["text"])
    assert everything["label"].value_counts().to_dict() == {1: 160, -1: 160, 0: 80}
    assert parts["test"]["label"].value_counts().to_dict() == {1: 16, -1: 16, 0: 8}
    small = prepare(raw, fractions=(0.8, 0.1, 0.1), seed=42, max_rows=100)
    assert sum(len(p) for p in small.values()) == 100
