"""What a failed worker's reason says: its own error line, and a clear word for a program
that cannot be started."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.training.launcher import LocalWorker, WorkerFailed, failure_line


def test_a_python_traceback_gives_its_exception_line() -> None:
    lines = [
        "loading",
        "Traceback (most recent call last):",
        '  File "t.py", line 2',
        "    raise ValueError('boom')",
        "ValueError: boom",
        "",
    ]
    assert failure_line(lines) == "ValueError: boom"


def test_usage_hints_after_the_error_are_skipped() -> None:
    lines = [
        "docker: Cannot connect to the Docker daemon. Is the docker daemon running?",
        "Run 'docker run --help' for more information",
    ]
    assert failure_line(lines).startswith("docker: Cannot connect")


def test_a_plain_last_line_and_no_output() -> None:
    assert (
        failure_line(["step 1", "rank 1 cannot read its shard"]) == "rank 1 cannot read its shard"
    )
    assert failure_line(["", "  "]) == ""
    assert len(failure_line(["x" * 5000])) <= 400


def test_a_missing_program_is_a_worker_failure_naming_it(tmp_path: Path) -> None:
    with pytest.raises(WorkerFailed, match=r"program 'no-such-program-h10' not found"):
        LocalWorker(0, ["no-such-program-h10", "x.R"], {}, tmp_path)


def test_a_file_that_is_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "run.sh"
    script.write_text("echo hi\n")
    with pytest.raises(WorkerFailed, match="not executable"):
        LocalWorker(0, [str(script)], {}, tmp_path)
