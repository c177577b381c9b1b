"""Per-domain schema versions: workspaces made before them are adopted in place, domains
added later get their tables, newer databases are refused; the domain registry. (That core
imports no capability package is the layering contract of ``make lint``.)"""

from __future__ import annotations

import json
from abc import abstractmethod
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlyard.config import Settings
from mlyard.core.records import JobStatus, JobType, MetricPoint
from mlyard.core.stores import SqlAlchemyStore, SqlDomain, StoreDomain, registry
from mlyard.core.stores.database import PER_DOMAIN_MARKER
from mlyard.core.stores.jobs_sql import require_job
from mlyard.core.workspace import Workspace
from mlyard.data.store import TableRecord, TableStore
from mlyard.errors import NotFoundError, WorkspaceError
from mlyard.serving.store import EndpointStatus, EndpointStore, ScalingActivity
from mlyard.training.rule_store import RuleEvaluationStatus, RuleStatus, RuleStore
from mlyard.tuning.store import TrialRecord, TrialStore

# -- the schema of the last single-version workspace (schema_info version 4) -------------
# Raw DDL as that code created it; {serial} is INTEGER on SQLite, SERIAL on PostgreSQL.
V1_DDL = """
CREATE TABLE schema_info (id {serial} NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (id));
CREATE TABLE jobs (
    name VARCHAR(64) NOT NULL, job_type VARCHAR(32) NOT NULL, status VARCHAR(32) NOT NULL,
    spec TEXT NOT NULL, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL,
    started_at FLOAT, ended_at FLOAT, failure_reason TEXT, executor VARCHAR(32),
    pid INTEGER, host VARCHAR(255), stop_requested BOOLEAN NOT NULL, output_uri TEXT,
    outputs TEXT NOT NULL, PRIMARY KEY (name));
CREATE INDEX ix_jobs_created_at ON jobs (created_at);
CREATE INDEX ix_jobs_job_type ON jobs (job_type);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE TABLE job_logs (
    id {serial} NOT NULL, job_name VARCHAR(64) NOT NULL, ts FLOAT NOT NULL,
    line TEXT NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_job_logs_job_name ON job_logs (job_name);
CREATE TABLE job_metrics (
    id {serial} NOT NULL, job_name VARCHAR(64) NOT NULL, name VARCHAR(255) NOT NULL,
    value FLOAT NOT NULL, step INTEGER, ts FLOAT NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_job_metrics_job_name ON job_metrics (job_name);
CREATE TABLE models (
    name VARCHAR(64) NOT NULL, uri TEXT NOT NULL, flavor VARCHAR(64) NOT NULL,
    job_name VARCHAR(64), created_at FLOAT NOT NULL, metadata TEXT NOT NULL,
    PRIMARY KEY (name));
CREATE TABLE catalog_tables (
    "database" VARCHAR(128) NOT NULL, name VARCHAR(128) NOT NULL, location TEXT NOT NULL,
    format VARCHAR(32) NOT NULL, options TEXT NOT NULL, description TEXT NOT NULL,
    created_at FLOAT NOT NULL, PRIMARY KEY ("database", name));
"""
V2_DDL = """
CREATE TABLE endpoint_configs (
    name VARCHAR(64) NOT NULL, spec TEXT NOT NULL, created_at FLOAT NOT NULL,
    PRIMARY KEY (name));
CREATE TABLE endpoints (
    name VARCHAR(64) NOT NULL, config_name VARCHAR(64) NOT NULL, status VARCHAR(32) NOT NULL,
    failure_reason TEXT, state TEXT NOT NULL, created_at FLOAT NOT NULL,
    updated_at FLOAT NOT NULL, PRIMARY KEY (name));
CREATE TABLE scaling_activities (
    id {serial} NOT NULL, endpoint VARCHAR(64) NOT NULL, variant VARCHAR(64) NOT NULL,
    ts FLOAT NOT NULL, from_replicas INTEGER NOT NULL, to_replicas INTEGER NOT NULL,
    cause TEXT NOT NULL, status VARCHAR(32) NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_scaling_activities_endpoint ON scaling_activities (endpoint);
"""
V3_DDL = """
CREATE TABLE job_rules (
    job_name VARCHAR(64) NOT NULL, rule_name VARCHAR(128) NOT NULL, kind VARCHAR(32) NOT NULL,
    status VARCHAR(32) NOT NULL, message TEXT NOT NULL, step INTEGER,
    updated_at FLOAT NOT NULL, PRIMARY KEY (job_name, rule_name));
"""
V4_DDL = """
CREATE TABLE tuning_trials (
    tuning_job VARCHAR(64) NOT NULL, number INTEGER NOT NULL, training_job VARCHAR(64) NOT NULL,
    hyperparameters TEXT NOT NULL, status VARCHAR(32) NOT NULL, objective FLOAT,
    intermediate TEXT NOT NULL, started_at FLOAT, ended_at FLOAT, stop_reason TEXT,
    source VARCHAR(128) NOT NULL, PRIMARY KEY (tuning_job, number));
"""
LEGACY_DDL = [V1_DDL, V2_DDL, V3_DDL, V4_DDL]


def make_legacy_workspace(url: str, version: int) -> None:
    """Create the tables of single-version schema ``version`` and fill them like a
    workspace that ran a training job, a tuning job and an endpoint."""
    engine = sa.create_engine(url)
    serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
    with engine.begin() as conn:
        for ddl in LEGACY_DDL[:version]:
            for statement in ddl.format(serial=serial).split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)

        def insert(table: str, **row: Any) -> None:
            conn.execute(sa.text(f"INSERT INTO {table} ({', '.join(row)}) "
                                 f"VALUES ({', '.join(':' + k for k in row)})"), row)

        insert("schema_info", id=1, version=version)
        for name, job_type, status, created in (("j1", "training", "Completed", 1.0),
                                                ("tune", "tuning", "InProgress", 1.1)):
            insert("jobs", name=name, job_type=job_type, status=status,
                   spec=json.dumps({"kind": job_type}), created_at=created, updated_at=2.0,
                   started_at=1.5, ended_at=2.0 if status == "Completed" else None,
                   failure_reason=None, executor="local", pid=42, host="h",
                   stop_requested=False, output_uri="file:///out/j1",
                   outputs=json.dumps({"model": "m1"}))
        insert("job_logs", job_name="j1", ts=1.0, line="epoch 1")
        insert("job_logs", job_name="j1", ts=2.0, line="epoch 2")
        insert("job_metrics", job_name="j1", name="acc", value=0.75, step=2, ts=2.0)
        insert("models", name="m1", uri="file:///out/j1/model", flavor="blazingtext",
               job_name="j1", created_at=2.0, metadata=json.dumps({"acc": 0.75}))
        insert("catalog_tables", **{"database": "db"}, name="t", location="/data/t.csv",
               format="csv", options="{}", description="reviews", created_at=1.0)
        if version >= 2:
            insert("endpoint_configs", name="cfg", spec=json.dumps({"variants": ["A"]}),
                   created_at=1.0)
            insert("endpoints", name="ep", config_name="cfg", status="InService",
                   failure_reason=None, state=json.dumps({"weights": {"A": 1.0}}),
                   created_at=1.0, updated_at=2.0)
            insert("scaling_activities", endpoint="ep", variant="A", ts=1.5, from_replicas=1,
                   to_replicas=2, cause="target tracking", status="Successful")
        if version >= 3:
            insert("job_rules", job_name="j1", rule_name="Overfit", kind="debugger",
                   status="IssuesFound", message="gap 0.4", step=30, updated_at=2.0)
        if version >= 4:
            insert("tuning_trials", tuning_job="tune", number=0, training_job="tune-000",
                   hyperparameters=json.dumps({"lr": 0.1}), status="Completed",
                   objective=0.9, intermediate="[[1, 0.9]]", started_at=1.0, ended_at=2.0,
                   stop_reason=None, source="own")
    engine.dispose()


def schema_info_versions(url: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = [int(v) for (v,) in conn.exec_driver_sql("SELECT version FROM schema_info")]
    engine.dispose()
    return found


# -- a domain that only this test module registers -------------------------------------
class NoteStore(StoreDomain):
    """Free-text notes on jobs."""

    @abstractmethod
    def add_note(self, job_name: str, text: str) -> None:
        """Add a note; NotFoundError if the job does not exist."""

    @abstractmethod
    def notes(self, job_name: str) -> list[str]:
        """A job's notes, oldest first."""


_notes_meta = sa.MetaData()
test_notes = sa.Table(
    "test_notes", _notes_meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_name", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)


def _create_notes(conn: Connection) -> None:
    test_notes.create(conn, checkfirst=True)


def _add_author(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE test_notes ADD COLUMN author VARCHAR(64) "
                         "NOT NULL DEFAULT 'unknown'")


class SqlNoteStore(SqlDomain, NoteStore):
    migrations = (_create_notes,)

    def add_note(self, job_name: str, text: str) -> None:
        with self.db.transaction() as conn:
            require_job(conn, job_name)
            conn.execute(test_notes.insert().values(job_name=job_name, text=text))

    def notes(self, job_name: str) -> list[str]:
        with self.db.transaction() as conn:
            rows = conn.execute(sa.select(test_notes.c.text).where(
                test_notes.c.job_name == job_name).order_by(test_notes.c.id))
            return [r.text for r in rows]


class SqlNoteStoreV2(SqlNoteStore):
    """The same domain, one migration later (a column added)."""

    migrations = (_create_notes, _add_author)

    def authors(self) -> list[str]:
        with self.db.transaction() as conn:
            return [r[0] for r in conn.exec_driver_sql(
                "SELECT author FROM test_notes ORDER BY id")]


def register_notes(monkeypatch: pytest.MonkeyPatch, cls: type[SqlNoteStore]) -> None:
    monkeypatch.setitem(registry.BUILTINS, "notes", f"{__name__}:{cls.__name__}")


# -- adopting single-version workspaces ---------------------------------------------------
def test_v4_workspace_opens_and_works(sql_store_url: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    make_legacy_workspace(sql_store_url, 4)
    register_notes(monkeypatch, SqlNoteStore)  # a domain the old workspace never had
    store = SqlAlchemyStore(sql_store_url)
    # every row reads back
    job = store.get_job("j1")
    assert (job.status, job.spec, job.outputs, job.pid, job.stop_requested) == (
        JobStatus.COMPLETED, {"kind": "training"}, {"model": "m1"}, 42, False)
    assert [x.line for x in store.get_logs("j1")] == ["epoch 1", "epoch 2"]
    assert [(p.name, p.value, p.step) for p in store.get_metrics("j1")] == [("acc", 0.75, 2)]
    assert store.get_model("m1").metadata == {"acc": 0.75}
    assert TableStore.of(store).get_table("db", "t").description == "reviews"
    endpoints = EndpointStore.of(store)
    assert endpoints.get_endpoint_config("cfg").spec == {"variants": ["A"]}
    assert endpoints.get_endpoint("ep").status is EndpointStatus.IN_SERVICE
    assert [a.to_replicas for a in endpoints.list_scaling_activities("ep")] == [2]
    rules = RuleStore.of(store)
    assert [(r.rule_name, r.status, r.step) for r in rules.get_rule_statuses("j1")] == [
        ("Overfit", RuleEvaluationStatus.ISSUES_FOUND, 30)]
    trials = TrialStore.of(store)
    assert trials.list_trials("tune") == [TrialRecord(
        "tune", 0, "tune-000", {"lr": 0.1}, JobStatus.COMPLETED, 0.9, [(1, 0.9)], 1.0, 2.0)]
    # ... and new rows go next to them (ids continue after the old ones)
    store.append_logs("j1", [(3.0, "epoch 3")])
    lines = store.get_logs("j1")
    assert [x.line for x in lines] == ["epoch 1", "epoch 2", "epoch 3"]
    assert lines[0].seq < lines[1].seq < lines[2].seq
    store.put_metrics("j1", [MetricPoint("acc", 0.8, 3, 3.0)])
    store.create_job("j2", JobType.TRAINING, {})
    store.create_model("m2", "file:///m2", "bert", "j2")
    TableStore.of(store).put_table(TableRecord("db", "u", "/u.csv", "csv", 3.0))
    endpoints.add_scaling_activity(ScalingActivity("ep", "A", 3.0, 2, 3, "target tracking"))
    assert [a.to_replicas for a in endpoints.list_scaling_activities("ep")] == [2, 3]
    rules.put_rule_status(RuleStatus("j2", "StepOutlier", "profiler",
                                     RuleEvaluationStatus.NO_ISSUES_FOUND))
    trials.put_trial(TrialRecord("tune", 1, "tune-001", {"lr": 0.2}))
    assert [t.number for t in trials.list_trials("tune")] == [0, 1]
    NoteStore.of(store).add_note("j1", "kept")
    assert store.schema_versions() == {"jobs": 1, "models": 1, "catalog": 1, "endpoints": 1,
                                       "rules": 1, "trials": 1, "tokens": 1, "analyses": 1,
                                       "registry": 1, "pipelines": 1, "lineage": 1,
                                       "experiments": 1, "notes": 1}
    store.close()
    # an older mlyard now refuses the database; opening it again changes nothing
    assert schema_info_versions(sql_store_url) == [PER_DOMAIN_MARKER]
    again = SqlAlchemyStore(sql_store_url)
    assert [j.name for j in again.list_jobs()] == ["j2", "tune", "j1"]
    assert NoteStore.of(again).notes("j1") == ["kept"]
    assert len(again.get_metrics("j1")) == 2
    again.close()


def test_v1_workspace_gains_the_later_domains(sql_store_url: str) -> None:
    make_legacy_workspace(sql_store_url, 1)
    store = SqlAlchemyStore(sql_store_url)
    assert store.get_job("j1").name == "j1"
    assert TableStore.of(store).get_table("db", "t").location == "/data/t.csv"
    EndpointStore.of(store).create_endpoint_config("cfg", {})
    RuleStore.of(store).put_rule_status(RuleStatus("j1", "Overfit", "debugger",
                                                   RuleEvaluationStatus.IN_PROGRESS))
    TrialStore.of(store).put_trial(TrialRecord("tune", 0, "tune-000", {}))
    assert set(store.schema_versions().values()) == {1}
    store.close()


def test_newer_legacy_database_is_refused(sql_store_url: str) -> None:
    engine = sa.create_engine(sql_store_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE schema_info (id INTEGER PRIMARY KEY, "
                             "version INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO schema_info VALUES (1, 999)")
    with pytest.raises(WorkspaceError, match="newer than this mlyard"):
        SqlAlchemyStore(sql_store_url)
    with engine.connect() as conn:  # refused before anything was written
        assert not sa.inspect(conn).has_table("schema_versions")
        assert not sa.inspect(conn).has_table("jobs")
    engine.dispose()


def test_newer_domain_version_is_refused(sql_store_url: str) -> None:
    SqlAlchemyStore(sql_store_url).close()
    engine = sa.create_engine(sql_store_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schema_versions SET version = 7 WHERE domain = 'trials'")
    engine.dispose()
    with pytest.raises(WorkspaceError, match="'trials' is newer than this mlyard"):
        SqlAlchemyStore(sql_store_url)


# -- domains added later -------------------------------------------------------------------
def test_domain_added_later_gets_its_tables(sql_store_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqlAlchemyStore(sql_store_url)
    store.create_job("j", JobType.TRAINING, {})
    assert "notes" not in store.schema_versions()
    store.close()

    register_notes(monkeypatch, SqlNoteStore)
    store = SqlAlchemyStore(sql_store_url)
    notes = NoteStore.of(store)
    notes.add_note("j", "first")
    with pytest.raises(NotFoundError):
        notes.add_note("missing", "x")
    assert store.schema_versions()["notes"] == 1
    assert notes.notes("j") == ["first"]
    store.close()

    register_notes(monkeypatch, SqlNoteStoreV2)  # its next version adds a column
    store = SqlAlchemyStore(sql_store_url)
    assert store.schema_versions()["notes"] == 2
    notes_v2 = NoteStore.of(store)
    assert isinstance(notes_v2, SqlNoteStoreV2)
    assert notes_v2.notes("j") == ["first"] and notes_v2.authors() == ["unknown"]
    store.close()

    monkeypatch.delitem(registry.BUILTINS, "notes")  # uninstalled: its tables stay unused
    store = SqlAlchemyStore(sql_store_url)
    assert store.get_job("j").name == "j" and "notes" not in store.schema_versions()
    store.close()


def test_workspace_composes_the_registered_domains(settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with Workspace(settings) as ws:
        ws.store.create_job("j", JobType.TRAINING, {})
    register_notes(monkeypatch, SqlNoteStore)
    with Workspace(settings) as ws:
        assert set(ws.store.domains()) == {*registry.available_domains()}
        assert {*registry.BUILTINS} <= set(ws.store.domains())
        NoteStore.of(ws.store).add_note("j", "kept")
    with Workspace(settings) as ws:
        assert NoteStore.of(ws.store).notes("j") == ["kept"]


# -- the registry ---------------------------------------------------------------------------
def test_entry_points_add_domains_but_do_not_replace_builtins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    found = [EntryPoint("notes", f"{__name__}:SqlNoteStore", registry.ENTRY_POINT_GROUP),
             EntryPoint("jobs", f"{__name__}:SqlNoteStore", registry.ENTRY_POINT_GROUP)]

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [ep for ep in found if ep.group == group]

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    domains = registry.available_domains()
    assert domains["notes"] == f"{__name__}:SqlNoteStore"
    assert domains["jobs"] == registry.BUILTINS["jobs"]
    assert list(domains)[: len(registry.BUILTINS)] == list(registry.BUILTINS)


@pytest.mark.parametrize(("name", "target", "message"), [
    ("notes", "no_such_module_xyz:Store", "cannot load"),
    ("notes", f"{__name__}:Missing", "cannot load"),
    ("notes", "mlyard.tuning.store:TrialStore", "not a SqlDomain"),
    ("Bad-Name", f"{__name__}:SqlNoteStore", "not a lower-case identifier"),
])
def test_bad_registrations_are_refused(name: str, target: str, message: str) -> None:
    with pytest.raises(WorkspaceError, match=message):
        registry.load_domain(name, target)


def test_a_store_without_jobs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="JobStore"):
        SqlAlchemyStore(f"sqlite:///{tmp_path / 'm.db'}",
                        domains={"models": registry.BUILTINS["models"]})
