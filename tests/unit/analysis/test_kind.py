"""The ``analysis`` job kind over a small real analyzer (``rowcount``): the spec, checks
before a job is created, a run that stores its files and an index row, a failing run that
leaves neither, file destinations, and the analyses' store domain on SQLite and
PostgreSQL. Jobs run in this process (``run_job``); the integration tests run them in job
processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from mlyard.analysis import base
from mlyard.analysis.base import get_analyzer
from mlyard.analysis.kind import AnalysisJobSpec, AnalysisKind
from mlyard.analysis.store import AnalysisStore
from mlyard.core.jobs import describe_job, submit_job
from mlyard.core.kinds import get_job_kind, spec_from_dict
from mlyard.core.records import JobStatus
from mlyard.core.runner import run_job
from mlyard.core.stores import SqlAlchemyStore
from mlyard.core.workspace import Workspace
from mlyard.data.catalog import Catalog
from mlyard.errors import DataError, NotFoundError, ValidationError
from mlyard.testing.analysis_store import AnalysisStoreConformance
from mlyard.testing.models import save_test_model

ROWCOUNT = "tests.unit.analysis.rowcount:RowCountAnalyzer"


@pytest.fixture(autouse=True)
def rowcount(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(base.ANALYZERS, "rowcount", ROWCOUNT)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": ["<b>a</b>", "b", "c", "d"], "cat": ["x", "y", "x", "x"]}
                 ).to_csv(path, index=False)
    return path


def _spec(**fields: object) -> AnalysisJobSpec:
    return AnalysisJobSpec(**{"analysis": "rowcount", **fields})  # type: ignore[arg-type]


def _run(ws: Workspace, spec: AnalysisJobSpec, name: str) -> JobStatus:
    submit_job(ws, spec, name, launch=False)
    return run_job(ws, name)


def test_spec_round_trips_and_names_bad_inputs() -> None:
    spec = _spec(config={"column": "cat"}, inputs={"data": "/x.csv"}, output="out/")
    assert spec_from_dict(spec.model_dump(mode="json")) == spec
    assert AnalysisJobSpec.model_validate(spec.to_sagemaker()) == spec
    assert get_job_kind("analysis").spec_type is AnalysisJobSpec
    with pytest.raises(ValueError, match="invalid input name 'a b'"):
        _spec(inputs={"a b": "/x.csv"})
    with pytest.raises(ValueError, match="empty location"):
        _spec(inputs={"data": " "})


def test_success_stores_the_folder_and_an_index_row(ws: Workspace, data: Path) -> None:
    spec = _spec(config={"column": "cat"}, inputs={"data": str(data)})
    assert _run(ws, spec, "rc-1") is JobStatus.COMPLETED
    record = ws.store.get_job("rc-1")
    out = ws.artifacts.local_path(record.outputs["output"])
    assert out is not None
    assert json.loads((out / "counts.json").read_text()) == \
        {"data": {"rows": 4, "by": {"x": 3, "y": 1}}}
    assert json.loads((out / "summary.json").read_text()) == {"inputs": 1, "rows": 4}
    assert "&lt;b&gt;a&lt;/b&gt;" in (out / "report.html").read_text()
    row = AnalysisStore.of(ws.store).get_analysis("rc-1")
    assert (row.analysis, row.output_uri, row.summary) == \
        ("rowcount", record.outputs["output"], {"inputs": 1, "rows": 4})
    assert row.inputs == {"data": str(data)} and row.model_name is None
    desc = describe_job(ws, "rc-1")
    assert desc["AnalysisType"] == "rowcount" and desc["AnalysisSummary"]["rows"] == 4
    assert any("counting data" in line.line for line in ws.store.get_logs("rc-1"))


def test_output_folder_table_input_and_a_second_input(ws: Workspace, data: Path,
                                                      tmp_path: Path) -> None:
    Catalog(ws).register_table("small", str(data))
    dest = tmp_path / "report"
    spec = _spec(config={"inputs": ["data", "other"]},
                 inputs={"data": "table:small", "other": data.as_uri()}, output=str(dest))
    assert _run(ws, spec, "rc-2") is JobStatus.COMPLETED
    assert ws.store.get_job("rc-2").outputs["output"] == dest.resolve().as_uri()
    assert json.loads((dest / "counts.json").read_text()) == \
        {"data": {"rows": 4}, "other": {"rows": 4}}
    # the same folder again (it holds a previous analysis): replaced
    assert _run(ws, spec, "rc-3") is JobStatus.COMPLETED
    # a folder holding anything else is refused before a job exists
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    with pytest.raises(ValidationError, match="exists and is not empty"):
        submit_job(ws, _spec(inputs={"data": str(data)}, output=str(tmp_path / "mine")), "rc-4")
    assert (tmp_path / "mine" / "keep.txt").read_text() == "x"


def test_file_destination_gets_the_single_data_file(ws: Workspace, data: Path,
                                                    tmp_path: Path) -> None:
    dest = tmp_path / "sub" / "copy.csv"
    spec = _spec(config={"single_file": "copy.csv"}, inputs={"data": str(data)},
                 output=str(dest))
    assert _run(ws, spec, "rc-file") is JobStatus.COMPLETED
    assert pd.read_csv(dest).equals(pd.read_csv(data))
    assert AnalysisStore.of(ws.store).get_analysis("rc-file").output_uri == dest.as_uri()
    wrong = _spec(config={"single_file": "copy.csv"}, inputs={"data": str(data)},
                  output=str(tmp_path / "copy.parquet"))
    assert _run(ws, wrong, "rc-suffix") is JobStatus.FAILED
    assert "wrote a .csv file" in (ws.store.get_job("rc-suffix").failure_reason or "")
    assert not (tmp_path / "copy.parquet").exists()


def test_failure_leaves_nothing_and_records_why(ws: Workspace, data: Path,
                                                tmp_path: Path) -> None:
    dest = tmp_path / "never"
    spec = _spec(config={"fail_after_writing": True}, inputs={"data": str(data)},
                 output=str(dest))
    assert _run(ws, spec, "rc-fail") is JobStatus.FAILED
    record = ws.store.get_job("rc-fail")
    assert record.failure_reason == "DataError: rowcount: asked to fail after writing " \
                                    "counts.json"
    assert record.outputs == {} and not dest.exists()
    with pytest.raises(NotFoundError):
        AnalysisStore.of(ws.store).get_analysis("rc-fail")
    assert AnalysisStore.of(ws.store).list_analyses() == []
    assert not ws.artifacts.exists(ws.artifacts.uri("jobs", "rc-fail", "output"))
    assert "AnalysisSummary" not in describe_job(ws, "rc-fail")


def test_failed_indexing_removes_the_stored_files(ws: Workspace, data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = AnalysisStore.of(ws.store)

    def refuse(record: object) -> None:
        raise DataError("index refused")

    monkeypatch.setattr(store, "put_analysis", refuse)
    dest = tmp_path / "gone"
    assert _run(ws, _spec(inputs={"data": str(data)}, output=str(dest)), "rc-idx") is \
        JobStatus.FAILED
    assert not dest.exists()


@pytest.mark.parametrize(("fields", "message"), [
    ({"analysis": "nope"}, "unknown analysis 'nope'; known: "),
    ({"config": {"colum": "x"}}, "invalid rowcount configuration: colum: Extra inputs"),
    ({"config": {"column": "missing"}}, "column 'missing' not in input 'data'"),
    ({"inputs": {}}, r"input\(s\) \['data'\] missing"),
    ({"inputs": {"data": "DATA", "more": "DATA"}}, r"unknown input\(s\) \['more'\]"),
    ({"inputs": {"data": "/no/such.csv"}}, "/no/such.csv does not exist"),
    ({"inputs": {"data": "table:nosuch"}}, "nosuch"),
    ({"config": {"use_model": True}}, "needs a model"),
    ({"model_name": "no-model"}, "no-model"),
])
def test_bad_input_is_refused_before_a_job_exists(ws: Workspace, data: Path,
                                                   fields: dict[str, object],
                                                   message: str) -> None:
    given = {"inputs": {"data": str(data)}, **fields}
    given["inputs"] = {k: str(data) if v == "DATA" else v
                       for k, v in given["inputs"].items()}  # type: ignore[union-attr]
    with pytest.raises((ValidationError, NotFoundError, DataError), match=message):
        submit_job(ws, _spec(**given), "rc-bad")
    assert ws.store.list_jobs() == []


def test_empty_file_is_refused(ws: Workspace, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="is empty"):
        submit_job(ws, _spec(inputs={"data": str(empty)}), "rc-empty")
    assert ws.store.list_jobs() == []


def test_a_model_is_loaded_where_the_analysis_needs_one(ws: Workspace, data: Path,
                                                        tmp_path: Path) -> None:
    model_dir = save_test_model(tmp_path / "echo", "echo")
    ws.store.create_model("echo-1", ws.artifacts.upload(
        model_dir, ws.artifacts.uri("models", "echo-1")), "test")
    spec = _spec(config={"use_model": True}, inputs={"data": str(data)}, model_name="echo-1")
    assert _run(ws, spec, "rc-model") is JobStatus.COMPLETED
    out = ws.artifacts.local_path(ws.store.get_job("rc-model").outputs["output"])
    assert out is not None
    assert json.loads((out / "counts.json").read_text())["predicted"] == [["echo"]] * 3
    assert AnalysisStore.of(ws.store).get_analysis("rc-model").model_name == "echo-1"


def test_analyzers_and_preload() -> None:
    assert type(get_analyzer("rowcount")).__name__ == "RowCountAnalyzer"
    with pytest.raises(ValidationError, match=r"known: .*'bias'.*'rowcount'"):
        get_analyzer("robot")
    preload = AnalysisKind().preload(_spec())
    assert "tests.unit.analysis.rowcount" in preload


class TestAnalysisStore(AnalysisStoreConformance):
    @pytest.fixture
    def store(self, sql_store_url: str) -> Iterator[SqlAlchemyStore]:
        store = SqlAlchemyStore(sql_store_url)
        yield store
        store.close()
