"""One server per workspace (issue 10, item 5): the server's lock, a second server
refused, stale ``server.json`` files detected and replaced, and a stopping server removing
only its own file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mlyard.config import Settings
from mlyard.errors import ServiceUnavailable
from mlyard.server import run
from mlyard.server.run import running_server, stop_server
from tests.integration.server.serverproc import running_server as start_server
from tests.integration.server.serverproc import server_env


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_server_is_refused(settings: Settings, tmp_path: Path) -> None:
    with start_server(settings, tmp_path) as first:
        info = (settings.home / "server.json").read_text()
        done = subprocess.run([sys.executable, "-m", "mlyard", "server", "--port", "0"],
                              env=server_env(settings), capture_output=True, text=True,
                              timeout=60)
        assert done.returncode != 0
        assert f"pid {first.proc.pid}" in done.stderr and first.url in done.stderr
        assert "Traceback" not in done.stderr
        # the first one is untouched: same file, still answering
        assert (settings.home / "server.json").read_text() == info
        assert httpx.get(f"{first.url}/ping", timeout=10).status_code == 200
        assert running_server(settings) == first.url


def test_stale_server_file_is_detected_and_replaced(settings: Settings,
                                                     tmp_path: Path) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    info = settings.home / "server.json"
    # a server that died without cleaning up, whose port now belongs to someone else
    with start_server(settings, tmp_path) as other:
        other_url = other.url
        info_text = json.dumps({"url": other_url, "pid": _dead_pid()})
    info.write_text(info_text)
    with pytest.raises(ServiceUnavailable, match="no server running"):
        run.connect_server(settings)
    assert not info.exists()
    info.write_text(info_text)
    assert stop_server(settings) is False and not info.exists()
    info.write_text(info_text)
    with start_server(settings, tmp_path) as server:
        assert json.loads(info.read_text())["pid"] == server.proc.pid
        assert run.connect_server(settings) == server.url


def test_killed_server_leaves_a_stale_file(settings: Settings, tmp_path: Path) -> None:
    with start_server(settings, tmp_path) as server:
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait()
        assert (settings.home / "server.json").exists()
        assert running_server(settings) is None
        assert not (settings.home / "server.json").exists()
    with start_server(settings, tmp_path) as again:
        assert run.connect_server(settings) == again.url


def test_stopping_server_removes_only_its_own_file(settings: Settings,
                                                   tmp_path: Path) -> None:
    info = settings.home / "server.json"
    with start_server(settings, tmp_path) as server:
        foreign = {"url": "http://127.0.0.1:1", "pid": server.proc.pid + 100000}
        info.write_text(json.dumps(foreign))
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(timeout=30) is not None
    assert json.loads(info.read_text()) == foreign


def test_concurrent_starts_share_one_server(settings: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mlyard.server.run import ensure_server

    try:
        with ThreadPoolExecutor(3) as pool:
            urls = list(pool.map(lambda _: ensure_server(settings), range(3)))
        assert len(set(urls)) == 1  # the losers of the race were refused and waited
        assert running_server(settings) == urls[0]
        assert len(_servers_of(settings)) == 1
    finally:
        assert stop_server(settings)
    assert _servers_of(settings) == []


def _servers_of(settings: Settings) -> list[int]:
    """Pids of live `mlyard server` processes of this workspace."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE or \
                    "server" not in (proc.info["cmdline"] or [])[-3:]:
                continue
            if proc.environ().get("MLYARD_HOME") == str(settings.home):
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found
