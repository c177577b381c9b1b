"""A job kind from outside mlyard, found through the ``mlyard.job_kinds`` entry-point group,
validated, run in a real job process by the local executor, described and listed, with no
file of ``core/`` knowing it.

The kind lives in a throwaway distribution (a module plus a ``.dist-info`` folder with its
entry point) on ``PYTHONPATH``, as a package installed with pip would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlyard.core.jobs import describe_job, submit_job, wait_for_job
from mlyard.core.kinds import available_job_kinds, get_job_kind, spec_from_dict
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, ValidationError

KIND_MODULE = '''
"""An example job kind: writes a message N times into an output file."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mlyard.core.kinds import JobKind
from mlyard.core.specs import JobSpec
from mlyard.errors import ValidationError


class EchoJobSpec(JobSpec):
    kind: Literal["echo"] = "echo"
    message: str
    repeat: int = Field(default=1, ge=1, le=1000)


class EchoKind(JobKind[EchoJobSpec]):
    name = "echo"
    spec_type = EchoJobSpec

    def validate(self, ws, spec):
        if "forbidden" in spec.message:
            raise ValidationError("echo: the message may not say 'forbidden'")

    def run(self, ctx):
        ctx.log.write(f"echo: writing {ctx.spec.repeat} line(s)")
        if ctx.spec.message == "fail":
            raise RuntimeError("asked to fail")
        out = ctx.staging / "echo"
        out.mkdir(parents=True)
        (out / "echo.txt").write_text((ctx.spec.message + "\\n") * ctx.spec.repeat)
        print(f"lines={ctx.spec.repeat}")
        return {"output": ctx.store_output(out, "output")}

    def describe(self, ws, record, final_metrics):
        return {"EchoMessage": record.spec["message"]}

    def preload(self, spec):
        return ["json"]
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the ``example_echo_kind`` distribution (module + dist-info)."""
    site = tmp_path_factory.mktemp("site")
    (site / "example_echo_kind").mkdir(parents=True)
    (site / "example_echo_kind" / "__init__.py").write_text(KIND_MODULE)
    info = site / "example_echo_kind-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: example-echo-kind\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mlyard.job_kinds]\necho = example_echo_kind:EchoKind\n")
    return site


@pytest.fixture
def plugin_path(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The distribution on ``sys.path`` and on the job processes' ``PYTHONPATH``."""
    monkeypatch.syspath_prepend(str(plugin_site))
    # kept after it: the mlyard under test (a checkout on PYTHONPATH) must run the jobs
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(plugin_site), os.environ.get("PYTHONPATH", "")) if p))
    return plugin_site


def _spec(**fields: object) -> object:
    from example_echo_kind import EchoJobSpec  # type: ignore[import-not-found]

    return EchoJobSpec(**fields)


def test_entry_point_kind_runs_as_a_job(ws: Workspace, plugin_path: Path) -> None:
    assert available_job_kinds()["echo"] == "example_echo_kind:EchoKind"
    spec = _spec(message="hello", repeat=3)
    submit_job(ws, spec, "echo-1")  # type: ignore[arg-type]
    record = wait_for_job(ws, "echo-1", timeout=120)
    assert record.status is JobStatus.COMPLETED and record.job_type == "echo"
    out = ws.artifacts.local_path(record.outputs["output"])
    assert out is not None and (out / "echo.txt").read_text() == "hello\n" * 3
    desc = describe_job(ws, "echo-1")
    assert desc["JobType"] == "echo" and desc["EchoMessage"] == "hello"
    assert any("echo: writing 3 line(s)" in line.line for line in ws.store.get_logs("echo-1"))
    assert spec_from_dict(record.spec) == spec
    assert list(get_job_kind("echo").preload(spec)) == ["json"]


def test_entry_point_kind_validation_and_failure(ws: Workspace, plugin_path: Path) -> None:
    with pytest.raises(ValidationError, match="may not say 'forbidden'"):
        submit_job(ws, _spec(message="forbidden"), "echo-bad")  # type: ignore[arg-type]
    assert ws.store.list_jobs() == []  # refused before any job was created
    submit_job(ws, _spec(message="fail"), "echo-fail")  # type: ignore[arg-type]
    with pytest.raises(JobFailedError, match="RuntimeError: asked to fail"):
        wait_for_job(ws, "echo-fail", timeout=120)
    assert ws.store.get_job("echo-fail").outputs == {}
    # the job log (what users follow) has the reason, not mlyard's traceback; the
    # traceback is in the job's debug log, which the log names for an unexpected error
    lines = [line.line for line in ws.store.get_logs("echo-fail")]
    assert not any("Traceback" in line or 'File "' in line for line in lines), lines
    debug = ws.job_dir("echo-fail") / "debug.log"
    assert any(f"its traceback is in {debug}" in line for line in lines), lines
    assert "RuntimeError: asked to fail" in debug.read_text()
    assert "Traceback (most recent call last):" in debug.read_text()


def test_cli_lists_jobs_of_a_plugin_kind(ws: Workspace, plugin_path: Path) -> None:
    submit_job(ws, _spec(message="cli"), "echo-cli")  # type: ignore[arg-type]
    wait_for_job(ws, "echo-cli", timeout=120)
    home = str(ws.settings.home)
    listed = subprocess.run([sys.executable, "-m", "mlyard", "--home", home, "jobs", "list",
                             "--type", "echo"], capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "echo-cli" in listed.stdout and "Completed" in listed.stdout
    described = subprocess.run([sys.executable, "-m", "mlyard", "--home", home, "jobs",
                                "describe", "echo-cli"], capture_output=True, text=True,
                               timeout=120)
    assert json.loads(described.stdout)["EchoMessage"] == "cli"
    unknown = subprocess.run([sys.executable, "-m", "mlyard", "--home", home, "jobs", "list",
                              "--type", "nope"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode != 0 and "unknown job kind 'nope'" in unknown.stderr
    assert "echo" in unknown.stderr

