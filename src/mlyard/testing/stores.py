"""Conformance suite for :class:`mlyard.core.stores.MetadataStore` implementations."""

from __future__ import annotations

import time

import pytest

from mlyard.core.records import (
    EndpointStatus,
    JobStatus,
    JobType,
    MetricPoint,
    RuleEvaluationStatus,
    RuleStatus,
    ScalingActivity,
    TableRecord,
    TrialRecord,
)
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import ConflictError, NotFoundError


class MetadataStoreConformance:
    """Subclass and define a ``store`` fixture returning a fresh, empty store."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise pytest.UsageError("define a `store` fixture")

    def test_job_lifecycle(self, store: MetadataStore) -> None:
        rec = store.create_job("j1", JobType.TRAINING, {"kind": "training"}, output_uri="x")
        assert rec.status is JobStatus.PENDING and rec.spec == {"kind": "training"}
        assert store.transition_job("j1", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        assert store.get_job("j1").started_at is not None
        assert not store.transition_job("j1", JobStatus.IN_PROGRESS,
                                        expected=[JobStatus.PENDING])
        assert store.transition_job("j1", JobStatus.COMPLETED,
                                    expected=[JobStatus.IN_PROGRESS], outputs={"model": "m"})
        done = store.get_job("j1")
        assert done.status is JobStatus.COMPLETED and done.outputs == {"model": "m"}
        assert done.ended_at is not None and done.duration is not None

    def test_failure_reason_kept(self, store: MetadataStore) -> None:
        store.create_job("j2", JobType.PROCESSING, {})
        store.transition_job("j2", JobStatus.FAILED, expected=[JobStatus.PENDING],
                             failure_reason="DataError: empty file")
        assert store.get_job("j2").failure_reason == "DataError: empty file"

    def test_duplicate_and_missing_jobs(self, store: MetadataStore) -> None:
        store.create_job("dup", JobType.TRAINING, {})
        with pytest.raises(ConflictError):
            store.create_job("dup", JobType.TRAINING, {})
        with pytest.raises(NotFoundError):
            store.get_job("nope")
        with pytest.raises(NotFoundError):
            store.transition_job("nope", JobStatus.FAILED, expected=[JobStatus.PENDING])
        with pytest.raises(NotFoundError):
            store.request_stop("nope")

    def test_list_jobs_filters_newest_first(self, store: MetadataStore) -> None:
        store.create_job("a", JobType.TRAINING, {})
        time.sleep(0.01)
        store.create_job("b", JobType.TRANSFORM, {})
        assert [r.name for r in store.list_jobs()] == ["b", "a"]
        assert [r.name for r in store.list_jobs(job_type=JobType.TRAINING)] == ["a"]
        assert [r.name for r in store.list_jobs(status=JobStatus.PENDING, limit=1)] == ["b"]

    def test_stop_requests(self, store: MetadataStore) -> None:
        store.create_job("p", JobType.TRAINING, {})
        assert store.request_stop("p").status is JobStatus.STOPPED
        store.create_job("r", JobType.TRAINING, {})
        store.transition_job("r", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        rec = store.request_stop("r")
        assert rec.status is JobStatus.STOPPING and rec.stop_requested
        store.set_job_process("r", executor="local", pid=123, host="h")
        assert store.get_job("r").pid == 123

    def test_logs_and_metrics(self, store: MetadataStore) -> None:
        store.create_job("m", JobType.TRAINING, {})
        store.append_logs("m", [(1.0, "one"), (2.0, "two")])
        store.append_logs("m", [(3.0, "three")])
        lines = store.get_logs("m")
        assert [x.line for x in lines] == ["one", "two", "three"]
        assert [x.line for x in store.get_logs("m", after_seq=lines[1].seq)] == ["three"]
        store.put_metrics("m", [MetricPoint("acc", 0.5, 0, 1.0), MetricPoint("loss", 2.0, 0, 1.0),
                                MetricPoint("acc", 0.7, 1, 2.0)])
        assert [p.value for p in store.get_metrics("m", "acc")] == [0.5, 0.7]
        assert len(store.get_metrics("m")) == 3

    def test_models(self, store: MetadataStore) -> None:
        store.create_model("m1", "file:///x", "blazingtext", job_name="j", metadata={"a": 1})
        rec = store.get_model("m1")
        assert rec.uri == "file:///x" and rec.metadata == {"a": 1}
        with pytest.raises(ConflictError):
            store.create_model("m1", "file:///y", "blazingtext")
        assert store.get_model("m1").uri == "file:///x"
        assert [m.name for m in store.list_models()] == ["m1"]
        store.delete_model("m1")
        with pytest.raises(NotFoundError):
            store.get_model("m1")

    def test_tables(self, store: MetadataStore) -> None:
        rec = TableRecord("db", "t", "/data/t.csv", "csv", time.time(), {"delim": ","})
        store.put_table(rec)
        with pytest.raises(ConflictError):
            store.put_table(rec)
        store.put_table(TableRecord("db", "t", "/data/t2.csv", "csv", time.time()), replace=True)
        assert store.get_table("db", "t").location == "/data/t2.csv"
        store.put_table(TableRecord("a", "z", "/z", "parquet", time.time()))
        assert [t.qualified_name for t in store.list_tables()] == ["a.z", "db.t"]
        assert [t.qualified_name for t in store.list_tables("db")] == ["db.t"]
        store.delete_table("db", "t")
        with pytest.raises(NotFoundError):
            store.get_table("db", "t")

    def test_schema_version(self, store: MetadataStore) -> None:
        assert store.schema_version() >= 1

    def test_endpoints(self, store: MetadataStore) -> None:
        store.create_endpoint_config("cfg", {"variants": [1]})
        with pytest.raises(ConflictError):
            store.create_endpoint_config("cfg", {})
        assert store.get_endpoint_config("cfg").spec == {"variants": [1]}
        rec = store.create_endpoint("ep", "cfg", {"weights": {"A": 1.0}})
        assert rec.status is EndpointStatus.CREATING and rec.state == {"weights": {"A": 1.0}}
        with pytest.raises(ConflictError):
            store.create_endpoint("ep", "cfg", {})
        rec = store.update_endpoint("ep", status=EndpointStatus.FAILED, failure_reason="boom")
        assert rec.failure_reason == "boom"
        rec = store.update_endpoint("ep", status=EndpointStatus.IN_SERVICE, clear_failure=True,
                                    state={"weights": {"A": 2.0}})
        assert rec.failure_reason is None and rec.state["weights"]["A"] == 2.0
        assert [e.name for e in store.list_endpoints()] == ["ep"]
        store.add_scaling_activity(ScalingActivity("ep", "A", 1.0, 1, 2, "target tracking"))
        assert [a.to_replicas for a in store.list_scaling_activities("ep")] == [2]
        store.delete_endpoint("ep")
        assert store.list_scaling_activities("ep") == []
        with pytest.raises(NotFoundError):
            store.get_endpoint("ep")
        with pytest.raises(NotFoundError):
            store.update_endpoint("ep", status=EndpointStatus.IN_SERVICE)
        store.delete_endpoint_config("cfg")
        with pytest.raises(NotFoundError):
            store.get_endpoint_config("cfg")

    def test_rule_statuses(self, store: MetadataStore) -> None:
        store.create_job("r1", JobType.TRAINING, {})
        with pytest.raises(NotFoundError):
            store.put_rule_status(RuleStatus("nope", "Overfit", "debugger",
                                             RuleEvaluationStatus.IN_PROGRESS))
        store.put_rule_status(RuleStatus("r1", "Overfit", "debugger",
                                         RuleEvaluationStatus.IN_PROGRESS))
        store.put_rule_status(RuleStatus("r1", "StepOutlier", "profiler",
                                         RuleEvaluationStatus.NO_ISSUES_FOUND, "ok"))
        store.put_rule_status(RuleStatus("r1", "Overfit", "debugger",
                                         RuleEvaluationStatus.ISSUES_FOUND, "gap 0.4", step=30))
        rules = store.get_rule_statuses("r1")
        assert [(r.kind, r.rule_name, r.status) for r in rules] == [
            ("debugger", "Overfit", RuleEvaluationStatus.ISSUES_FOUND),
            ("profiler", "StepOutlier", RuleEvaluationStatus.NO_ISSUES_FOUND),
        ]
        assert rules[0].step == 30 and rules[0].message == "gap 0.4" and rules[0].updated_at > 0
        assert [r.rule_name for r in store.get_rule_statuses("r1", "profiler")] == ["StepOutlier"]
        assert store.get_rule_statuses("other") == []

    def test_tuning_trials(self, store: MetadataStore) -> None:
        store.create_job("tune", JobType.TUNING, {})
        with pytest.raises(NotFoundError):
            store.put_trial(TrialRecord("nope", 0, "nope-000", {}))
        store.put_trial(TrialRecord("tune", 1, "tune-001", {"lr": 0.1}))
        store.put_trial(TrialRecord("tune", 0, "tune-000", {"lr": 0.5, "k": "a"},
                                    JobStatus.COMPLETED, 0.8, [(1, 0.7), (2, 0.8)], 1.0, 2.0))
        store.put_trial(TrialRecord("tune", 1, "tune-001", {"lr": 0.1}, JobStatus.STOPPED,
                                    None, [(1, 0.2)], 1.5, 3.0, "early stopping", "own"))
        trials = store.list_trials("tune")
        assert [t.number for t in trials] == [0, 1]
        assert trials[0].hyperparameters == {"lr": 0.5, "k": "a"}
        assert trials[0].intermediate == [(1, 0.7), (2, 0.8)] and trials[0].objective == 0.8
        assert trials[1].status is JobStatus.STOPPED and trials[1].stop_reason == "early stopping"
        assert store.list_trials("other") == []

    def test_stop_reason_and_reopen(self, store: MetadataStore) -> None:
        store.create_job("j", JobType.TUNING, {})
        assert store.transition_job("j", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        rec = store.request_stop("j", reason="early stopping: below the median")
        assert rec.status is JobStatus.STOPPING
        assert rec.failure_reason == "early stopping: below the median"
        store.transition_job("j", JobStatus.FAILED, expected=[JobStatus.STOPPING],
                             failure_reason="driver died")
        assert not store.reopen_job("j", expected=[JobStatus.COMPLETED])
        assert store.reopen_job("j", expected=[JobStatus.FAILED])
        rec = store.get_job("j")
        assert rec.status is JobStatus.PENDING and rec.failure_reason is None
        assert not rec.stop_requested and rec.ended_at is None
        with pytest.raises(NotFoundError):
            store.reopen_job("missing", expected=[JobStatus.FAILED])
