"""``mlyard jobs ...`` state handling: a list that reconciles jobs whose process died, ``jobs
stop`` on a finished job, and Ctrl-C while a command waits for a job (the job goes on)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner

import mlyard.core.jobs as core_jobs
from mlyard.cli import commands_jobs, commands_tuning
from mlyard.cli.main import main
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def _job(
    ws: Workspace, name: str, status: JobStatus, *, dead: bool = False, job_type: str = "training"
) -> None:
    ws.store.create_job(name, job_type, {})
    if status is JobStatus.PENDING:
        return
    ws.store.transition_job(name, JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
    if dead:
        ws.store.set_job_process(name, executor="local", pid=_dead_pid(), host=socket.gethostname())
    if status is not JobStatus.IN_PROGRESS:
        ws.store.transition_job(name, status, expected=[JobStatus.IN_PROGRESS])


@dataclass
class Result:
    exit_code: int
    output: str


def _run(*args: str) -> Result:
    """Run ``mlyard ARGS`` as the console script does (errors mapped by ``main``)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return Result(code, out.getvalue().decode() + err.getvalue().decode())


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core_jobs, "ORPHAN_GRACE_SECONDS", 0.0)


def test_jobs_list_reconciles_a_job_whose_process_died(ws: Workspace, no_grace: None) -> None:
    _job(ws, "dead-1", JobStatus.IN_PROGRESS, dead=True)
    _job(ws, "done-1", JobStatus.COMPLETED)
    out = _run("jobs", "list", "--json")
    assert out.exit_code == 0, out.output
    rows = {r["JobName"]: r for r in json.loads(out.output)}
    assert rows["dead-1"]["JobStatus"] == "Failed"
    assert "exited without reporting" in rows["dead-1"]["FailureReason"]
    assert rows["done-1"]["JobStatus"] == "Completed"
    # the filter sees the reconciled status
    assert "dead-1" not in _run("jobs", "list", "--status", "InProgress").output
    assert ws.store.get_job("dead-1").status is JobStatus.FAILED


def test_jobs_list_status_filter_sees_reconciled_status(ws: Workspace, no_grace: None) -> None:
    _job(ws, "dead-2", JobStatus.IN_PROGRESS, dead=True)
    out = _run("jobs", "list", "--status", "Failed")
    assert "dead-2" in out.output


def test_tuning_list_reconciles_too(ws: Workspace, no_grace: None) -> None:
    _job(ws, "tune-dead", JobStatus.IN_PROGRESS, dead=True, job_type="tuning")
    out = _run("tuning", "list")
    assert out.exit_code == 0, out.output
    assert "Failed" in out.output and "InProgress" not in out.output


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED])
def test_jobs_stop_on_a_finished_job_says_so_and_fails(ws: Workspace, status: JobStatus) -> None:
    _job(ws, "fin", status)
    out = _run("jobs", "stop", "fin")
    assert out.exit_code != 0
    assert f"job fin already {status.value}; nothing to stop" in out.output
    assert ws.store.get_job("fin").status is status


def test_tuning_stop_on_a_finished_tuning_job_says_so(ws: Workspace) -> None:
    _job(ws, "tfin", JobStatus.COMPLETED, job_type="tuning")
    out = _run("tuning", "stop", "tfin")
    assert out.exit_code != 0
    assert "tuning job tfin already Completed; nothing to stop" in out.output


def test_jobs_stop_on_a_pending_job_stops_it(ws: Workspace) -> None:
    _job(ws, "pend", JobStatus.PENDING)
    out = _run("jobs", "stop", "pend")
    assert out.exit_code == 0, out.output
    assert "job pend Stopped" in out.output


def _interrupt(*_: Any, **__: Any) -> Any:
    raise KeyboardInterrupt


@pytest.mark.parametrize("args", [["jobs", "wait", "j1"], ["jobs", "logs", "j1", "--follow"]])
def test_ctrl_c_while_waiting_says_the_job_goes_on(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _job(ws, "j1", JobStatus.IN_PROGRESS)
    monkeypatch.setattr(commands_jobs, "wait_for_job", _interrupt)
    out = _run(*args)
    assert out.exit_code == 130
    assert "job j1 goes on in the background" in out.output
    assert "mlyard jobs stop j1" in out.output
    assert "Traceback" not in out.output
    assert ws.store.get_job("j1").status is JobStatus.IN_PROGRESS


def test_ctrl_c_on_train_wait_names_the_new_job(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    data = tmp_path / "t.txt"
    data.write_text("__label__a good\n__label__b bad\n")
    monkeypatch.setattr(commands_jobs, "wait_for_job", _interrupt)
    monkeypatch.setattr(type(ws.executor), "submit", lambda self, name: None)
    out = _run("train", "--algorithm", "blazingtext", "--train", str(data), "--name", "bt-x")
    assert out.exit_code == 130
    assert "job bt-x goes on in the background" in out.output
    assert "mlyard jobs stop bt-x" in out.output


def test_ctrl_c_on_tune_wait_names_tuning_stop(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    data = tmp_path / "t.txt"
    data.write_text("__label__a good\n__label__b bad\n")
    monkeypatch.setattr(commands_tuning, "wait_for_job", _interrupt)
    monkeypatch.setattr(type(ws.executor), "submit", lambda self, name: None)
    out = _run(
        "tune",
        "--algorithm",
        "blazingtext",
        "--train",
        str(data),
        "--validation",
        str(data),
        "--objective",
        "validation:accuracy",
        "--range",
        "learning_rate=0.01:0.1",
        "--name",
        "tu-x",
    )
    assert out.exit_code == 130
    assert "tuning job tu-x goes on in the background" in out.output
    assert "mlyard tuning stop tu-x" in out.output
