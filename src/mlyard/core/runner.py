"""The job runner: the body of ``mlyard job run <name>``, executed in the job's own process.

It claims the Pending job (compare-and-set to InProgress), captures logs and metrics, hands
the work to the job's kind (:meth:`mlyard.core.kinds.JobKind.run`) and reports exactly one
terminal status: Completed (with the outputs the kind returned), Failed (with the reason) or
Stopped. Kinds stage outputs in a job-local folder and store them only after their work
succeeded, so a failed job never registers partial outputs.

A failure's reason is one line, ``"<ErrorCode>: <message>"``, and that is what the job log
(which users follow) says. mlyard's own traceback is not the user's business: it goes to
the job's debug log (:data:`DEBUG_LOG` in the job's scratch folder) for whoever debugs
mlyard, and the job log names that file only when the error was not one mlyard raised on
purpose (a bug rather than bad input).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import socket
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from mlyard.config import Settings
from mlyard.core.context import JobContext, StopSignal
from mlyard.core.executors.standby import READY_LINE
from mlyard.core.kinds import get_job_kind
from mlyard.core.logcapture import JobLog, LogStream
from mlyard.core.records import JobStatus
from mlyard.core.specs import check_job_name
from mlyard.core.workspace import Workspace, set_default_workspace
from mlyard.errors import ConflictError, MlyardError, problem_text

#: The file in a job's scratch folder that receives mlyard's tracebacks of its failures.
DEBUG_LOG = "debug.log"


def write_debug_traceback(path: Path, exc: BaseException) -> bool:
    """Append ``exc``'s traceback to the debug log ``path``; False when it cannot be
    written (the failure is still recorded, only its traceback is lost)."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} pid {os.getpid()}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return False
    return True


class JobRunner:
    """Runs one job in this process. Use :func:`run_job`."""

    def __init__(self, ws: Workspace, name: str) -> None:
        self.ws = ws
        self.name = name
        self.record = ws.store.get_job(name)
        self.kind = get_job_kind(self.record.job_type)
        self.spec = self.kind.parse_spec(self.record.spec)
        self.scratch = ws.job_dir(name)
        self.staging = self.scratch / "staging"

    def _metric_regexes(self) -> list[tuple[str, str]]:
        defs = getattr(self.spec, "metric_definitions", None) or []
        return [(d.name, d.regex) for d in defs]

    # -- the whole run ---------------------------------------------------------------------
    def run(self) -> JobStatus:
        ws, name = self.ws, self.name
        ws.store.set_job_process(name, executor=self.record.executor or ws.settings.executor,
                                 pid=os.getpid(), host=socket.gethostname())
        if not ws.store.transition_job(name, JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING]):
            status = ws.store.get_job(name).status
            raise ConflictError(f"job {name!r} is {status.value}, not Pending; not running it")
        self.scratch.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.staging, ignore_errors=True)
        log = JobLog(ws.store, name, self.scratch / "job.log", self._metric_regexes())
        stop = StopSignal(ws, name, getattr(self.spec, "max_runtime_seconds", None))
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set("SIGTERM"))
        stdout, stderr = sys.stdout, sys.stderr
        status = JobStatus.FAILED
        reason: str | None = None
        outputs: dict[str, str] = {}
        stream = LogStream(log)
        try:
            sys.stdout = sys.stderr = stream
            os.environ["MLYARD_JOB_NAME"] = name
            log.write(f"job {name} started on {socket.gethostname()} (pid {os.getpid()})")
            outputs = self.kind.run(JobContext(ws, name, self.record, self.spec, log, stop,
                                               self.staging, self.scratch))
            status = JobStatus.COMPLETED
        except BaseException as exc:
            if stop():
                status, reason = JobStatus.STOPPED, stop.reason
                if reason == "MaxRuntimeExceeded":
                    reason = "MaxRuntimeExceeded: the job ran past max_runtime_seconds"
            else:
                kind = exc.code if isinstance(exc, MlyardError) else type(exc).__name__
                reason = f"{kind}: {problem_text(exc)}"
                debug = self.scratch / DEBUG_LOG
                saved = write_debug_traceback(debug, exc)
                if saved and not isinstance(exc, MlyardError):
                    with contextlib.suppress(Exception):
                        log.write(f"unexpected error in mlyard; its traceback is in {debug}")
            log.write(f"job {name} {status.value}: {reason}")
        finally:
            stream.flush()
            sys.stdout, sys.stderr = stdout, stderr
            signal.signal(signal.SIGTERM, previous)
            stop.close()
            if status is JobStatus.COMPLETED:
                log.write(f"job {name} Completed")
            log.close()
        ws.store.transition_job(
            name, status,
            expected=[JobStatus.IN_PROGRESS, JobStatus.STOPPING],
            failure_reason=reason, outputs=outputs,
        )
        shutil.rmtree(self.staging, ignore_errors=True)
        return status


def run_job(ws: Workspace, name: str) -> JobStatus:
    """Run the Pending job ``name`` to a terminal status in this process."""
    return JobRunner(ws, name).run()


def _redirect_output(log_path: Path) -> None:
    """Point fds 1 and 2 at ``log_path`` (append) and fd 0 at ``/dev/null``, as the local
    executor's cold start does for a ``job run`` process."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)


def run_standby(preload: Sequence[str] = (), home: str | os.PathLike[str] | None = None) -> int:
    """Wait as a standby for one job name on stdin and run that job; return the exit code.

    ``preload`` names modules imported before ``ready`` is written (an import error ends the
    standby with a traceback on stderr before ``ready``). ``home`` overrides
    ``MLYARD_HOME`` like the CLI's ``--home``; every other setting comes from the
    environment. Errors of the job run itself propagate, as in ``job run``.
    """
    for module in preload:
        importlib.import_module(module)
    ws = Workspace(Settings.from_env(home))
    set_default_workspace(ws)
    try:
        try:
            sys.stdout.write(READY_LINE + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # The launcher is gone, but it may have handed over a job name before it died
            # (an executor can give a job to a standby that is still starting): point fd 1
            # somewhere harmless and still read stdin, so that job runs instead of being lost.
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
            finally:
                os.close(null)
        line = sys.stdin.buffer.readline()
        name = line.decode("utf-8", errors="replace").strip()
        if not name:  # end of input: released without a job
            return 0
        check_job_name(name)
        _redirect_output(ws.job_dir(name) / "launcher.log")
        ws.store.set_job_process(name, executor="local", pid=os.getpid(),
                                 host=socket.gethostname())
        start = time.time()
        status = run_job(ws, name)
        print(f"job {name} {status.value} after {time.time() - start:.1f} s", flush=True)
        return 0 if status is JobStatus.COMPLETED else 1
    finally:
        set_default_workspace(None)
        ws.close()
