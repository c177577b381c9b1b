"""User errors reach the user as their own error, never as mlyard's traceback.

Each case runs the real ``mlyard`` command in a subprocess (as a user would) and checks
that neither stdout nor stderr shows a traceback through mlyard's own code, that the
``error:`` line names what is wrong, and the exit status. A user script's own traceback is
the exception: it is the user's error and is shown as the script printed it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: A traceback frame in mlyard's own code (a source checkout or an installed package).
OUR_FRAME = re.compile(r'File "[^"]*[/\\]mlyard[/\\][^"]*\.py"')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out["MLYARD_HOME"] = str(tmp_path / "ws")
    for var in (
        "MLYARD_EXECUTOR",
        "MLYARD_DB_URL",
        "MLYARD_ARTIFACT_ROOT",
        "MLYARD_CONTAINER_RUNTIME",
        "MLYARD_DEBUG",
    ):
        out.pop(var, None)
    return out


def mlyard(
    env: dict[str, str], *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlyard", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
    )


def assert_clean(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """No mlyard frame and no traceback of ours anywhere; exit ``code``; the error line."""
    both = proc.stdout + proc.stderr
    assert not OUR_FRAME.search(both), both
    assert "validation error for" not in both, both  # a pydantic dump
    assert proc.returncode == code, both
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_missing_program(env: dict[str, str], tmp_path: Path) -> None:
    proc = mlyard(
        env, "train", "--command", "no-such-program-h10 foo.R", "--name", "r1", cwd=tmp_path
    )
    line = assert_clean(proc, 1)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "no-such-program-h10" in line and "not found" in line, line


def test_crashing_user_script_shows_its_own_traceback(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent("""\
        def inner():
            raise ValueError("boom from the user")
        inner()
        """)
    )
    proc = mlyard(env, "train", "--entry-point", str(script), "--name", "c1", cwd=tmp_path)
    line = assert_clean(proc, 1)
    # the script's traceback, line by line as it printed it (not flattened)
    out = proc.stdout.splitlines()
    assert "Traceback (most recent call last):" in out
    assert any(x.strip() == 'raise ValueError("boom from the user")' for x in out), out
    assert proc.stdout.count("Traceback") == 1
    # the failure reason: one line, the script's error, not its whole tail
    assert line.endswith("ValueError: boom from the user"), line
    assert " | " not in line and "crash.py" not in line, line


def test_bad_training_data(env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("label,words\npos,good\n")
    proc = mlyard(
        env,
        "train",
        "--algorithm",
        "blazingtext",
        "--train",
        str(data),
        "--name",
        "d1",
        cwd=tmp_path,
    )
    line = assert_clean(proc, 1)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "DataError" in line and "'text'" in line, line


def test_container_runtime_that_fails(env: dict[str, str], tmp_path: Path) -> None:
    runtime = tmp_path / "docker"
    runtime.write_text(
        "#!/bin/sh\necho 'docker: Cannot connect to the Docker daemon' >&2\nexit 125\n"
    )
    runtime.chmod(0o755)
    env["MLYARD_CONTAINER_RUNTIME"] = str(runtime)
    proc = mlyard(
        env, "train", "--image", "img:1", "--command", "echo hi", "--name", "i1", cwd=tmp_path
    )
    line = assert_clean(proc, 1)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "code 125" in line and "Cannot connect to the Docker daemon" in line, line


def test_no_container_runtime(env: dict[str, str], tmp_path: Path) -> None:
    env["MLYARD_CONTAINER_RUNTIME"] = str(tmp_path / "no-such-runtime")
    proc = mlyard(env, "train", "--image", "img:1", "--command", "echo hi", cwd=tmp_path)
    line = assert_clean(proc, 2)
    assert "container runtime" in line, line


def test_server_on_a_busy_port(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = mlyard(env, "server", "--port", str(port), cwd=tmp_path)
    line = assert_clean(proc, 2)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"127.0.0.1:{port}" in line and "in use" in line, line


def test_body_from_a_missing_file(env: dict[str, str], tmp_path: Path) -> None:
    proc = mlyard(env, "endpoints", "invoke", "ep", "--body", "@missing.json", cwd=tmp_path)
    line = assert_clean(proc, 2)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "missing.json" in line and "--body" in line, line
    assert not (tmp_path / "ws" / "server.json").exists()  # refused before any server


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--instance-count", "0"], "instance_count: must be >= 1, got 0"),
        (["--max-run", "0"], "max_runtime_seconds: must be >= 1, got 0"),
    ],
)
def test_invalid_option_is_one_line_naming_the_field(
    env: dict[str, str], tmp_path: Path, args: list[str], expected: str
) -> None:
    proc = mlyard(env, "train", "--command", "true", *args, cwd=tmp_path)
    line = assert_clean(proc, 2)
    assert expected in line, line


def test_invalid_spec_file_is_one_line_naming_the_field(
    env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "train.yaml"
    spec.write_text("command: [true]\nResourceConfig: {InstanceCount: 1, Device: tpu}\n")
    proc = mlyard(env, "train", "--spec", str(spec), cwd=tmp_path)
    line = assert_clean(proc, 2)
    assert "resources.device: must be 'auto', 'cpu' or 'cuda', got 'tpu'" in line, line


def test_crashing_processing_script_and_the_debug_log(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "prep.py"
    script.write_text("import sys\nprint('preparing')\nraise KeyError('column x')\n")
    proc = mlyard(env, "process", "--entry-point", str(script), "--name", "p1", cwd=tmp_path)
    line = assert_clean(proc, 1)
    assert line.endswith("KeyError: 'column x'"), line
    assert "Traceback (most recent call last):" in proc.stdout.splitlines()
    # mlyard's own traceback is kept for debugging, in the job's debug log only
    debug = (tmp_path / "ws" / "jobs" / "p1" / "debug.log").read_text()
    assert "Traceback (most recent call last):" in debug and "ScriptFailed" in debug
