"""Running ``mlyard server`` and finding (or starting) it from a client.

One server per workspace: the server holds an exclusive ``fcntl.flock`` on
``<home>/server.lock`` for its whole life (the kernel releases it when the process ends,
however it ends). A second ``mlyard server`` on the same workspace is refused with the
running one's pid and URL. Once it holds the lock the server writes ``<home>/server.json``
(url, pid) and on exit removes that file only if it is still its own.

Clients (:func:`running_server`) trust ``server.json`` only while the lock is held and
``/ping`` answers; a file left by a server that died (pid gone, lock free) is stale and is
removed, and the next server replaces it. :func:`connect_server` never starts a server
(read-only commands use it); :func:`ensure_server` starts one in the background on a free
port of 127.0.0.1 when none runs.

Before it listens the server also refuses to run open to the network: a bind address
other than loopback (or ``MLYARD_REQUIRE_TOKEN=1``) needs at least one API token
(``mlyard tokens create``); see :mod:`mlyard.server.guard`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

from mlyard.config import Settings
from mlyard.core.executors.base import detach
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, ServiceUnavailable, ValidationError
from mlyard.server.guard import WILDCARD_HOSTS, AccessPolicy
from mlyard.server.limits import ServerLimits
from mlyard.serving.manager import EndpointManager, ServerOptions
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.token_store import TokenStore

#: What read-only commands say when no server runs.
NO_SERVER = "no server running for workspace {home}; start one with `mlyard server`"
#: Seconds a starting server retries the lock (a client's probe holds it for microseconds).
LOCK_RETRY_SECONDS = 1.0


def server_file(settings: Settings) -> Path:
    """Where a running server announces itself."""
    return settings.home / "server.json"


def lock_file(settings: Settings) -> Path:
    """The file whose ``flock`` the running server holds."""
    return settings.home / "server.lock"


def _read_info(settings: Settings) -> dict[str, Any] | None:
    try:
        data = json.loads(server_file(settings).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _lock_is_held(settings: Settings) -> bool:
    """Whether a live process holds this workspace's server lock (a shared probe lock,
    released at once)."""
    path = lock_file(settings)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # no lock file: no server ever ran (or the home is gone)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def acquire_server_lock(settings: Settings, retry: float = LOCK_RETRY_SECONDS) -> IO[str]:
    """The exclusive lock of this workspace's server, held as long as the returned file
    stays open; ConflictError naming the running server (pid, url) if another holds it."""
    path = lock_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - kept open for the server's life
    deadline = time.monotonic() + retry
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            handle.close()
            info = _read_info(settings) or {}
            who = (f"pid {info.get('pid')} at {info.get('url')}" if info.get("pid")
                   else "one that is still starting")
            raise ConflictError(f"a server already runs for workspace {settings.home}: {who}; "
                                "use it, or stop it (`kill <pid>`) before starting another"
                                ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _client_url(host: str, port: int) -> str:
    """The URL a client on this machine uses (loopback for a wildcard bind)."""
    if host.strip("[]") in WILDCARD_HOSTS:
        host = "::1" if host.strip("[]") == "::" else "127.0.0.1"
    host = host.strip("[]")
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _require_tokens(ws: Workspace, host: str, policy: AccessPolicy) -> None:
    if policy.require_token and not TokenStore.of(ws.store).list_tokens():
        why = (f"listening on {host} (not loopback)" if host.strip("[]") not in
               {"127.0.0.1", "::1", "localhost"} else "MLYARD_REQUIRE_TOKEN is set")
        raise ValidationError(f"refusing to start: {why} requires an API token and this "
                              "workspace has none; create one with `mlyard tokens create "
                              "NAME` and have clients send it (MLYARD_TOKEN)")


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
          options: ServerOptions | None = None, metrics_resolution: float = 1.0,
          limits: ServerLimits | None = None) -> None:
    """Run the server in this process until interrupted (refused: ConflictError when
    another server runs for the workspace, ValidationError when it would listen beyond
    loopback without an API token)."""
    import uvicorn

    from mlyard.server.app import build_app
    from mlyard.server.protocol import limited_protocol

    limits = limits or ServerLimits.from_env()
    policy = AccessPolicy.from_env(host)
    options = options or options_from_env()
    lock = acquire_server_lock(settings)
    try:
        ws = Workspace(settings)
    except BaseException:
        lock.close()
        raise
    try:
        _require_tokens(ws, host, policy)
    except BaseException:
        ws.close()
        lock.close()
        raise
    manager = EndpointManager(ws, MetricsRecorder(resolution=metrics_resolution), options)
    info = server_file(settings)

    def forget_me() -> None:
        # uvicorn re-raises SIGTERM/SIGINT after shutdown, which ends the process before a
        # `finally` here would run: the app's shutdown removes the file instead.
        with contextlib.suppress(OSError, ValueError):
            if json.loads(info.read_text()).get("pid") == os.getpid():
                info.unlink()

    app = build_app(manager, on_stop=forget_me, policy=policy,
                    control_body_bytes=limits.control_body_bytes)
    bind = host.strip("[]")
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    try:
        # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on accepted sockets of a TCP
        # listener, and without it a response body waits ~40 ms for the client's delayed
        # ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((bind, port))
        sock.listen(2048)  # listening before server.json says so: early clients queue
    except BaseException:
        ws.close()
        lock.close()
        raise
    url = _client_url(bind, sock.getsockname()[1])
    info.parent.mkdir(parents=True, exist_ok=True)
    config = uvicorn.Config(app, loop="uvloop",
                            http=limited_protocol(limits.max_header_bytes,
                                                  limits.header_timeout),
                            timeout_keep_alive=max(1, round(limits.keepalive_timeout)),
                            access_log=False, log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    tmp = info.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "started_at": time.time(),
                               "host": host}))
    tmp.replace(info)  # replaces a stale file: holding the lock, this server is the one
    listening = f"http://[{bind}]:{sock.getsockname()[1]}" if ":" in bind else \
        f"http://{bind}:{sock.getsockname()[1]}"
    auth = "tokens required" if policy.require_token else "tokens optional on loopback"
    print(f"mlyard server listening on {listening} (workspace {settings.home}; {auth})",
          flush=True)
    try:
        _run_loop(server.serve(sockets=[sock]))
    finally:
        forget_me()
        ws.close()
        lock.close()


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
    """The URL of this workspace's running server, if one holds the lock and answers;
    a ``server.json`` left by a dead server (lock free) is removed."""
    info = _read_info(settings)
    if info is None or not isinstance(info.get("url"), str):
        return None
    if not _lock_is_held(settings):
        _forget_stale(settings, info)
        return None
    url = str(info["url"])
    try:
        if httpx.get(f"{url}/ping", timeout=2.0).status_code == 200:
            return url
    except httpx.HTTPError:
        return None
    return None


def _forget_stale(settings: Settings, info: dict[str, Any]) -> None:
    """Remove ``server.json`` if it still says ``info`` and no server holds the lock
    (checked while holding the lock, so a server starting now keeps its file)."""
    try:
        fd = os.open(lock_file(settings), os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if _read_info(settings) == info:
            server_file(settings).unlink(missing_ok=True)
    except (BlockingIOError, OSError):
        pass  # a server holds it (or is starting): its file is current
    finally:
        os.close(fd)  # closing releases the lock


def connect_server(settings: Settings) -> str:
    """The running server's URL; ServiceUnavailable saying how to start one if none runs
    (never starts one: for read-only commands)."""
    url = running_server(settings)
    if url is None:
        raise ServiceUnavailable(NO_SERVER.format(home=settings.home))
    return url


def ensure_server(settings: Settings, timeout: float = 60.0) -> str:
    """The running server's URL; starts one in the background (127.0.0.1, free port) if
    none answers."""
    url = running_server(settings)
    if url is not None:
        return url
    deadline = time.monotonic() + timeout
    while _lock_is_held(settings) and time.monotonic() < deadline:
        time.sleep(0.2)  # a server holds the lock but does not answer yet: it is starting
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
            if (_read_info(settings) or {}).get("pid") != proc.pid:
                # another client's server won the race: ours is refused by the lock
                # LOCK_RETRY_SECONDS after it starts; let it go before returning
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=max(LOCK_RETRY_SECONDS + 1,
                                          deadline - time.monotonic()))
            detach(proc)  # it serves on after this process moves on or exits
            return url
        if proc.poll() is not None and _lock_is_held(settings):
            time.sleep(0.2)  # another client started the server first: wait for it
            continue
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise ServiceUnavailable(f"mlyard server exited at start: {' | '.join(tail)}")
        time.sleep(0.2)
    detach(proc)
    raise ServiceUnavailable(f"mlyard server did not start within {timeout} s (see {log})")


def stop_server(settings: Settings, timeout: float = 30.0) -> bool:
    """Stop this workspace's running server (SIGTERM, graceful); True if one was stopped."""
    import signal

    data = _read_info(settings)
    try:
        pid = int(data["pid"]) if data is not None else 0
    except (ValueError, KeyError, TypeError):
        pid = 0
    if data is None or pid <= 0:
        return False
    if not _lock_is_held(settings):  # stale: that server is gone
        _forget_stale(settings, data)
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _forget_stale(settings, data)
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
