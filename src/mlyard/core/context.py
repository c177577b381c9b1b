"""What a job kind's ``run`` gets in the job's own process: :class:`JobContext` (the
workspace, the job's record and typed spec, its log, its stop signal and its folders) and the
helpers every kind uses (resolving input locations, storing outputs).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from mlyard.core.logcapture import JobLog
from mlyard.core.records import JobRecord
from mlyard.core.specs import JobSpec
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError, ValidationError

S = TypeVar("S", bound=JobSpec)


class StopSignal:
    """Turns true when the job was asked to stop: a stop request in the store, SIGTERM, or
    the max runtime passing. A watcher thread polls the store."""

    def __init__(self, ws: Workspace, job_name: str, max_runtime: float | None,
                 poll: float = 0.5) -> None:
        self.event = threading.Event()
        self.reason = "stop requested"
        self._ws = ws
        self._name = job_name
        self._deadline = None if max_runtime is None else time.monotonic() + max_runtime
        self._done = threading.Event()
        self._poll = poll
        self._thread = threading.Thread(target=self._watch, daemon=True, name="mlyard-stop")
        self._thread.start()

    def __call__(self) -> bool:
        return self.event.is_set()

    def set(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()

    def _watch(self) -> None:
        while not self._done.wait(self._poll):
            if self._deadline is not None and time.monotonic() > self._deadline:
                self.set("MaxRuntimeExceeded")
            try:
                record = self._ws.store.get_job(self._name)
                if record.stop_requested:
                    self.set(record.failure_reason or "stop requested")
            except MlyardError:
                continue

    def close(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)


def resolve_input(ws: Workspace, location: str, what: str) -> Path:
    """A local path for a channel/input location (local path, ``file://`` or artifact URI)."""
    if "://" in location:
        local = ws.artifacts.local_path(location)
        if local is None:
            return ws.artifacts.materialize(location, ws.cache_dir)
    else:
        local = Path(location)
    if not local.exists():
        raise ValidationError(f"{what}: {location} does not exist")
    return local.resolve()


@dataclass
class JobContext(Generic[S]):
    """One running job, as its kind sees it. ``staging`` is a job-local folder for outputs
    that are stored only after the work succeeded; ``scratch`` is the job's local folder
    (``<home>/jobs/<name>``)."""

    ws: Workspace
    name: str
    record: JobRecord
    spec: S
    log: JobLog
    stop: StopSignal
    staging: Path
    scratch: Path

    def resolve_input(self, location: str, what: str) -> Path:
        """A local path for an input location (see :func:`resolve_input`)."""
        return resolve_input(self.ws, location, what)

    def store_output(self, local: Path, *parts: str) -> str:
        """Upload ``local`` to the job's artifacts under ``parts``; returns its URI."""
        return self.ws.artifacts.upload(local, self.ws.artifacts.uri("jobs", self.name, *parts))
