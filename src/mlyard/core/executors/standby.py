"""Warm standby job processes: the body of ``mlyard job standby``.

A standby is a job process started *before* its job exists. It pays for interpreter start,
imports (the job runner plus any ``--preload`` modules, e.g. an algorithm) and opening the
workspace up front, writes one line ``ready`` to stdout and then blocks reading one job
name from stdin. Handed a name, it becomes exactly what ``mlyard job run <name>`` would have
been: its stdout/stderr go to ``<home>/jobs/<name>/launcher.log``, stdin to ``/dev/null``,
it records its pid for the job and runs :func:`mlyard.core.runner.run_job`, exiting 0 if the
job Completed and 1 otherwise (an mlyard error, e.g. a job that is no longer Pending, exits
2 through the CLI like ``job run``). On end of input (the parent closed the pipe or went
away) it exits 0 without touching the workspace's jobs.

Protocol (what :class:`mlyard.core.executors.local.LocalProcessExecutor` relies on): the
``ready`` line is written *before* stdin is read, so a standby that ended without writing
``ready`` never read a job name. The launcher starts it in its own session, so stop signals
and kills address its process group as for a cold job process.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mlyard.config import Settings

#: The line a standby writes once it can take a job.
READY_LINE = "ready"


def standby_command(preload: Sequence[str] = ()) -> list[str]:
    """The command that starts a standby job process (``mlyard job standby``)."""
    command = [sys.executable, "-m", "mlyard", "job", "standby"]
    for module in preload:
        command += ["--preload", module]
    return command


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
    from mlyard.core.records import JobStatus
    from mlyard.core.runner import run_job
    from mlyard.core.specs import check_job_name
    from mlyard.core.workspace import Workspace
    from mlyard.sdk.session import set_default_workspace

    for module in preload:
        importlib.import_module(module)
    ws = Workspace(Settings.from_env(home))
    set_default_workspace(ws)
    try:
        try:
            sys.stdout.write(READY_LINE + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the launcher is gone already
            return 0
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
