"""Local process executor: each job is a detached child process on this machine."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess

from mlyard.config import Settings
from mlyard.core.executors.base import Executor, job_command, job_environment
from mlyard.core.records import JobRecord
from mlyard.core.stores.base import MetadataStore


class LocalProcessExecutor(Executor):
    """Runs jobs as local processes in their own session (so a stop can signal the whole
    process group). Early output, before the job captures its own logs, goes to
    ``<home>/jobs/<name>/launcher.log``."""

    name = "local"

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def submit(self, job_name: str) -> None:
        log_dir = self.settings.home / "jobs" / job_name
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "launcher.log", "ab") as out:
            proc = subprocess.Popen(
                job_command(job_name), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=job_environment(self.settings),
                start_new_session=True, cwd=os.getcwd(),
            )
        self._children[job_name] = proc
        self.store.set_job_process(job_name, executor=self.name, pid=proc.pid,
                                   host=socket.gethostname())

    def is_running(self, record: JobRecord) -> bool | None:
        child = self._children.get(record.name)
        if child is not None:
            return child.poll() is None
        return self.local_process_alive(record)

    def kill(self, record: JobRecord) -> None:
        if record.pid is None or self.local_process_alive(record) is not True:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)
        child = self._children.get(record.name)
        if child is not None:
            child.wait(timeout=10)

    def close(self) -> None:
        for child in self._children.values():
            child.poll()  # reap finished children
        self._children.clear()
