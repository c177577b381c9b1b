"""Analysis jobs in real job processes: an analyzer from a package (a throwaway
distribution whose ``mlyard.analyzers`` entry point names the tests' ``rowcount``
analyzer) runs through the local executor; success stores the files and an index row, a
failure leaves neither and records why, bad input makes no job; ``mlyard analyses`` lists
and describes the index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlyard.analysis.base import available_analyzers
from mlyard.analysis.kind import AnalysisJobSpec
from mlyard.analysis.store import AnalysisStore
from mlyard.core.jobs import submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError, NotFoundError, ValidationError

ROWCOUNT_SOURCE = Path(__file__).resolve().parents[2] / "unit" / "analysis" / "rowcount.py"


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / "example_rowcount").mkdir()
    (site / "example_rowcount" / "__init__.py").write_text(ROWCOUNT_SOURCE.read_text())
    info = site / "example_rowcount-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: example-rowcount\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[mlyard.analyzers]\nrowcount = example_rowcount:RowCountAnalyzer\n")
    return site


@pytest.fixture
def plugin(plugin_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(plugin_site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (str(plugin_site), os.environ.get("PYTHONPATH", "")) if p))
    return plugin_site


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "cat": ["x", "y", "x"]}).to_csv(path, index=False)
    return path


def _cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlyard", "--home", str(ws.settings.home),
                           *args], capture_output=True, text=True, timeout=120)


def test_analysis_job_in_its_own_process(ws: Workspace, plugin: Path, data: Path,
                                         tmp_path: Path) -> None:
    assert available_analyzers()["rowcount"] == "example_rowcount:RowCountAnalyzer"
    dest = tmp_path / "out"
    spec = AnalysisJobSpec(analysis="rowcount", config={"column": "cat"},
                           inputs={"data": str(data)}, output=str(dest))
    submit_job(ws, spec, "count-1")
    record = wait_for_job(ws, "count-1", timeout=120)
    assert record.status is JobStatus.COMPLETED
    assert json.loads((dest / "counts.json").read_text())["data"]["by"] == {"x": 2, "y": 1}
    assert AnalysisStore.of(ws.store).get_analysis("count-1").summary == \
        {"inputs": 1, "rows": 3}
    listed = _cli(ws, "analyses", "list")
    assert listed.returncode == 0 and "count-1" in listed.stdout and "rowcount" in listed.stdout
    described = _cli(ws, "analyses", "describe", "count-1", "--json")
    assert json.loads(described.stdout)["Summary"] == {"inputs": 1, "rows": 3}
    jobs = _cli(ws, "jobs", "describe", "count-1")
    assert json.loads(jobs.stdout)["AnalysisType"] == "rowcount"
    unknown = _cli(ws, "analyses", "describe", "nope")
    assert unknown.returncode == 2 and "error: no analysis of job 'nope'" in unknown.stderr


def test_failed_analysis_job_leaves_nothing(ws: Workspace, plugin: Path, data: Path,
                                            tmp_path: Path) -> None:
    dest = tmp_path / "never"
    spec = AnalysisJobSpec(analysis="rowcount", config={"fail_after_writing": True},
                           inputs={"data": str(data)}, output=str(dest))
    submit_job(ws, spec, "count-fail")
    with pytest.raises(JobFailedError, match="DataError: rowcount: asked to fail"):
        wait_for_job(ws, "count-fail", timeout=120)
    assert not dest.exists() and ws.store.get_job("count-fail").outputs == {}
    with pytest.raises(NotFoundError):
        AnalysisStore.of(ws.store).get_analysis("count-fail")
    lines = [line.line for line in ws.store.get_logs("count-fail")]
    assert any("asked to fail" in line for line in lines)
    assert not any("Traceback" in line for line in lines), lines


def test_bad_input_makes_no_job(ws: Workspace, plugin: Path, data: Path) -> None:
    with pytest.raises(ValidationError, match="column 'nope' not in input 'data'"):
        submit_job(ws, AnalysisJobSpec(analysis="rowcount", config={"column": "nope"},
                                       inputs={"data": str(data)}), "count-bad")
    bad = _cli(ws, "profile", "--data", str(data), "--table", "t", "--output", "x")
    assert bad.returncode == 2 and "give exactly one of --data PATH or --table NAME" in \
        bad.stderr
    flow = _cli(ws, "flow", "run", str(data), "--input", "raw", "--output", "o")
    assert flow.returncode == 2 and "--input 'raw': write NAME=PATH" in flow.stderr
    assert ws.store.list_jobs() == []
