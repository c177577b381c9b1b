"""The two commands every job process runs, without the rest of the CLI.

Executors start each job as ``python -m mlyard job run NAME`` and each warm standby as
``python -m mlyard job standby [--preload MODULE]...`` (:mod:`mlyard.core.executors`).
Importing the whole CLI costs about 2 s on a 2-core machine (every command module and what
it needs: pandas, the analysis kit, the endpoint client), three times what a job needs (the
runner and its kind); a pipeline or a tuning job pays it for every step or trial. So
``mlyard/__main__.py`` sends exactly these argument lists here, and this module imports only
the runner. They behave as ``mlyard job run`` / ``mlyard job standby``
(:mod:`mlyard.cli.commands_jobs`): same output, same exit codes, and an error is reported by
the CLI's own :func:`mlyard.cli.main.exit_for` (imported only then). Any other form (e.g.
``mlyard --home X job run NAME``, ``--help``) goes through the full CLI.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence


def fast_path(args: Sequence[str]) -> bool:
    """True for the argument lists this module runs: ``job run NAME`` and ``job standby``
    with only ``--preload MODULE`` pairs."""
    if len(args) == 3 and args[:2] == ["job", "run"] and not args[2].startswith("-"):
        return True
    if list(args[:2]) != ["job", "standby"]:
        return False
    rest = list(args[2:])
    return len(rest) % 2 == 0 and all(rest[i] == "--preload" and not rest[i + 1].startswith("-")
                                      for i in range(0, len(rest), 2))


def main(args: Sequence[str]) -> int:
    """Run ``job run NAME`` or ``job standby ...`` (see :func:`fast_path`); the exit code."""
    try:
        if args[1] == "run":
            return _run(args[2])
        from mlyard.core.runner import run_standby

        return run_standby(list(args[3::2]))
    except Exception as exc:
        from mlyard.cli.main import exit_for

        exit_for(exc)


def _run(name: str) -> int:
    from mlyard.config import Settings
    from mlyard.core.records import JobStatus
    from mlyard.core.runner import run_job
    from mlyard.core.workspace import Workspace, set_default_workspace

    ws = Workspace(Settings.from_env())
    set_default_workspace(ws)
    try:
        start = time.time()
        status = run_job(ws, name)
        print(f"job {name} {status.value} after {time.time() - start:.1f} s", flush=True)
        return 0 if status is JobStatus.COMPLETED else 1
    finally:
        set_default_workspace(None)
        ws.close()


if __name__ == "__main__":  # pragma: no cover - run through mlyard/__main__.py
    sys.exit(main(sys.argv[1:]))
