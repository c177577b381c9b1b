"""Launching a training job's worker processes and watching them.

A :class:`WorkerGroup` starts one process per rank (each in its own process group), feeds
their output lines to the job log, and waits until all ranks exit. It ends early when

* a worker exits with a non-zero code: the other workers are killed and
  :class:`WorkerFailed` is raised with that worker's rank, host, exit code and the line of
  its output that says what went wrong (:func:`failure_line`: a Python exception line, or
  the last line that is not a usage hint); a dead rank never leaves the others hanging in a
  collective. The worker's whole output, a script's traceback included, is already in the
  job log line by line;
* a worker cannot be started (the program does not exist or is not executable):
  :class:`WorkerFailed` naming the program;
* the job is asked to stop (``should_stop``): workers get SIGTERM, then SIGKILL;
* a (simulated) spot reclaim happens (``interrupt``): workers are killed at once, as an
  instance that goes away would be, and the outcome is ``"interrupted"``.

Workers run as local processes (:class:`LocalWorker`) or, on the Ray executor, inside Ray
actors (:mod:`mlyard.training.ray_workers`); both offer the :class:`WorkerHandle` protocol.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from mlyard.errors import MlyardError

Outcome = Literal["completed", "stopped", "interrupted"]
TERM_GRACE_SECONDS = 10.0


class WorkerFailed(MlyardError):
    """A training worker process failed."""

    code = "AlgorithmError"


#: A Python exception line (``ValueError: boom``, ``torch.OutOfMemoryError``).
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")
#: Usage hints that tools print after their error (``Run 'docker run --help' for ...``).
_HINT_LINE = re.compile(r"^(Run|See|Try) '[^']*--help'")
MAX_REASON_CHARS = 400


def failure_line(lines: Sequence[str]) -> str:
    """The line of a failed process's last output that says what went wrong: the last
    Python exception line, else the last line that is not a usage hint ("" when none)."""
    text = [x.strip() for x in lines if x.strip()]
    found = next((x for x in reversed(text) if _EXCEPTION_LINE.match(x)), None)
    if found is None:
        found = next((x for x in reversed(text) if not _HINT_LINE.match(x)), "")
    if len(found) > MAX_REASON_CHARS:
        found = found[:MAX_REASON_CHARS - 3] + "..."
    return found


def program_problem(exc: OSError) -> str:
    """Why a program could not be started, in a user's words."""
    if isinstance(exc, FileNotFoundError):
        return "not found (is it installed and on PATH?)"
    if isinstance(exc, PermissionError):
        return "not executable (permission denied)"
    return exc.strerror or str(exc)


def _cannot_start(command: Sequence[str], exc: OSError) -> WorkerFailed:
    program = command[0] if command else "?"
    return WorkerFailed(f"cannot start the training process: program {program!r} "
                        f"{program_problem(exc)}")


class WorkerHandle(Protocol):
    """One running worker process."""

    rank: int

    def poll(self) -> int | None:
        """Exit code, or None while running."""

    def drain(self) -> list[str]:
        """Output lines produced since the last call."""

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the worker's whole process group."""

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the exit code."""


class LocalWorker:
    """A worker as a local child process; a reader thread collects its output lines."""

    def __init__(self, rank: int, command: Sequence[str], env: dict[str, str],
                 cwd: Path) -> None:
        self.rank = rank
        try:
            self._proc = subprocess.Popen(
                list(command), cwd=cwd, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True, errors="replace", bufsize=1, start_new_session=True)
        except OSError as exc:
            raise _cannot_start(command, exc) from None
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._pump, daemon=True,
                                        name=f"mlyard-worker-{rank}")
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _pump(self) -> None:
        assert self._proc.stdout is not None
        with self._proc.stdout:  # closed once the worker's output ends
            for line in self._proc.stdout:
                with self._lock:
                    self._lines.append(line.rstrip("\n"))

    def poll(self) -> int | None:
        return self._proc.poll()

    def drain(self) -> list[str]:
        if self._proc.poll() is not None:
            self._reader.join(timeout=2)
        with self._lock:
            lines, self._lines = self._lines, []
        return lines

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)

    def wait(self, timeout: float) -> int | None:
        try:
            return self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


@dataclass
class WorkerSpec:
    """What to start for one rank."""

    rank: int
    command: list[str]
    env: dict[str, str]
    host: str = "algo-1"


class WorkerGroup:
    """The worker processes of one attempt of a training job."""

    def __init__(self, specs: Sequence[WorkerSpec], cwd: Path,
                 on_line: Callable[[int, str], None],
                 start: Callable[[WorkerSpec, Path], WorkerHandle] | None = None,
                 poll: float = 0.1) -> None:
        self.specs = list(specs)
        self.cwd = cwd
        self.on_line = on_line
        self._start = start or (lambda s, cwd: LocalWorker(s.rank, s.command, s.env, cwd))
        self.poll = poll
        self.workers: list[WorkerHandle] = []
        self._tails: dict[int, list[str]] = {s.rank: [] for s in self.specs}

    def _pump(self) -> None:
        for worker in self.workers:
            for line in worker.drain():
                tail = self._tails[worker.rank]
                tail.append(line)
                del tail[:-20]
                self.on_line(worker.rank, line)

    def _kill_all(self, sig: int, grace: float) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.signal(sig)
        deadline = time.monotonic() + grace
        for worker in self.workers:
            if worker.wait(max(0.0, deadline - time.monotonic())) is None:
                worker.signal(signal.SIGKILL)
                worker.wait(5.0)
        self._pump()

    def run(self, should_stop: Callable[[], bool],
            interrupt: Callable[[], bool] | None = None) -> Outcome:
        """Start every rank and wait: ``"completed"`` when all exit 0, ``"stopped"`` or
        ``"interrupted"``; raises :class:`WorkerFailed` when one fails."""
        try:
            for spec in self.specs:
                self.workers.append(self._start(spec, self.cwd))
        except BaseException:
            self._kill_all(signal.SIGKILL, 0.0)
            raise
        while True:
            self._pump()
            codes = [w.poll() for w in self.workers]
            failed = [(w, c) for w, c in zip(self.workers, codes, strict=True)
                      if c not in (None, 0)]
            if failed:
                worker, code = failed[0]
                self._kill_all(signal.SIGTERM, 2.0)
                spec = self.specs[self.workers.index(worker)]
                last = failure_line(self._tails[worker.rank])
                where = f"worker rank {spec.rank} ({spec.host})" if len(self.specs) > 1 \
                    else "training process"
                raise WorkerFailed(f"{where} exited with code {code}: "
                                   + (last or "(it printed nothing)"))
            if all(c == 0 for c in codes):
                self._pump()
                return "completed"
            if should_stop():
                self._kill_all(signal.SIGTERM, TERM_GRACE_SECONDS)
                return "stopped"
            if interrupt is not None and interrupt():
                self._kill_all(signal.SIGKILL, 0.0)
                return "interrupted"
            time.sleep(self.poll)
