"""``mlyard endpoints ...`` and the workspace's server (issue 10, item 5): read-only
commands never start a server; with one running they use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlyard.config import Settings
from mlyard.server.run import stop_server
from tests.integration.server.serverproc import running_server, server_env

READ_ONLY = [["list"], ["describe", "e"], ["metrics", "e"], ["scaling-activities", "e"],
             ["report", "e"]]


def _mlyard(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlyard", *args], env=server_env(settings),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: a[0])
def test_read_only_commands_never_start_a_server(settings: Settings,
                                                 args: list[str]) -> None:
    try:
        done = _mlyard(settings, "endpoints", *args)
        assert done.returncode != 0
        assert "no server running" in done.stderr and "mlyard server" in done.stderr
        assert "Traceback" not in done.stderr
        assert not (settings.home / "server.json").exists()
    finally:
        stop_server(settings)  # if one was started after all, do not leave it running


def test_read_only_commands_use_the_running_server(settings: Settings,
                                                   tmp_path: Path) -> None:
    with running_server(settings, tmp_path) as server:
        done = _mlyard(settings, "endpoints", "list")
        assert done.returncode == 0, done.stderr
        assert json.loads((settings.home / "server.json").read_text())["pid"] == \
            server.proc.pid
