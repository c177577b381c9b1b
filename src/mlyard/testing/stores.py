"""Conformance suites of the metadata store: core's domains (jobs, models) and the
composite :class:`~mlyard.core.stores.MetadataStore`.

Every suite of a store domain (these, and those of the capabilities' domains:
:mod:`mlyard.testing.table_store`, :mod:`~mlyard.testing.endpoint_store`,
:mod:`~mlyard.testing.trial_store`, :mod:`~mlyard.testing.rule_store`) subclasses
:class:`StoreSuite`: define a ``store`` fixture returning a fresh, empty composite store
(the domain under test is taken from it, and jobs can be created for domains whose rows
belong to a job). :func:`mlyard.testing.postgres.sql_store_url` gives such a store's URL on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from mlyard.core.records import JobStatus, JobType, MetricPoint
from mlyard.core.stores import JobStore, MetadataStore, ModelStore, StoreDomain
from mlyard.errors import ConflictError, NotFoundError, WorkspaceError


class StoreSuite:
    """Base of every store-domain conformance suite: needs a ``store`` fixture."""

    @pytest.fixture
    def store(self) -> MetadataStore:  # pragma: no cover - overridden
        raise pytest.UsageError("define a `store` fixture returning a fresh, empty store")


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released at the same moment; their results in order (an
    exception a call raised is its result)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


class JobStoreConformance(StoreSuite):
    """:class:`JobStore`: jobs, logs and metrics."""

    @pytest.fixture
    def jobs(self, store: MetadataStore) -> JobStore:
        return JobStore.of(store)

    def test_job_lifecycle(self, jobs: JobStore) -> None:
        rec = jobs.create_job("j1", JobType.TRAINING, {"kind": "training"}, output_uri="x")
        assert rec.status is JobStatus.PENDING and rec.spec == {"kind": "training"}
        assert jobs.transition_job("j1", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        assert jobs.get_job("j1").started_at is not None
        assert not jobs.transition_job("j1", JobStatus.IN_PROGRESS,
                                       expected=[JobStatus.PENDING])
        assert jobs.transition_job("j1", JobStatus.COMPLETED,
                                   expected=[JobStatus.IN_PROGRESS], outputs={"model": "m"})
        done = jobs.get_job("j1")
        assert done.status is JobStatus.COMPLETED and done.outputs == {"model": "m"}
        assert done.ended_at is not None and done.duration is not None

    def test_failure_reason_kept(self, jobs: JobStore) -> None:
        jobs.create_job("j2", JobType.PROCESSING, {})
        jobs.transition_job("j2", JobStatus.FAILED, expected=[JobStatus.PENDING],
                            failure_reason="DataError: empty file")
        assert jobs.get_job("j2").failure_reason == "DataError: empty file"

    def test_duplicate_and_missing_jobs(self, jobs: JobStore) -> None:
        jobs.create_job("dup", JobType.TRAINING, {})
        with pytest.raises(ConflictError):
            jobs.create_job("dup", JobType.TRAINING, {})
        with pytest.raises(NotFoundError):
            jobs.get_job("nope")
        with pytest.raises(NotFoundError):
            jobs.transition_job("nope", JobStatus.FAILED, expected=[JobStatus.PENDING])
        with pytest.raises(NotFoundError):
            jobs.request_stop("nope")

    def test_list_jobs_filters_newest_first(self, jobs: JobStore) -> None:
        jobs.create_job("a", JobType.TRAINING, {})
        time.sleep(0.01)
        jobs.create_job("b", JobType.TRANSFORM, {})
        assert [r.name for r in jobs.list_jobs()] == ["b", "a"]
        assert [r.name for r in jobs.list_jobs(job_type=JobType.TRAINING)] == ["a"]
        assert [r.name for r in jobs.list_jobs(status=JobStatus.PENDING, limit=1)] == ["b"]

    def test_stop_requests(self, jobs: JobStore) -> None:
        jobs.create_job("p", JobType.TRAINING, {})
        assert jobs.request_stop("p").status is JobStatus.STOPPED
        jobs.create_job("r", JobType.TRAINING, {})
        jobs.transition_job("r", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        rec = jobs.request_stop("r")
        assert rec.status is JobStatus.STOPPING and rec.stop_requested
        jobs.set_job_process("r", executor="local", pid=123, host="h")
        assert jobs.get_job("r").pid == 123

    def test_logs_and_metrics(self, jobs: JobStore) -> None:
        jobs.create_job("m", JobType.TRAINING, {})
        jobs.append_logs("m", [(1.0, "one"), (2.0, "two")])
        jobs.append_logs("m", [(3.0, "three")])
        lines = jobs.get_logs("m")
        assert [x.line for x in lines] == ["one", "two", "three"]
        assert [x.line for x in jobs.get_logs("m", after_seq=lines[1].seq)] == ["three"]
        jobs.put_metrics("m", [MetricPoint("acc", 0.5, 0, 1.0), MetricPoint("loss", 2.0, 0, 1.0),
                               MetricPoint("acc", 0.7, 1, 2.0)])
        assert [p.value for p in jobs.get_metrics("m", "acc")] == [0.5, 0.7]
        assert len(jobs.get_metrics("m")) == 3

    def test_stop_reason_and_reopen(self, jobs: JobStore) -> None:
        jobs.create_job("j", JobType.TUNING, {})
        assert jobs.transition_job("j", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        rec = jobs.request_stop("j", reason="early stopping: below the median")
        assert rec.status is JobStatus.STOPPING
        assert rec.failure_reason == "early stopping: below the median"
        jobs.transition_job("j", JobStatus.FAILED, expected=[JobStatus.STOPPING],
                            failure_reason="driver died")
        assert not jobs.reopen_job("j", expected=[JobStatus.COMPLETED])
        assert jobs.reopen_job("j", expected=[JobStatus.FAILED])
        rec = jobs.get_job("j")
        assert rec.status is JobStatus.PENDING and rec.failure_reason is None
        assert not rec.stop_requested and rec.ended_at is None
        with pytest.raises(NotFoundError):
            jobs.reopen_job("missing", expected=[JobStatus.FAILED])

    def test_values_round_trip(self, jobs: JobStore) -> None:
        spec = {"text": "café ✓ 日本", "nested": {"list": [1, 2.5, None, True]},
                "big": "x" * 20_000}
        jobs.create_job("v", JobType.TRAINING, spec)
        assert jobs.get_job("v").spec == spec
        assert jobs.get_job("v").stop_requested is False
        jobs.transition_job("v", JobStatus.FAILED, expected=[JobStatus.PENDING],
                            failure_reason="E" * 5000)
        assert jobs.get_job("v").failure_reason == "E" * 4000
        third = 1 / 3
        jobs.put_metrics("v", [MetricPoint("m", third, None, 1_700_000_000.123456),
                               MetricPoint("m", -1e-300, 2**31 - 1, 0.0)])
        points = jobs.get_metrics("v")
        assert [(p.value, p.step, p.timestamp) for p in points] == [
            (third, None, 1_700_000_000.123456), (-1e-300, 2**31 - 1, 0.0)]
        jobs.append_logs("v", [(1.5, "ünïcode line\twith tab")])
        assert jobs.get_logs("v")[0].line == "ünïcode line\twith tab"

    def test_concurrent_transitions_have_one_winner(self, jobs: JobStore) -> None:
        jobs.create_job("race", JobType.TRAINING, {})
        won = run_together([
            lambda: jobs.transition_job("race", JobStatus.IN_PROGRESS,
                                        expected=[JobStatus.PENDING])
            for _ in range(6)])
        assert sorted(won, key=str) == [False] * 5 + [True]
        won = run_together(
            [lambda: jobs.transition_job("race", JobStatus.COMPLETED,
                                         expected=[JobStatus.IN_PROGRESS])] * 3
            + [lambda: jobs.transition_job("race", JobStatus.FAILED,
                                           expected=[JobStatus.IN_PROGRESS])] * 3)
        assert won.count(True) == 1 and won.count(False) == 5
        assert jobs.get_job("race").status.terminal

    def test_concurrent_stop_and_start(self, jobs: JobStore) -> None:
        for i in range(5):
            jobs.create_job(f"s{i}", JobType.TRAINING, {})
            started, stopped = run_together([
                partial(jobs.transition_job, f"s{i}", JobStatus.IN_PROGRESS,
                        expected=[JobStatus.PENDING]),
                partial(jobs.request_stop, f"s{i}")])
            if not isinstance(stopped, Exception):
                stopped = stopped.status
            final = jobs.get_job(f"s{i}").status
            # either the stop came first (never started), or the job started and is stopping
            if started is True:
                assert stopped is JobStatus.STOPPING and final is JobStatus.STOPPING
            else:
                assert stopped is JobStatus.STOPPED and final is JobStatus.STOPPED


class ModelStoreConformance(StoreSuite):
    """:class:`ModelStore`: model registrations."""

    @pytest.fixture
    def models(self, store: MetadataStore) -> ModelStore:
        return ModelStore.of(store)

    def test_models(self, models: ModelStore) -> None:
        models.create_model("m1", "file:///x", "blazingtext", job_name="j", metadata={"a": 1})
        rec = models.get_model("m1")
        assert rec.uri == "file:///x" and rec.metadata == {"a": 1}
        with pytest.raises(ConflictError):
            models.create_model("m1", "file:///y", "blazingtext")
        assert models.get_model("m1").uri == "file:///x"
        assert [m.name for m in models.list_models()] == ["m1"]
        models.delete_model("m1")
        with pytest.raises(NotFoundError):
            models.get_model("m1")
        with pytest.raises(NotFoundError):
            models.delete_model("m1")

    def test_list_models_newest_first(self, models: ModelStore) -> None:
        for name in ("old", "mid", "new"):
            models.create_model(name, f"file:///{name}", "bert")
            time.sleep(0.01)
        assert [m.name for m in models.list_models()] == ["new", "mid", "old"]
        assert [m.name for m in models.list_models(limit=2)] == ["new", "mid"]


class _Unregistered(StoreDomain):
    """A domain interface no store implements."""


class MetadataStoreConformance(StoreSuite):
    """The composite: core's methods on the store itself, every domain reachable through
    its interface, one schema version per domain."""

    def test_core_methods_on_the_store(self, store: MetadataStore) -> None:
        store.create_job("c", JobType.TRAINING, {"k": 1}, output_uri="file:///o")
        assert store.list_jobs()[0].name == "c"
        assert store.transition_job("c", JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
        store.set_job_process("c", executor="local", pid=7, host=None)
        assert store.get_job("c").host  # defaults to this host's name
        store.append_logs("c", [(1.0, "hi")])
        store.put_metrics("c", [MetricPoint("acc", 0.9, 1, 1.0)])
        assert [x.line for x in store.get_logs("c")] == ["hi"]
        assert [p.value for p in store.get_metrics("c", "acc")] == [0.9]
        assert store.request_stop("c", "enough").status is JobStatus.STOPPING
        assert store.transition_job("c", JobStatus.STOPPED, expected=[JobStatus.STOPPING])
        assert store.reopen_job("c", expected=[JobStatus.STOPPED])
        assert store.get_job("c").status is JobStatus.PENDING
        store.create_model("cm", "file:///m", "bert", job_name="c")
        assert [m.name for m in store.list_models()] == ["cm"]
        assert store.get_model("cm").job_name == "c"
        store.delete_model("cm")
        assert store.list_models() == []

    def test_domains_by_interface(self, store: MetadataStore) -> None:
        domains = store.domains()
        assert {"jobs", "models"} <= set(domains)
        for name, domain in domains.items():
            assert isinstance(domain, StoreDomain), name
        jobs = JobStore.of(store)
        assert jobs is domains["jobs"] and jobs is not store
        assert ModelStore.of(store) is domains["models"]
        with pytest.raises(WorkspaceError, match="_Unregistered"):
            _Unregistered.of(store)

    def test_schema_versions(self, store: MetadataStore) -> None:
        versions = store.schema_versions()
        assert set(versions) == set(store.domains())
        assert all(v >= 1 for v in versions.values())
