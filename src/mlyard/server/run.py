"""Running ``mlyard server`` and finding (or starting) it from a client.

The running server writes ``<home>/server.json`` (url, pid) and removes it on exit;
:func:`ensure_server` reads it, checks ``/ping``, and otherwise starts a server in the
background on a free port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from mlyard.config import Settings
from mlyard.core.executors.base import detach
from mlyard.core.workspace import Workspace
from mlyard.errors import ServiceUnavailable
from mlyard.serving.manager import EndpointManager, ServerOptions
from mlyard.serving.metrics import MetricsRecorder


def server_file(settings: Settings) -> Path:
    """Where a running server announces itself."""
    return settings.home / "server.json"


def options_from_env() -> ServerOptions:
    """Server tunables from ``MLYARD_AUTOSCALE_INTERVAL``, ``MLYARD_MONITOR_INTERVAL``,
    ``MLYARD_ALARM_INTERVAL`` and ``MLYARD_MAX_BODY_BYTES`` (seconds / bytes)."""
    env = os.environ
    defaults = ServerOptions()
    return ServerOptions(
        max_body_bytes=int(env.get("MLYARD_MAX_BODY_BYTES", defaults.max_body_bytes)),
        autoscale_interval=float(env.get("MLYARD_AUTOSCALE_INTERVAL",
                                         defaults.autoscale_interval)),
        monitor_interval=float(env.get("MLYARD_MONITOR_INTERVAL", defaults.monitor_interval)),
        alarm_interval=float(env.get("MLYARD_ALARM_INTERVAL", defaults.alarm_interval)),
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080,
          options: ServerOptions | None = None, metrics_resolution: float = 1.0) -> None:
    """Run the server in this process until interrupted."""
    import uvicorn

    from mlyard.server.app import build_app

    ws = Workspace(settings)
    manager = EndpointManager(ws, MetricsRecorder(resolution=metrics_resolution),
                              options or options_from_env())
    info = server_file(settings)

    def forget_me() -> None:
        # uvicorn re-raises SIGTERM/SIGINT after shutdown, which ends the process before a
        # `finally` here would run: the app's shutdown removes the file instead.
        with contextlib.suppress(OSError, ValueError):
            if json.loads(info.read_text()).get("pid") == os.getpid():
                info.unlink()

    app = build_app(manager, on_stop=forget_me)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets of a TCP
    # listener, and without it a response body waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)  # listening before server.json says so: early clients queue, not fail
    bound = sock.getsockname()[1]
    url = f"http://{host if family == socket.AF_INET else f'[{host}]'}:{bound}"
    info.parent.mkdir(parents=True, exist_ok=True)
    config = uvicorn.Config(app, loop="uvloop", http="httptools", access_log=False,
                            log_level="warning", lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "started_at": time.time()}))
    tmp.replace(info)
    print(f"mlyard server listening on {url} (workspace {settings.home})", flush=True)
    try:
        _run_loop(server.serve(sockets=[sock]))
    finally:
        forget_me()
        ws.close()


def _run_loop(main: Any) -> None:
    """Run ``main`` on uvloop when installed (uvicorn's own loop choice does not apply to
    ``Server.serve``), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def running_server(settings: Settings) -> str | None:
    """The URL of this workspace's running server, if one answers."""
    info = server_file(settings)
    try:
        url = str(json.loads(info.read_text())["url"])
    except (OSError, ValueError, KeyError):
        return None
    try:
        if httpx.get(f"{url}/ping", timeout=2.0).status_code == 200:
            return url
    except httpx.HTTPError:
        return None
    return None


def ensure_server(settings: Settings, timeout: float = 60.0) -> str:
    """The running server's URL; starts one in the background (127.0.0.1, free port) if
    none answers."""
    url = running_server(settings)
    if url is not None:
        return url
    log = settings.home / "server" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **settings.child_env()}
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mlyard", "server", "--port", "0"],
                                env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        url = running_server(settings)
        if url is not None:
            detach(proc)  # it serves on after this process moves on or exits
            return url
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise ServiceUnavailable(f"mlyard server exited at start: {' | '.join(tail)}")
        time.sleep(0.2)
    detach(proc)
    raise ServiceUnavailable(f"mlyard server did not start within {timeout} s (see {log})")


def stop_server(settings: Settings, timeout: float = 30.0) -> bool:
    """Stop this workspace's running server (SIGTERM, graceful); True if one was stopped."""
    import signal

    info = server_file(settings)
    try:
        pid = int(json.loads(info.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        info.unlink(missing_ok=True)
        return False
    from mlyard.core.executors.base import pid_alive

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True
