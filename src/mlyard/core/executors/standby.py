"""Warm standby job processes: the launcher's side of the protocol (the command that starts
one and the line it writes when ready). The standby process's side, the body of
``mlyard job standby``, is :func:`mlyard.core.runner.run_standby`.

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
``ready`` never read a job name. A standby whose ``ready`` line meets a closed pipe (its
launcher died, perhaps right after handing it a job) still reads stdin and runs a name it
finds there, so a job handed over is never dropped. The launcher starts it in its own
session, so stop signals and kills address its process group as for a cold job process.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: The line a standby writes once it can take a job.
READY_LINE = "ready"


def standby_command(preload: Sequence[str] = ()) -> list[str]:
    """The command that starts a standby job process (``mlyard job standby``)."""
    command = [sys.executable, "-m", "mlyard", "job", "standby"]
    for module in preload:
        command += ["--preload", module]
    return command
