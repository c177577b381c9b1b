"""Ctrl-C on a waiting ``mlyard train``, as a user presses it: a real SIGINT to the CLI
process. The job goes on in the background, the message says how to stop it, the exit
status is 130; ``jobs stop`` then stops it, and a second ``jobs stop`` says it already ended
and fails."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.test_cli_flow import env, mlyard  # noqa: F401  (env is a fixture)


def _status(environ: dict[str, str], name: str) -> str:
    proc = mlyard(environ, "jobs", "list", "--json", ok=False)
    rows = json.loads(proc.stdout) if proc.returncode == 0 else []
    return next((r["JobStatus"] for r in rows if r["JobName"] == name), "")


def test_ctrl_c_leaves_the_job_running_and_says_how_to_stop_it(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlyard",
            "train",
            "--command",
            f"{sys.executable} {sleeper}",
            "--name",
            "sleeper",
        ],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while _status(env, "sleeper") != "InProgress":
            assert time.monotonic() < deadline, "the job never started"
            assert cli.poll() is None, cli.communicate()
            time.sleep(0.5)
        os.kill(cli.pid, signal.SIGINT)
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.communicate()
    assert cli.returncode == 130, (out, err)
    assert "job sleeper goes on in the background" in err
    assert "mlyard jobs stop sleeper" in err
    assert "Traceback" not in err
    assert _status(env, "sleeper") == "InProgress"

    stopped = mlyard(env, "jobs", "stop", "sleeper")
    assert "job sleeper Stopped" in stopped.stdout
    again = mlyard(env, "jobs", "stop", "sleeper", ok=False)
    assert again.returncode == 2
    assert "job sleeper already Stopped; nothing to stop" in again.stderr
