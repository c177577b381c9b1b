"""`mlyard demo` on the real reviews data reaches the issue's accuracy figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import reviews_csv


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MLYARD_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "mlyard", "demo", *args], env=env, text=True,
                          capture_output=True, timeout=600)


@pytest.mark.skipif(not reviews_csv().exists(), reason="the shared reviews CSV is absent")
def test_demo_end_to_end(tmp_path: Path) -> None:
    data = reviews_csv()
    proc = _run(tmp_path / "ws", "--data", str(data), "--ab")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "ws" / "demo-summary.json").read_text())
    assert summary["transformed_rows"] == 22_626
    assert summary["sentiment_counts"] == {"-1": 2_370, "0": 2_823, "1": 17_433}
    assert summary["accuracy"] >= 0.81 and summary["macro_f1"] >= 0.60
    assert summary["n_test"] == summary["n_predictions"] > 2000
    assert summary["train_seconds"] > 0 and summary["train_words_per_second"] > 0
    assert Path(summary["evaluation_report"]).exists()
    assert summary["ab_requests"] == 600 and summary["ab_traffic_to"] in {"A", "B"}
    assert all(0.7 < acc < 1.0 for acc in summary["ab_accuracy"].values())
    assert not (tmp_path / "ws" / "server.json").exists()  # the demo stopped its server


def test_demo_without_data_says_where_to_get_it(tmp_path: Path) -> None:
    proc = _run(tmp_path / "ws", "--data", str(tmp_path / "absent.csv"))
    assert proc.returncode == 2
    assert "Kaggle" in proc.stderr and "absent.csv" in proc.stderr
