"""``--skip-bad-rows`` on the commands that read user data: the same file is refused the
same way everywhere (file and line), and skipped with a count when the user opts in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlyard.testing.algorithms import make_text_dataset

FAST_HPS = [
    "--hp",
    "epochs=2",
    "--hp",
    "vector_dim=8",
    "--hp",
    "buckets=2000",
    "--hp",
    "min_count=1",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["MLYARD_HOME"] = str(tmp_path / "ws")
    for var in ("MLYARD_EXECUTOR", "MLYARD_DB_URL", "MLYARD_ARTIFACT_ROOT"):
        out.pop(var, None)
    return out


def mlyard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlyard", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )


def _bad_copy(good: Path, bad: Path) -> int:
    """``good`` plus two bad rows (a ragged one, one not UTF-8); the ragged row's line."""
    data = good.read_bytes()
    end = b"\r\n" if data.endswith(b"\r\n") else b"\n"
    bad.write_bytes(data + b"pos" + end + b"neg,caf\xe9 \xff" + end)
    return data.count(b"\n") + 1


def test_the_same_bad_file_everywhere(env: dict[str, str], tmp_path: Path) -> None:
    good = make_text_dataset(tmp_path / "good.csv", 90, seed=1)
    bad = tmp_path / "bad.csv"
    line = _bad_copy(good, bad)
    where = f"{bad}:{line}: 1 field(s), but the header has 2"

    # refused, naming file and line, by every reader
    proc = mlyard(env, "tables", "register", "t", str(bad))
    assert proc.returncode == 2 and where in proc.stderr, proc.stderr
    proc = mlyard(
        env,
        "train",
        "--algorithm",
        "blazingtext",
        "--train",
        str(bad),
        *FAST_HPS,
        "--name",
        "strict",
    )
    assert proc.returncode == 1 and where in proc.stderr, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr

    # skipped and counted when asked
    proc = mlyard(env, "tables", "register", "t", str(bad), "--skip-bad-rows")
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipped 2 bad row(s)" in proc.stderr
    rows = mlyard(env, "sql", "SELECT label FROM t", "--format", "json")
    assert len(json.loads(rows.stdout)) == 90, rows.stdout

    proc = mlyard(
        env,
        "train",
        "--algorithm",
        "blazingtext",
        "--train",
        str(bad),
        *FAST_HPS,
        "--skip-bad-rows",
        "--name",
        "lenient",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: skipped 2 bad row(s)" in proc.stdout

    proc = mlyard(
        env,
        "evaluate",
        "--model",
        "lenient",
        "--data",
        str(bad),
        "--output",
        str(tmp_path / "eval"),
    )
    assert proc.returncode == 2 and where in proc.stderr, proc.stderr
    proc = mlyard(
        env,
        "evaluate",
        "--model",
        "lenient",
        "--data",
        str(bad),
        "--output",
        str(tmp_path / "eval"),
        "--skip-bad-rows",
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: skipped 2 bad row(s)" in proc.stderr

    out = tmp_path / "preds.jsonl"
    proc = mlyard(env, "transform", "--model", "lenient", "--input", str(bad), "--output", str(out))
    assert proc.returncode == 1 and f"bad.csv:{line}: 1 field(s)" in proc.stderr, proc.stderr
    proc = mlyard(
        env,
        "transform",
        "--model",
        "lenient",
        "--input",
        str(bad),
        "--output",
        str(out),
        "--skip-bad-rows",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning: skipped 2 bad row(s)" in proc.stdout
    assert len(out.read_text().splitlines()) == 90


def test_skip_bad_rows_is_refused_for_a_script(env: dict[str, str], tmp_path: Path) -> None:
    proc = mlyard(env, "train", "--command", "true", "--skip-bad-rows")
    assert proc.returncode == 2
    assert "skip_bad_rows is for built-in algorithms" in proc.stderr
