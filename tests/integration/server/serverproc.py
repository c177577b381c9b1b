"""A real ``mlyard server`` subprocess for the server's integration tests: started on a
free port of 127.0.0.1 (or another bind host), found through ``server.json``, stopped with
SIGINT (SIGKILL if it hangs) when the ``with`` block ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlyard.config import Settings


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def server_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLYARD_")}
    env.update(settings.child_env())
    env.update(extra or {})
    return env


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def running_server(settings: Settings, tmp: Path, *, extra_env: Mapping[str, str] | None = None,
                   args: tuple[str, ...] = ("--port", "0"),
                   timeout: float = 60.0) -> Iterator[ServerProcess]:
    """Start ``mlyard server ARGS`` over ``settings``' workspace; yield once server.json
    names it (and it is this process's)."""
    log = tmp / f"server-{time.monotonic_ns()}.log"
    info = settings.home / "server.json"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlyard", "server", *args],
                                env=server_env(settings, extra_env), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, f"server exited at start: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "server did not start"
            try:
                data = json.loads(info.read_text())
            except (OSError, ValueError):
                data = {}
            if data.get("pid") == proc.pid:
                break
            time.sleep(0.1)
        yield ServerProcess(proc, str(data["url"]), log)
    finally:
        stop(proc)
