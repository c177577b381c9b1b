"""The executor interface. Implementations must pass :mod:`mlyard.testing.executors`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from mlyard.config import Settings
from mlyard.core.records import JobRecord
from mlyard.core.stores.base import MetadataStore


def job_command(job_name: str) -> list[str]:
    """The one command that runs a job, whatever launches it."""
    return [sys.executable, "-m", "mlyard", "job", "run", job_name]


def job_environment(settings: Settings) -> dict[str, str]:
    """The environment a job process starts with: ours plus the workspace settings."""
    env = dict(os.environ)
    env.update(settings.child_env())
    env["PYTHONUNBUFFERED"] = "1"
    return env


class _Reaper:
    """Child processes this process started and no longer tracks (a closed executor's jobs,
    a background server: detached, they run on): a daemon thread polls them, so that each
    is reaped when it ends (no zombie) and its ``Popen`` is never dropped while the process
    still runs."""

    def __init__(self, interval: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._thread: threading.Thread | None = None
        self._interval = interval

    def adopt(self, procs: Sequence[subprocess.Popen[bytes]]) -> None:
        running = [p for p in procs if p.poll() is None]
        if not running:
            return
        with self._lock:
            self._procs.extend(running)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="mlyard-reaper")
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            with self._lock:
                self._procs = [p for p in self._procs if p.poll() is None]
                if not self._procs:
                    self._thread = None
                    return


_REAPER = _Reaper()


def detach(*procs: subprocess.Popen[bytes]) -> None:
    """Let ``procs`` run on untracked: each is reaped when it ends (no zombie), and no
    ``Popen`` is dropped while its process still runs (no ``ResourceWarning``)."""
    _REAPER.adopt(procs)


def pid_alive(pid: int) -> bool:
    """Whether a local process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class Executor(ABC):
    """Starts ``mlyard job run <name>`` somewhere and can tell whether it still runs."""

    name: ClassVar[str]

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        self.settings = settings
        self.store = store

    @abstractmethod
    def submit(self, job_name: str) -> None:
        """Start the job's process; return at once."""

    @abstractmethod
    def is_running(self, record: JobRecord) -> bool | None:
        """True/False if this executor can tell whether the job's process lives, else None."""

    @abstractmethod
    def kill(self, record: JobRecord) -> None:
        """Terminate the job's process hard (after a stop request went unanswered)."""

    def warm(self, count: int = 1, preload: Sequence[str] = (), *,
             timeout: float = 120.0) -> bool:
        """Keep ``count`` warm standby job processes ready, having imported ``preload``, so
        that jobs submitted next start in milliseconds (a tuning job's trials). Returns
        whether this executor keeps standbys: the default keeps none and returns False."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (connections, child handles)."""

    @staticmethod
    def local_process_alive(record: JobRecord) -> bool | None:
        """Liveness of a job process recorded on this host, else None."""
        if record.pid is None or record.host != socket.gethostname():
            return None
        return pid_alive(record.pid)
