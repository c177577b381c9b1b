"""Conformance suite for :class:`mlyard.core.executors.Executor` implementations.

Each test submits a real processing job (a tiny script) through the executor under test
and checks it reaches the right terminal status through the shared job runner.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from mlyard.core.jobs import stop_job, submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError
from mlyard.processing.spec import ProcessingJobSpec, ProcessingOutput


class ExecutorConformance:
    """Subclass and define a ``ws`` fixture: a workspace whose executor is under test."""

    @pytest.fixture
    def ws(self) -> Workspace:  # pragma: no cover - overridden
        raise pytest.UsageError("define a `ws` fixture")

    @staticmethod
    def _script(tmp_path: Path, body: str) -> str:
        path = tmp_path / "script.py"
        path.write_text(textwrap.dedent(body))
        return str(path)

    def test_completes_with_output(self, ws: Workspace, tmp_path: Path) -> None:
        script = self._script(tmp_path, """
            import sys, pathlib
            out = pathlib.Path(sys.argv[1])
            (out / "result.txt").write_text("done")
            print("score: 0.75")
        """)
        spec = ProcessingJobSpec(entry_point=script, arguments=["{output:result}"],
                                 outputs=[ProcessingOutput(name="result")],
                                 metric_definitions=[{"name": "score",  # type: ignore[list-item]
                                                      "regex": r"score: (\S+)"}])
        submit_job(ws, spec, "exec-ok")
        rec = wait_for_job(ws, "exec-ok", timeout=120)
        assert rec.status is JobStatus.COMPLETED
        local = ws.artifacts.local_path(rec.outputs["result"])
        assert local is not None and (local / "result.txt").read_text() == "done"
        assert [p.value for p in ws.store.get_metrics("exec-ok", "score")] == [0.75]
        assert any("score: 0.75" in x.line for x in ws.store.get_logs("exec-ok"))

    def test_failure_is_reported(self, ws: Workspace, tmp_path: Path) -> None:
        script = self._script(tmp_path, "raise SystemExit('bad input: column x missing')\n")
        submit_job(ws, ProcessingJobSpec(entry_point=script), "exec-fail")
        with pytest.raises(JobFailedError, match="column x missing"):
            wait_for_job(ws, "exec-fail", timeout=120)
        rec = ws.store.get_job("exec-fail")
        assert rec.status is JobStatus.FAILED and "column x missing" in (rec.failure_reason or "")

    def test_stop(self, ws: Workspace, tmp_path: Path) -> None:
        script = self._script(tmp_path, """
            import time
            print("started", flush=True)
            time.sleep(120)
        """)
        submit_job(ws, ProcessingJobSpec(entry_point=script), "exec-stop")
        deadline = time.monotonic() + 60
        while not any("started" in x.line for x in ws.store.get_logs("exec-stop")):
            assert time.monotonic() < deadline, "job never started"
            time.sleep(0.2)
        rec = stop_job(ws, "exec-stop", grace=30)
        assert rec.status is JobStatus.STOPPED
