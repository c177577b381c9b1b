"""Local process executor: each job is a detached child process on this machine.

Warm standbys (opt-in, :meth:`LocalProcessExecutor.warm`): a driver that launches many short
jobs one after another (hyperparameter tuning) can keep job processes started ahead of time
(``mlyard job standby``, :mod:`mlyard.core.executors.standby`) that have already paid for
interpreter start and imports. ``submit`` hands the job name to one of them over a pipe and
starts a replacement in the background; the job then runs exactly as a cold ``mlyard job
run`` process would (same environment and working folder, own session, output in
``launcher.log``). Without ``warm()`` no standby is ever started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.config import Settings
from mlyard.core.executors.base import Executor, detach, job_command, job_environment
from mlyard.core.executors.standby import READY_LINE, standby_command
from mlyard.core.records import JobRecord, JobStatus
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import MlyardError, ValidationError, WorkspaceError

#: Folder under ``<home>/jobs`` holding the logs of standbys that have no job yet.
STANDBY_DIR = ".standby"
#: Variables that may differ between a standby and the job it gets: pytest rewrites this one
#: in every test phase, so a standby warmed in a fixture would never match otherwise.
VOLATILE_ENV = frozenset({"PYTEST_CURRENT_TEST"})


def _env_key(env: dict[str, str]) -> dict[str, str]:
    """What must be equal for a standby to stand in for a cold start."""
    return {k: v for k, v in env.items() if k not in VOLATILE_ENV}


@dataclass(eq=False)
class _Standby:
    """A standby process and what it was started with. Fields other than ``proc``/``log``
    change only under the executor's lock."""

    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    cwd: str
    ready: bool = False  # it wrote its ready line (it reads stdin from then on)
    settled: bool = False  # ready, or ended before it got there
    job: str | None = None  # the job handed to it
    sent: bool = False  # submit finished writing the job name (or failed to)
    rescued: bool = False  # its job was started cold instead (the standby never read it)


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return " | ".join(text.splitlines()[-lines:])


def _unlink_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size == 0:
            path.unlink()


def descendants(pid: int) -> list[Any]:
    """The processes below ``pid`` (psutil handles; empty if it is gone)."""
    import psutil

    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def kill_all(processes: Sequence[Any]) -> None:
    """SIGKILL each of ``processes`` (psutil handles) that still lives."""
    import psutil

    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.kill()


class LocalProcessExecutor(Executor):
    """Runs jobs as local processes in their own session (so a stop can signal the whole
    process group). Early output, before the job captures its own logs, goes to
    ``<home>/jobs/<name>/launcher.log``.

    Thread-safe: ``submit``, ``warm`` and ``close`` may be called from different threads.
    """

    name = "local"

    def __init__(self, settings: Settings, store: MetadataStore) -> None:
        super().__init__(settings, store)
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._cond = threading.Condition()
        self._standbys: list[_Standby] = []  # not handed a job yet (starting or ready)
        self._retired: list[_Standby] = []  # released without a job; reaped later
        self._target = 0
        self._preload: tuple[str, ...] = ()
        self._spawning = 0  # standbys being started by background threads
        self._generation = 0  # bumped when the pool is reset; stale spawns are released
        self._failure: str | None = None  # why a standby ended before it was ready

    # -- cold start ------------------------------------------------------------------------
    def _start_cold(self, job_name: str) -> subprocess.Popen[bytes]:
        log_dir = self.settings.home / "jobs" / job_name
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "launcher.log", "ab") as out:
            return subprocess.Popen(
                job_command(job_name), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=job_environment(self.settings),
                start_new_session=True, cwd=os.getcwd(),
            )

    def _register(self, job_name: str, proc: subprocess.Popen[bytes]) -> None:
        self._children[job_name] = proc
        self.store.set_job_process(job_name, executor=self.name, pid=proc.pid,
                                   host=socket.gethostname())

    # -- the Executor interface --------------------------------------------------------------
    def submit(self, job_name: str) -> None:
        """Start the job: on a standby if one fits (same environment and working folder as a
        cold start would have), else as a new ``mlyard job run`` process."""
        standby = self._claim_standby(job_name)
        if standby is None:
            self._register(job_name, self._start_cold(job_name))
            return
        self._children[job_name] = standby.proc
        assert standby.proc.stdin is not None
        try:
            standby.proc.stdin.write(f"{job_name}\n".encode())
            standby.proc.stdin.close()
            written = True
        except (OSError, ValueError):  # it died since the check
            written = False
        self._register(job_name, standby.proc)
        _unlink_if_empty(standby.log)  # its output goes to the job's launcher.log now
        with self._cond:
            standby.sent = True
            # a standby that ended before writing `ready` never read the name
            rescue = not written or (standby.settled and not standby.ready)
            standby.rescued = rescue
        if rescue:
            self._register(job_name, self._start_cold(job_name))
        self._refill()

    def is_running(self, record: JobRecord) -> bool | None:
        child = self._children.get(record.name)
        if child is not None:
            return child.poll() is None
        return self.local_process_alive(record)

    def kill(self, record: JobRecord) -> None:
        if record.pid is None or self.local_process_alive(record) is not True:
            return
        # the job's script and training workers run in process groups of their own: note
        # them, kill the job process first (so it cannot report their death as a failure),
        # then them
        below = descendants(record.pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.pid, signal.SIGKILL)
        kill_all(below)
        child = self._children.get(record.name)
        if child is not None:
            child.wait(timeout=10)

    def close(self) -> None:
        """Release the standbys (closing their stdin ends them; one still starting is
        terminated), reap them, and hand the job children (which run on) to the reaper."""
        with self._cond:
            self._generation += 1
            self._target = 0
            doomed = self._standbys + self._retired
            self._standbys, self._retired = [], []
            self._cond.notify_all()
        for standby in doomed:
            self._release(standby, terminate=not standby.ready)
        for standby in doomed:
            self._reap_one(standby, timeout=10)
        detach(*self._children.values())  # running ones are reaped later
        self._children.clear()

    # -- warm standbys -----------------------------------------------------------------------
    def warm(self, count: int = 1, preload: Sequence[str] = (), *,
             timeout: float = 120.0) -> bool:
        """Keep ``count`` standby job processes ready (0 turns standbys off); returns True.

        ``preload`` names modules the standbys import ahead of time, e.g.
        ``mlyard.algorithms.blazingtext.algorithm``; changing it replaces the standbys.
        Blocks until ``count`` standbys are ready; raises :class:`WorkspaceError` (and turns
        standbys off) if one ends before it gets there, e.g. a preload module fails to
        import, and ``TimeoutError`` after ``timeout`` seconds (standbys keep starting).
        Each ``submit`` that uses a standby starts a replacement in the background.
        """
        if count < 0:
            raise ValidationError(f"standby count must be >= 0, not {count}")
        wanted = tuple(preload)
        with self._cond:
            if wanted != self._preload:
                self._generation += 1
                self._retire_locked(self._standbys)
                self._standbys = []
            self._target, self._preload, self._failure = count, wanted, None
            # keep the most advanced ones when shrinking
            self._standbys.sort(key=lambda s: not s.ready)
            self._retire_locked(self._standbys[count:])
            del self._standbys[count:]
        self._reap()
        self._refill()
        deadline = time.monotonic() + timeout
        with self._cond:
            while sum(s.ready for s in self._standbys) < count:
                if self._failure is not None:
                    failure, self._failure = self._failure, None
                    self._target = 0
                    self._generation += 1
                    self._retire_locked(self._standbys)
                    self._standbys = []
                    raise WorkspaceError(f"a standby job process failed to start: {failure}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"standby job processes not ready after {timeout} s")
                self._cond.wait(left)
        return True

    def standby_pids(self) -> list[int]:
        """Pids of the standby processes not yet handed a job (starting or ready)."""
        with self._cond:
            return [s.proc.pid for s in self._standbys]

    def _claim_standby(self, job_name: str) -> _Standby | None:
        """Take a standby for ``job_name``: a ready one, else one still starting (it runs the
        job as soon as its imports are done, never later than a cold start would). Standbys
        that died or were started with another environment or folder are released."""
        with self._cond:
            if not self._standbys:
                return None
            env, cwd = _env_key(job_environment(self.settings)), os.getcwd()
            usable: list[_Standby] = []
            for standby in self._standbys:
                dead = standby.proc.poll() is not None or (standby.settled
                                                           and not standby.ready)
                if dead or _env_key(standby.env) != env or standby.cwd != cwd:
                    self._retire_locked([standby])
                else:
                    usable.append(standby)
            chosen = next((s for s in usable if s.ready), usable[0] if usable else None)
            if chosen is not None:
                usable.remove(chosen)
                chosen.job = job_name
            self._standbys = usable
            return chosen

    def _refill(self) -> None:
        """Start standbys in background threads until ``count`` are up or starting."""
        self._reap()
        with self._cond:
            missing = self._target - len(self._standbys) - self._spawning
            if missing <= 0:
                return
            self._spawning += missing
            preload, generation = self._preload, self._generation
        for _ in range(missing):
            threading.Thread(target=self._spawn, args=(preload, generation), daemon=True,
                             name="mlyard-standby").start()

    def _spawn(self, preload: tuple[str, ...], generation: int) -> None:
        """Background thread: start one standby, add it to the pool, wait for its ready
        line (or its end)."""
        try:
            standby = self._start_standby(preload)
        except Exception as exc:
            with self._cond:
                self._spawning -= 1
                self._failure = f"cannot start it: {exc}"
                self._cond.notify_all()
            return
        with self._cond:
            self._spawning -= 1
            stale = generation != self._generation
            if not stale:
                self._standbys.append(standby)
            self._cond.notify_all()
        if stale:  # the pool was reset meanwhile (new preload, close)
            self._refill()  # this one counted as spawning when the new pool was filled
            self._release(standby, terminate=True)
            self._reap_one(standby, timeout=30)
            return
        self._await_ready(standby)

    def _start_standby(self, preload: tuple[str, ...]) -> _Standby:
        folder = self.settings.home / "jobs" / STANDBY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="standby-", suffix=".log", dir=folder)
        env, cwd = job_environment(self.settings), os.getcwd()
        try:
            proc = subprocess.Popen(
                standby_command(preload), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=fd, env=env, start_new_session=True, cwd=cwd,
            )
        except BaseException:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise
        os.close(fd)
        log = folder / f"standby-{proc.pid}.log"
        os.replace(tmp, log)
        return _Standby(proc=proc, log=log, env=env, cwd=cwd)

    def _await_ready(self, standby: _Standby) -> None:
        """Read the standby's stdout up to its ready line; settle it. If it ended first and
        its job was already handed to it, start that job cold (it was never read)."""
        out = standby.proc.stdout
        assert out is not None
        ready = False
        with contextlib.suppress(OSError, ValueError):
            for raw in out:  # a preload module may print; skip such lines
                if raw.strip() == READY_LINE.encode():
                    ready = True
                    break
        with contextlib.suppress(OSError):
            out.close()
        rescue: str | None = None
        failed = False
        with self._cond:
            standby.ready, standby.settled = ready, True
            if not ready:
                if standby in self._standbys:  # ended without a job: a failed start
                    self._standbys.remove(standby)
                    self._retired.append(standby)
                    failed = True
                elif standby.job is not None and standby.sent and not standby.rescued:
                    standby.rescued = True
                    rescue = standby.job
            self._cond.notify_all()
        if failed:
            with contextlib.suppress(subprocess.TimeoutExpired):
                standby.proc.wait(timeout=10)
            with self._cond:
                self._failure = (f"exit code {standby.proc.returncode}: "
                                 f"{_log_tail(standby.log) or 'no output'} "
                                 f"(log {standby.log})")
                self._cond.notify_all()
        if rescue is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                standby.proc.wait(timeout=10)  # nothing else tracks it any more
            try:
                self._register(rescue, self._start_cold(rescue))
            except (OSError, MlyardError) as exc:
                with contextlib.suppress(MlyardError):
                    self.store.transition_job(rescue, JobStatus.FAILED,
                                              expected=[JobStatus.PENDING],
                                              failure_reason=f"could not launch: {exc}")

    def _retire_locked(self, standbys: Sequence[_Standby]) -> None:
        """Release standbys that will not get a job (caller holds the lock)."""
        for standby in standbys:
            self._release(standby, terminate=False)
            self._retired.append(standby)

    @staticmethod
    def _release(standby: _Standby, *, terminate: bool) -> None:
        """Close the standby's stdin (it exits on end of input); ``terminate`` also sends
        SIGTERM, for one still importing (it has not read a job name, so none is lost)."""
        if standby.proc.stdin is not None:
            with contextlib.suppress(OSError, ValueError):
                standby.proc.stdin.close()
        if terminate and standby.job is None:
            with contextlib.suppress(OSError):
                standby.proc.terminate()

    def _reap(self) -> None:
        """Forget released standbys that have exited."""
        with self._cond:
            done = [s for s in self._retired if s.proc.poll() is not None]
            self._retired = [s for s in self._retired if s not in done]
        for standby in done:
            _unlink_if_empty(standby.log)

    @staticmethod
    def _reap_one(standby: _Standby, timeout: float) -> None:
        try:
            standby.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            standby.proc.kill()
            standby.proc.wait()
        _unlink_if_empty(standby.log)
