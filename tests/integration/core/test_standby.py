"""Warm standby job processes of the local executor (``mlyard job standby``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlyard.core.executors import LocalProcessExecutor
from mlyard.core.executors import local as local_executor
from mlyard.core.executors.base import job_environment, pid_alive
from mlyard.core.jobs import stop_job, submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import WorkspaceError
from mlyard.processing.spec import ProcessingJobSpec
from mlyard.testing.executors import ExecutorConformance
from mlyard.training.spec import TrainingJobSpec

PRELOAD = "mlyard.algorithms.blazingtext.algorithm"


def _local(ws: Workspace) -> LocalProcessExecutor:
    executor = ws.executor
    assert isinstance(executor, LocalProcessExecutor)
    return executor


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def warm_ws(ws: Workspace) -> Iterator[Workspace]:
    """The conftest workspace with one standby ready (released when the workspace closes)."""
    _local(ws).warm(1)
    assert len(_local(ws).standby_pids()) == 1
    yield ws


class TestStandbyExecutor(ExecutorConformance):
    """The executor conformance suite, every job handed to a warm standby."""

    @pytest.fixture
    def ws(self, warm_ws: Workspace) -> Iterator[Workspace]:
        standbys = set(_local(warm_ws).standby_pids())
        yield warm_ws
        jobs = warm_ws.store.list_jobs()
        assert jobs and all(rec.pid in standbys for rec in jobs), "a job started cold"


def test_submit_to_standby_is_fast(ws: Workspace, tmp_path: Path) -> None:
    """Jobs submitted one after another, each as soon as the previous finished, start on
    standbys that were ready, within a small fraction of a cold start."""
    executor = _local(ws)
    executor.warm(1, preload=[PRELOAD])
    script = _script(tmp_path, "quick.py", "print('quick', flush=True)\n")
    latencies = []
    for i in range(5):
        # the standby that replaces the previous one must be ready before we time a submit:
        # these jobs end faster than a Python process starts (a tuning trial takes longer)
        executor.warm(1, preload=[PRELOAD])
        standbys = executor.standby_pids()
        submitted = time.time()
        submit_job(ws, ProcessingJobSpec(entry_point=script), f"quick-{i}")
        rec = wait_for_job(ws, f"quick-{i}", timeout=120, poll=0.01)
        assert rec.status is JobStatus.COMPLETED and rec.started_at is not None
        assert rec.pid in standbys, "the job did not run on a standby"
        latencies.append(rec.started_at - submitted)
    print("submit -> started_at on a ready standby (ms):",
          [round(1000 * x, 1) for x in latencies])
    assert all(x < 0.5 for x in latencies), latencies


def test_standby_exits_when_the_pipe_closes(ws: Workspace) -> None:
    """A standby given no job (its stdin closed) exits 0 and creates no job folder."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlyard", "job", "standby"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, env=job_environment(ws.settings), start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == b"ready"
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()
    assert ws.store.list_jobs() == []
    assert not (ws.settings.home / "jobs").exists()


def test_standby_runs_a_job_handed_over_by_a_launcher_that_died(ws: Workspace,
                                                                tmp_path: Path) -> None:
    """A launcher may hand a job to a standby that is still starting and then die (a killed
    pipeline driver): the standby's ``ready`` line then meets a closed pipe, and it must
    still run the job it was handed, not drop it."""
    out = tmp_path / "ran.txt"
    spec = ProcessingJobSpec(command=[sys.executable, "-c",
                                      f"open({str(out)!r}, 'w').write('ok')"])
    submit_job(ws, spec, "handed-1", launch=False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlyard", "job", "standby"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, env=job_environment(ws.settings), start_new_session=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdin.write(b"handed-1\n")
    proc.stdin.close()
    proc.stdout.close()  # the launcher is gone before the standby is ready
    assert proc.wait(timeout=120) == 0
    record = wait_for_job(ws, "handed-1", timeout=60)
    assert record.status is JobStatus.COMPLETED
    assert out.read_text() == "ok"


def test_standbys_exit_when_their_parent_dies(ws: Workspace, tmp_path: Path) -> None:
    """A killed driver leaves no standby behind: each reads end of input and exits."""
    driver = _script(tmp_path, "driver.py", """
        import sys, time
        from mlyard.config import Settings
        from mlyard.core.workspace import Workspace
        ws = Workspace(Settings.from_env())
        ws.executor.warm(2)
        print(" ".join(map(str, ws.executor.standby_pids())), flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, driver], stdout=subprocess.PIPE,
                            env=job_environment(ws.settings))
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(pid_alive(p) for p in pids)
    proc.kill()
    proc.wait(timeout=30)
    proc.stdout.close()
    assert all(_wait_gone(p, timeout=30) for p in pids), "a standby outlived its parent"


def test_close_releases_standbys(ws: Workspace) -> None:
    executor = _local(ws)
    executor.warm(2)
    pids = executor.standby_pids()
    executor.close()
    assert executor.standby_pids() == []
    assert not any(pid_alive(p) for p in pids)
    assert list((ws.settings.home / "jobs" / ".standby").iterdir()) == []  # empty logs removed


def test_warm_with_another_preload_replaces_standbys(warm_ws: Workspace) -> None:
    executor = _local(warm_ws)
    old = executor.standby_pids()
    executor.warm(1, preload=[PRELOAD])
    new = executor.standby_pids()
    assert len(new) == 1 and new != old
    assert _wait_gone(old[0], timeout=30)
    executor.warm(1, preload=[PRELOAD])  # same settings: the ready one is kept
    assert executor.standby_pids() == new


def test_stop_and_kill_a_standby_job(warm_ws: Workspace, tmp_path: Path) -> None:
    """Stop (SIGTERM/stop request) and kill (SIGKILL to the process group) reach a job that
    runs on a standby."""
    ws, executor = warm_ws, _local(warm_ws)
    script = _script(tmp_path, "sleepy.py", """
        import os, pathlib, sys, time
        pathlib.Path(sys.argv[1]).write_text(str(os.getpid()))
        print("started", flush=True)
        time.sleep(120)
    """)
    for name, grace in (("stop-me", 30.0), ("kill-me", 0.0)):
        executor.warm(1)
        standbys = executor.standby_pids()
        script_pid = tmp_path / f"{name}.pid"
        submit_job(ws, ProcessingJobSpec(entry_point=script, arguments=[str(script_pid)]),
                   name)
        deadline = time.monotonic() + 60
        while not any("started" in x.line for x in ws.store.get_logs(name)):
            assert time.monotonic() < deadline, "job never started"
            time.sleep(0.1)
        rec = ws.store.get_job(name)
        assert rec.pid in standbys and rec.status is JobStatus.IN_PROGRESS
        rec = stop_job(ws, name, grace=grace)
        assert rec.status is JobStatus.STOPPED
        if grace == 0.0:
            assert "killed" in (rec.failure_reason or "")
        deadline = time.monotonic() + 30
        while executor.is_running(rec) is not False:
            assert time.monotonic() < deadline, "the standby job process did not end"
            time.sleep(0.05)
        # the script runs in a process group of its own; stop and kill must end it too
        pid = int(script_pid.read_text())
        deadline = time.monotonic() + 15
        while pid_alive(pid):
            assert time.monotonic() < deadline, f"the job's script (pid {pid}) outlived {name}"
            time.sleep(0.05)


def test_standby_job_that_dies_is_marked_failed(warm_ws: Workspace, tmp_path: Path) -> None:
    script = _script(tmp_path, "suicide.py", """
        import os, signal, time
        print("hi", flush=True)
        time.sleep(1)
        os.kill(os.getppid(), signal.SIGKILL)  # the job runner (the standby) dies
    """)
    standbys = _local(warm_ws).standby_pids()
    submit_job(warm_ws, TrainingJobSpec(entry_point=script), "killed")
    rec = wait_for_job(warm_ws, "killed", timeout=60, raise_on_failure=False)
    assert rec.pid in standbys
    assert rec.status is JobStatus.FAILED
    assert "without reporting" in (rec.failure_reason or "")


def test_launcher_log_and_environment(warm_ws: Workspace, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A standby job's output goes to its launcher.log; a standby started with another
    environment than the job would get is not used."""
    ws, executor = warm_ws, _local(warm_ws)
    script = _script(tmp_path, "env.py", """
        import os
        print("flavour=" + os.environ.get("MLYARD_TEST_FLAVOUR", "none"))
    """)
    standbys = executor.standby_pids()
    submit_job(ws, ProcessingJobSpec(entry_point=script), "env-1")
    rec = wait_for_job(ws, "env-1", timeout=120)
    assert rec.pid in standbys
    launcher = (ws.job_dir("env-1") / "launcher.log").read_text()
    assert "job env-1 Completed" in launcher
    assert any("flavour=none" in x.line for x in ws.store.get_logs("env-1"))

    executor.warm(1)
    stale = executor.standby_pids()
    monkeypatch.setenv("MLYARD_TEST_FLAVOUR", "salty")
    submit_job(ws, ProcessingJobSpec(entry_point=script), "env-2")
    rec = wait_for_job(ws, "env-2", timeout=120)
    assert rec.pid not in stale
    assert any("flavour=salty" in x.line for x in ws.store.get_logs("env-2"))
    assert _wait_gone(stale[0], timeout=30)


def test_bad_preload_fails_warm_and_jobs_start_cold(ws: Workspace, tmp_path: Path) -> None:
    executor = _local(ws)
    with pytest.raises(WorkspaceError, match="no_such_module_xyz"):
        executor.warm(1, preload=["no_such_module_xyz"])
    assert executor.standby_pids() == []
    script = _script(tmp_path, "ok.py", "print('ok')\n")
    submit_job(ws, ProcessingJobSpec(entry_point=script), "cold-after")
    assert wait_for_job(ws, "cold-after", timeout=120).status is JobStatus.COMPLETED


def test_job_handed_to_a_standby_that_dies_starting_runs_cold(
        warm_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job given to a standby that was still starting, and then ended before it could
    read the job name, is started cold instead."""
    ws, executor = warm_ws, _local(warm_ws)
    dying = [sys.executable, "-c", "import time; time.sleep(1.0); raise SystemExit(3)"]
    monkeypatch.setattr(local_executor, "standby_command", lambda preload=(): dying)
    script = _script(tmp_path, "ok.py", "print('ok')\n")
    submit_job(ws, ProcessingJobSpec(entry_point=script), "on-ready")  # replaced by `dying`
    deadline = time.monotonic() + 30
    while not executor.standby_pids():  # the replacement is being started
        assert time.monotonic() < deadline
        time.sleep(0.01)
    doomed = executor.standby_pids()
    submit_job(ws, ProcessingJobSpec(entry_point=script), "rescued")
    rec = wait_for_job(ws, "rescued", timeout=120)
    assert rec.status is JobStatus.COMPLETED and rec.pid not in doomed
    assert wait_for_job(ws, "on-ready", timeout=120).status is JobStatus.COMPLETED
    deadline = time.monotonic() + 30
    while Path(f"/proc/{doomed[0]}").exists():  # the dead standby was reaped
        assert time.monotonic() < deadline, "the dead standby was not reaped"
        time.sleep(0.05)
