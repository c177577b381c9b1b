"""A supervised pool of replica processes of one model, for the endpoint router (asyncio).

:class:`ReplicaPool` runs ``replicas`` processes of :mod:`mlyard.serving.replica`, each
loading the model once, and forwards raw request bytes to them over one pipelined Unix
socket connection per replica (the frame protocol is described in
:mod:`mlyard.serving.replica`). All methods must be called from one event loop.

Routing
    :meth:`ReplicaPool.invoke` sends the request to the ready replica with the fewest
    requests in flight (a request resent after a replica died may exceed
    ``max_in_flight_per_replica``: it was admitted already). Requests are pipelined: many
    are outstanding on one connection, and a replica batches the ones queued at its end
    (see :mod:`mlyard.serving.replica`). Each connection is an :class:`asyncio.Protocol`
    (``loop.create_unix_connection``) whose ``data_received`` parses response frames and
    resolves the waiting futures by request id: no reader task, no ``StreamReader``
    buffering, no coroutine switch per frame. The hot path creates one future per request
    and nothing else (no task, no log line, no thread); it runs on asyncio's own loop or on
    uvloop.

Failures
    A replica whose connection breaks (the process died or was killed) stops receiving
    requests at once; its outstanding requests are sent again to another ready replica (or,
    with none ready, to the next one that becomes ready, waiting at most ``start_timeout``
    seconds), up to :data:`MAX_ATTEMPTS` sends per request, so killing a replica under load
    loses no request. The supervisor restarts crashed replicas (with a growing back-off
    while restarts fail) and counts restarts per replica. Every ``health_interval`` seconds
    each replica is pinged on its connection (the ping returns its pid, requests answered,
    RSS and CPU seconds, see :meth:`ReplicaPool.stats`) and its process is polled; a
    replica whose ping stays unanswered for ``hang_timeout`` seconds is reported unhealthy
    after ``3 * health_interval`` and killed (then restarted) after ``hang_timeout``.

Errors
    :class:`Overloaded` (every ready replica has ``max_in_flight_per_replica`` requests
    in flight) and :class:`NoHealthyReplica` (no replica became ready in time, or the pool
    is closed) are HTTP 503 ``ServiceUnavailable``; :class:`ReplicaStartError` (a replica
    exited or hung while starting; the message holds the tail of its log) derives from
    :class:`NoHealthyReplica`. Payload and model errors are not exceptions: they come back
    as an :class:`InvokeResult` with status 400/406/415/424/500 and SageMaker's error JSON.

Processes
    Replicas run ``sys.executable -m mlyard.serving.replica`` in their own session with
    ``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``MKL_NUM_THREADS`` and
    ``OPENBLAS_NUM_THREADS`` set to 1 unless ``env`` says otherwise (one replica is one
    core); their stdout and stderr go to ``run_dir/replica-<slot>.log``. Sockets live in
    ``run_dir`` (or in a short temporary folder when ``run_dir``'s path is too long for a
    Unix socket address). :meth:`ReplicaPool.close` stops them all (closing the connection
    makes a replica exit; then ``SIGTERM``, then ``SIGKILL`` to its process group); an
    ``atexit`` hook and a finalizer kill whatever a pool that was never closed left behind.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from mlyard.errors import ServiceUnavailable
from mlyard.serving.replica import (
    KIND_INVOKE,
    KIND_PING,
    MAX_BATCH,
    REQUEST_HEADER,
    RESPONSE_HEADER,
)

_log = logging.getLogger(__name__)

#: How many times one request is sent (to one replica after another) before it fails.
MAX_ATTEMPTS = 3
#: Unix socket addresses are limited to 107 bytes on Linux; keep a margin.
_MAX_SOCKET_PATH = 100
_THREAD_ENV = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS")
_LOG_TAIL = 3000
_STOP_GRACE = 2.0  # seconds a replica has to exit after its connection closed / SIGTERM
_LARGE_BODY = 1 << 16
_RESPONSE_SIZE = RESPONSE_HEADER.size


class Overloaded(ServiceUnavailable):
    """Every replica already has the maximum number of requests in flight (HTTP 503)."""


class NoHealthyReplica(ServiceUnavailable):
    """No replica can serve the request: none became ready in time, or the pool is closed
    (HTTP 503)."""


class ReplicaStartError(NoHealthyReplica):
    """A replica process exited or did not become ready while starting (HTTP 503)."""


class ReplicaLost(Exception):
    """Internal: the replica's connection broke before it answered (the request is resent)."""


@dataclass(slots=True)
class InvokeResult:
    """A replica's answer: HTTP ``status``, response ``body`` and ``content_type``, the
    seconds spent in ``predict`` and the pid of the replica that answered. (Not frozen:
    a frozen dataclass costs four times as much to build on the hot path.)"""

    status: int
    body: bytes
    content_type: str
    model_seconds: float
    replica: int


@dataclass(frozen=True)
class ReplicaStats:
    """One replica's state; ``cpu_seconds`` and ``rss_bytes`` are from its latest ping."""

    slot: int
    pid: int
    healthy: bool
    in_flight: int
    requests: int
    restarts: int
    cpu_seconds: float
    rss_bytes: int


# -- leftovers: kill every replica process still alive at interpreter exit -----------------

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


def _kill_all(procs: dict[int, subprocess.Popen[bytes]]) -> None:
    for pid, proc in list(procs.items()):
        _kill_group(proc)
        with contextlib.suppress(Exception):
            proc.wait(timeout=2)
        _LIVE.pop(pid, None)
    procs.clear()


atexit.register(_kill_all, _LIVE)


# -- one connection ---------------------------------------------------------------------

class _Connection(asyncio.Protocol):
    """The pipelined connection to one replica process: sends request frames, resolves the
    futures of their responses by request id."""

    def __init__(self, pid: int, on_lost: Callable[[_Connection], None]) -> None:
        self.pid = pid
        self._loop = asyncio.get_running_loop()
        self.futures: dict[int, asyncio.Future[Any]] = {}
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.answered = 0
        self._on_lost = on_lost
        self._buf = bytearray()
        self._types: dict[bytes, str] = {}
        self._out: list[bytes] = []  # frames written in this loop iteration (one syscall)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but have the same API
        self.transport = cast(asyncio.Transport, transport)

    def send(self, frame: bytes) -> None:
        """Queue one frame; the frames queued during one event-loop iteration go out
        together with one write at the start of the next (fewer syscalls and wake-ups
        under load; at most one iteration of delay)."""
        transport = self.transport
        if transport is None or self.closed or transport.is_closing():
            raise ReplicaLost()
        out = self._out
        if not out:
            self._loop.call_soon(self._flush)
        out.append(frame)

    def _flush(self) -> None:
        out = self._out
        transport = self.transport
        if out and transport is not None and not transport.is_closing():
            transport.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        if buf:
            buf += data
            if len(buf) < RESPONSE_HEADER.size or \
                    len(buf) < 4 + int.from_bytes(buf[:4], "little"):
                return  # the frame is still incomplete: no copy, no parse
            data = bytes(buf)
            buf.clear()
        size = len(data)
        pos = 0
        header = RESPONSE_HEADER
        futures = self.futures
        types = self._types
        while size - pos >= _RESPONSE_SIZE:
            length, kind, rid, status, seconds, ct_len = header.unpack_from(data, pos)
            end = pos + 4 + length
            if end > size:
                break
            start = pos + _RESPONSE_SIZE
            body_start = start + ct_len
            fut = futures.pop(rid, None)
            if fut is not None and not fut.done():
                if kind == KIND_INVOKE:
                    raw_type = data[start:body_start]
                    ctype = types.get(raw_type)
                    if ctype is None:
                        ctype = types[raw_type] = raw_type.decode()
                    fut.set_result(InvokeResult(status, data[body_start:end], ctype, seconds,
                                                self.pid))
                else:
                    fut.set_result(data[body_start:end])
            if kind == KIND_INVOKE:
                self.answered += 1
            pos = end
        if pos < size:
            buf += data[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        futures, self.futures = self.futures, {}
        for fut in futures.values():
            if not fut.done():
                fut.set_exception(ReplicaLost())
        self._on_lost(self)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


# -- one replica slot -----------------------------------------------------------------------

_STARTING, _READY, _DEAD, _DRAINING, _STOPPED = "starting", "ready", "dead", "draining", "stopped"


class _Replica:
    """One slot of the pool: its current process and connection, kept across restarts."""

    def __init__(self, slot: int) -> None:
        self.slot = slot
        self.state = _STARTING
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: _Connection | None = None
        self.in_flight = 0
        self.restarts = 0
        self.generation = 0
        self.ping_sent: float | None = None
        self.cpu_seconds = 0.0
        self.rss_bytes = 0
        self.idle: asyncio.Event | None = None  # set when a draining replica has no request
        self.restart_task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc is not None else 0


# -- the pool ----------------------------------------------------------------------------

class ReplicaPool:
    """Replica processes of one model behind one async :meth:`invoke` (module docstring)."""

    def __init__(self, model_dir: Path, run_dir: Path, replicas: int = 1, *, name: str = "",
                 max_in_flight_per_replica: int = 64, health_interval: float = 2.0,
                 start_timeout: float = 60.0, env: dict[str, str] | None = None,
                 hang_timeout: float = 60.0, drain_timeout: float = 60.0,
                 top_k_default: int = 1, max_batch: int = MAX_BATCH) -> None:
        if replicas < 1:
            raise ValueError(f"a pool needs at least one replica, got {replicas}")
        self.model_dir = Path(model_dir)
        self.run_dir = Path(run_dir)
        self.name = name or self.model_dir.name
        self.max_in_flight_per_replica = max_in_flight_per_replica
        self.health_interval = health_interval
        self.start_timeout = start_timeout
        self.hang_timeout = hang_timeout
        self.drain_timeout = drain_timeout
        self.top_k_default = top_k_default
        self.max_batch = max_batch
        self._target = replicas
        self._env = {**os.environ, **dict.fromkeys(_THREAD_ENV, "1"), **(env or {})}
        self._slots: list[_Replica] = []
        self._ready: list[_Replica] = []
        self._ready_event = asyncio.Event()
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._closed = False
        self._started = False
        self._health_task: asyncio.Task[None] | None = None
        self._scale_lock = asyncio.Lock()
        self._frame_heads: dict[tuple[str, str], tuple[bytes, int, int, int]] = {}
        self._loop: asyncio.AbstractEventLoop  # set by start()
        self._ping_tasks: set[asyncio.Task[Any]] = set()
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._socket_dir: Path | None = None
        self._tmp_socket_dir = False
        self._finalizer = weakref.finalize(self, _kill_all, self._procs)

    # -- public state ----------------------------------------------------------------------
    @property
    def replicas(self) -> int:
        """The target number of replicas."""
        return self._target

    @property
    def healthy(self) -> int:
        """Replicas ready to take requests and answering health checks."""
        now = time.monotonic()
        return sum(1 for r in self._ready if self._responsive(r, now))

    @property
    def in_flight(self) -> int:
        """Requests sent to replicas and not answered yet."""
        return self._in_flight

    def stats(self) -> list[ReplicaStats]:
        """One entry per replica slot (being drained ones included)."""
        now = time.monotonic()
        return [ReplicaStats(slot=r.slot, pid=r.pid,
                             healthy=r.state == _READY and self._responsive(r, now),
                             in_flight=r.in_flight,
                             requests=r.conn.answered if r.conn is not None else 0,
                             restarts=r.restarts, cpu_seconds=r.cpu_seconds,
                             rss_bytes=r.rss_bytes)
                for r in self._slots if r.state != _STOPPED]

    def _responsive(self, rep: _Replica, now: float) -> bool:
        return rep.ping_sent is None or now - rep.ping_sent < 3 * self.health_interval + 1.0

    # -- the hot path ----------------------------------------------------------------------
    async def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        """Send one request to the least busy ready replica and return its answer.

        Resends the request to another replica if the chosen one dies before answering.
        Raises :class:`Overloaded` when every ready replica is at its in-flight limit and
        :class:`NoHealthyReplica` when no replica becomes ready within ``start_timeout``.
        """
        key = (content_type, accept)
        head = self._frame_heads.get(key)
        if head is None:
            head = self._frame_head(key)
        prefix, fixed, ct_len, acc_len = head
        attempts = 0
        while True:
            rep = None
            # a resent request was admitted already: it may exceed the in-flight limit
            least = self.max_in_flight_per_replica if not attempts else sys.maxsize
            for candidate in self._ready:
                if candidate.in_flight < least:
                    rep, least = candidate, candidate.in_flight
            if rep is None:
                if self._ready:
                    raise Overloaded(
                        f"{self.name}: all {len(self._ready)} replicas have "
                        f"{self.max_in_flight_per_replica} requests in flight; retry later")
                await self._wait_ready()
                continue
            conn = rep.conn
            assert conn is not None
            rid = next(self._ids)
            fut: asyncio.Future[InvokeResult] = self._loop.create_future()
            header = REQUEST_HEADER.pack(fixed + len(body), KIND_INVOKE, rid, ct_len, acc_len)
            try:
                conn.send(header + prefix + body)
            except ReplicaLost:  # closing, not yet reported lost: never route to it again
                self._on_lost(rep, conn)
                continue
            conn.futures[rid] = fut
            rep.in_flight += 1
            self._in_flight += 1
            try:
                return await fut
            except ReplicaLost:
                attempts += 1
                if attempts >= MAX_ATTEMPTS:
                    raise NoHealthyReplica(
                        f"{self.name}: the request was sent to {attempts} replicas and each "
                        "died before answering") from None
            finally:
                rep.in_flight -= 1
                self._in_flight -= 1
                if rep.idle is not None and rep.in_flight == 0:
                    rep.idle.set()

    def _frame_head(self, key: tuple[str, str]) -> tuple[bytes, int, int, int]:
        # media types are short; cut absurd header values so they fit the u16 lengths
        ctype = key[0].encode("utf-8", "replace")[:4096]
        accept = key[1].encode("utf-8", "replace")[:4096]
        head = (ctype + accept, REQUEST_HEADER.size - 4 + len(ctype) + len(accept),
                len(ctype), len(accept))
        if len(self._frame_heads) > 512:
            self._frame_heads.clear()
        self._frame_heads[key] = head
        return head

    async def _wait_ready(self) -> None:
        if self._closed:
            raise NoHealthyReplica(f"{self.name}: the replica pool is closed")
        try:
            await asyncio.wait_for(self._ready_event.wait(), self.start_timeout)
        except TimeoutError:
            raise NoHealthyReplica(f"{self.name}: no replica became ready within "
                                   f"{self.start_timeout:g} s") from None
        if self._closed:
            raise NoHealthyReplica(f"{self.name}: the replica pool is closed")

    def _set_ready(self) -> None:
        self._ready = [r for r in self._slots if r.state == _READY]
        if self._ready:
            self._ready_event.set()
        elif not self._closed:
            self._ready_event.clear()

    # -- starting and stopping processes -------------------------------------------------
    def _socket_path(self, rep: _Replica) -> Path:
        if self._socket_dir is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            probe = self.run_dir / "r00-00000.sock"
            if len(os.fsencode(probe)) <= _MAX_SOCKET_PATH:
                self._socket_dir = self.run_dir
            else:
                self._socket_dir = Path(tempfile.mkdtemp(prefix="mlyard-"))
                self._tmp_socket_dir = True
        return self._socket_dir / f"r{rep.slot:02d}-{rep.generation:05d}.sock"

    def _log_path(self, rep: _Replica) -> Path:
        return self.run_dir / f"replica-{rep.slot}.log"

    async def _launch(self, rep: _Replica) -> None:
        """Start a process for ``rep`` and wait until it answers a ping; state READY."""
        rep.generation += 1
        sock = self._socket_path(rep)
        log_path = self._log_path(rep)
        with contextlib.suppress(FileNotFoundError):
            sock.unlink()
        cmd = [sys.executable, "-m", "mlyard.serving.replica", "--model-dir",
               str(self.model_dir), "--socket", str(sock), "--top-k-default",
               str(self.top_k_default), "--max-batch", str(self.max_batch)]
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with open(log_path, "ab") as log:
                log_start = log.tell()
                log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting replica "
                          f"{self.name}#{rep.slot} (generation {rep.generation})\n".encode())
                log.flush()
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, env=self._env,
                                        start_new_session=True, close_fds=True)
        except OSError as exc:
            raise ReplicaStartError(f"{self.name}: cannot start replica {rep.slot}: "
                                    f"{exc}") from None
        rep.proc = proc
        self._procs[proc.pid] = proc
        _LIVE[proc.pid] = proc
        rep.ping_sent = None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + self.start_timeout
        try:
            conn = None
            while conn is None:
                if self._closed or rep.state not in (_STARTING, _DEAD):
                    raise ReplicaStartError(f"{self.name}: the replica was stopped")
                code = proc.poll()
                if code is not None:
                    raise ReplicaStartError(
                        f"{self.name}: replica {rep.slot} exited with status {code} while "
                        f"starting; log {log_path}:\n{_tail(log_path, log_start)}")
                if time.monotonic() > deadline:
                    raise ReplicaStartError(
                        f"{self.name}: replica {rep.slot} was not ready after "
                        f"{self.start_timeout:g} s; log {log_path}:\n"
                        f"{_tail(log_path, log_start)}")
                if sock.exists():
                    try:
                        _, protocol = await loop.create_unix_connection(
                            lambda: _Connection(proc.pid, lambda c: self._on_lost(rep, c)),
                            str(sock))
                        conn = protocol
                        break
                    except (ConnectionRefusedError, FileNotFoundError):
                        pass
                await asyncio.sleep(0.01)
            rep.conn = conn
            pong = await asyncio.wait_for(self._ping(rep),
                                          max(0.1, deadline - time.monotonic()))
            if pong is None:
                raise ReplicaStartError(f"{self.name}: replica {rep.slot} closed its "
                                        f"connection while starting; log {log_path}:\n"
                                        f"{_tail(log_path, log_start)}")
        except BaseException as exc:
            await self._stop_process(rep, graceful=False)
            if isinstance(exc, TimeoutError):
                raise ReplicaStartError(
                    f"{self.name}: replica {rep.slot} did not answer its first ping within "
                    f"{self.start_timeout:g} s; log {log_path}:\n"
                    f"{_tail(log_path, log_start)}") from None
            raise
        if self._closed or rep.state not in (_STARTING, _DEAD):
            await self._stop_process(rep, graceful=False)
            raise ReplicaStartError(f"{self.name}: the replica was stopped")
        rep.state = _READY
        self._set_ready()

    async def _ping(self, rep: _Replica) -> dict[str, Any] | None:
        """Ping ``rep`` once; its health document, or None if the connection broke."""
        conn = rep.conn
        if conn is None or conn.closed:
            return None
        rid = next(self._ids)
        fut: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        conn.futures[rid] = fut
        try:
            conn.send(REQUEST_HEADER.pack(REQUEST_HEADER.size - 4, KIND_PING, rid, 0, 0))
            rep.ping_sent = time.monotonic()
            doc = json.loads(await fut)
        except ReplicaLost:
            return None
        finally:
            conn.futures.pop(rid, None)
        rep.ping_sent = None
        rep.cpu_seconds = float(doc.get("cpu_seconds", 0.0))
        rep.rss_bytes = int(doc.get("rss_bytes", 0))
        return dict(doc)

    async def _stop_process(self, rep: _Replica, *, graceful: bool) -> None:
        """End ``rep``'s process: close the connection (a replica exits on end-of-file),
        then SIGTERM and SIGKILL its process group if it lingers; reap it."""
        proc, conn = rep.proc, rep.conn
        if conn is not None:
            conn.close()
        if proc is None:
            return
        if not graceful:
            _kill_group(proc, signal.SIGKILL)
        for sig in (signal.SIGTERM, signal.SIGKILL, None):
            deadline = time.monotonic() + _STOP_GRACE
            while proc.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if proc.poll() is not None or sig is None:
                break
            _kill_group(proc, sig)
        if proc.poll() is None:  # pragma: no cover - SIGKILL not effective yet
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        self._procs.pop(proc.pid, None)
        _LIVE.pop(proc.pid, None)
        with contextlib.suppress(OSError):
            self._socket_path(rep).unlink()

    # -- supervision -------------------------------------------------------------------------
    def _on_lost(self, rep: _Replica, conn: _Connection) -> None:
        """A replica's connection broke: stop routing to it and restart it if it was live."""
        if rep.conn is not conn:
            return
        if rep.state == _READY:
            rep.state = _DEAD
            self._set_ready()
            if not self._closed:
                rep.restart_task = self._loop.create_task(self._restart(rep))

    async def _restart(self, rep: _Replica) -> None:
        old = rep.proc
        await self._stop_process(rep, graceful=False)
        _log.warning("%s: replica %d (pid %s) lost (exit status %s); restarting it", self.name,
                     rep.slot, old.pid if old else "?", old.returncode if old else "?")
        delay = 0.2
        while not self._closed and rep.state == _DEAD:
            try:
                await self._launch(rep)
            except Exception as exc:  # keep trying: the slot must come back
                if self._closed or rep.state != _DEAD:
                    return
                _log.warning("%s; retrying in %g s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            rep.restarts += 1
            return

    async def _health_loop(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.health_interval)
            now = time.monotonic()
            for rep in list(self._ready):
                proc, conn = rep.proc, rep.conn
                if proc is None or conn is None:
                    continue
                if proc.poll() is not None:
                    conn.close()  # connection_lost restarts it
                elif rep.ping_sent is not None:
                    if now - rep.ping_sent > self.hang_timeout:
                        _log.warning("%s: replica %d (pid %d) did not answer a ping in %g s; "
                                     "killing it", self.name, rep.slot, proc.pid,
                                     self.hang_timeout)
                        _kill_group(proc)
                        conn.close()
                else:
                    task = self._loop.create_task(self._ping(rep))
                    self._ping_tasks.add(task)
                    task.add_done_callback(self._ping_tasks.discard)

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the replicas and wait until every one is ready; on failure stop them all
        and raise :class:`ReplicaStartError`."""
        if self._started:
            raise RuntimeError("the replica pool was already started")
        self._started = True
        self._loop = asyncio.get_running_loop()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            await self._add(self._target)
        except BaseException:
            await self.close(drain=False)
            raise
        self._health_task = asyncio.get_running_loop().create_task(self._health_loop())

    async def _add(self, count: int) -> None:
        used = {r.slot for r in self._slots if r.state != _STOPPED}
        free = (s for s in itertools.count() if s not in used)
        new = [_Replica(next(free)) for _ in range(count)]
        self._slots.extend(new)
        results = await asyncio.gather(*(self._launch(r) for r in new), return_exceptions=True)
        errors = [e for e in results if isinstance(e, BaseException)]
        if errors:
            for rep in new:
                rep.state = _STOPPED
            await asyncio.gather(*(self._stop_process(r, graceful=False) for r in new))
            self._slots = [r for r in self._slots if r.state != _STOPPED]
            self._set_ready()
            raise errors[0]

    async def _retire(self, victims: list[_Replica], drain: bool) -> None:
        """Stop routing to ``victims``, let their requests finish (``drain``), stop them."""
        for rep in victims:
            rep.state = _DRAINING
            rep.idle = asyncio.Event()
            if rep.in_flight == 0:
                rep.idle.set()
        self._set_ready()
        restarts = [r.restart_task for r in victims
                    if r.restart_task is not None and not r.restart_task.done()]
        for task in restarts:
            task.cancel()
        await asyncio.gather(*restarts, return_exceptions=True)
        if drain:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(r.idle.wait() for r in victims if r.idle is not None)),
                    self.drain_timeout)
        for rep in victims:
            rep.state = _STOPPED
        await asyncio.gather(*(self._stop_process(r, graceful=drain) for r in victims))
        self._slots = [r for r in self._slots if r.state != _STOPPED]

    async def scale(self, replicas: int) -> None:
        """Change the number of replicas: start new ones and wait until they are ready, or
        drain and stop the surplus (the newest slots first, ones not ready before those)."""
        if replicas < 1:
            raise ValueError(f"a pool needs at least one replica, got {replicas}")
        if self._closed:
            raise NoHealthyReplica(f"{self.name}: the replica pool is closed")
        if not self._started:  # start() will start this many
            self._target = replicas
            return
        async with self._scale_lock:
            live = [r for r in self._slots if r.state != _STOPPED]
            if replicas > len(live):
                self._target = replicas
                try:
                    await self._add(replicas - len(live))
                except BaseException:
                    self._target = len([r for r in self._slots if r.state != _STOPPED])
                    raise
            elif replicas < len(live):
                order = sorted(live, key=lambda r: (r.state == _READY, -r.slot))
                self._target = replicas
                await self._retire(order[:len(live) - replicas], drain=True)

    async def close(self, drain: bool = True) -> None:
        """Stop every replica (after their in-flight requests finished, if ``drain``)."""
        if self._closed and not self._slots:
            return
        if drain:
            with contextlib.suppress(Exception):
                await self._retire([r for r in self._slots if r.state != _STOPPED], drain=True)
        self._closed = True
        self._ready_event.set()  # wake waiting invocations: they fail with NoHealthyReplica
        tasks = [t for t in (self._health_task, *self._ping_tasks,
                             *(r.restart_task for r in self._slots))
                 if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        victims = list(self._slots)
        for rep in victims:
            rep.state = _STOPPED
        self._set_ready()
        try:
            await asyncio.gather(*(self._stop_process(r, graceful=False) for r in victims),
                                 return_exceptions=True)
        finally:
            _kill_all(self._procs)
            self._slots = []
            if self._tmp_socket_dir and self._socket_dir is not None:
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    async def __aenter__(self) -> ReplicaPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close(drain=exc[0] is None)


def _tail(path: Path, start: int = 0, size: int = _LOG_TAIL) -> str:
    """The last ``size`` characters of ``path`` written after offset ``start``."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            fh.seek(max(start, end - size))
            return fh.read().decode("utf-8", errors="replace").rstrip() or "(empty)"
    except OSError as exc:
        return f"(log unreadable: {exc})"
