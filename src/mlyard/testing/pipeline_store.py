"""Conformance suite of the pipelines' store domain
(:class:`mlyard.pipelines.store.PipelineStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import ConflictError, NotFoundError
from mlyard.pipelines.store import (
    PipelineExecutionRecord,
    PipelineStore,
    StepExecutionRecord,
)
from mlyard.testing.stores import StoreSuite, run_together

DEFINITION = {"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "A", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}]}


def _execution(eid: str, pipeline: str = "p", created: float = 1.0) -> PipelineExecutionRecord:
    return PipelineExecutionRecord(eid, pipeline, 1, "Executing", {"K": 1.5}, created,
                                   driver_job=eid, display_name="first")


class PipelineStoreConformance(StoreSuite):
    """Pipelines (versioned upserts), executions and steps with compare-and-set statuses,
    and the step cache lookup."""

    @pytest.fixture
    def pipes(self, store: MetadataStore) -> PipelineStore:
        return PipelineStore.of(store)

    def test_pipeline_upsert_versions(self, pipes: PipelineStore) -> None:
        first = pipes.put_pipeline("p", DEFINITION, "d")
        assert (first.name, first.version, first.description) == ("p", 1, "d")
        assert first.definition == DEFINITION
        assert pipes.put_pipeline("p", DEFINITION, "other").version == 1
        changed = {**DEFINITION, "Metadata": {"x": 1}}
        second = pipes.put_pipeline("p", changed)
        assert second.version == 2 and second.definition == changed
        assert second.created_at == first.created_at
        pipes.put_pipeline("a", DEFINITION)
        assert [p.name for p in pipes.list_pipelines()] == ["a", "p"]
        with pytest.raises(NotFoundError, match="no pipeline named 'ghost'"):
            pipes.get_pipeline("ghost")

    def test_executions(self, pipes: PipelineStore) -> None:
        with pytest.raises(NotFoundError):
            pipes.create_execution(_execution("e-1"), DEFINITION)
        pipes.put_pipeline("p", DEFINITION)
        rec = pipes.create_execution(_execution("e-1"), DEFINITION)
        assert rec == _execution("e-1")
        with pytest.raises(ConflictError):
            pipes.create_execution(_execution("e-1"), DEFINITION)
        pipes.put_pipeline("p", {**DEFINITION, "Metadata": {"v": 2}})
        assert pipes.get_execution_definition("e-1") == DEFINITION
        pipes.create_execution(_execution("e-2", created=2.0), DEFINITION)
        assert [e.execution_id for e in pipes.list_executions("p")] == ["e-2", "e-1"]
        assert pipes.list_executions("other") == []
        assert pipes.transition_execution("e-1", "Executing", expected=["Executing"])
        assert pipes.get_execution("e-1").started_at is not None
        assert pipes.transition_execution("e-1", "Failed", expected=["Executing"],
                                          failure_reason="step A failed: boom")
        assert not pipes.transition_execution("e-1", "Succeeded", expected=["Executing"])
        done = pipes.get_execution("e-1")
        assert done.status == "Failed" and done.failure_reason == "step A failed: boom"
        assert done.ended_at is not None
        assert pipes.transition_execution("e-1", "Executing", expected=["Failed"],
                                          driver_job="e-1-r1")
        again = pipes.get_execution("e-1")
        assert (again.status, again.failure_reason, again.ended_at, again.driver_job) == (
            "Executing", None, None, "e-1-r1")
        with pytest.raises(NotFoundError):
            pipes.transition_execution("ghost", "Failed", expected=["Executing"])
        with pytest.raises(NotFoundError):
            pipes.get_execution("ghost")

    def test_steps_and_cache(self, pipes: PipelineStore) -> None:
        pipes.put_pipeline("p", DEFINITION)
        pipes.create_execution(_execution("e-1"), DEFINITION)
        with pytest.raises(NotFoundError):
            pipes.put_step(StepExecutionRecord("ghost", "A", "Processing", "Starting"))
        b = StepExecutionRecord("e-1", "B", "Processing", "Executing", job_name="e-1-b-1",
                                started_at=5.0)
        a = StepExecutionRecord("e-1", "A", "Condition", "Succeeded", ended_at=6.0,
                                metadata={"Condition": {"Outcome": "True"}},
                                properties={"Outcome": "True"})
        assert pipes.put_step(b, cache_key="k1") == b
        pipes.put_step(a)
        assert [s.step_name for s in pipes.list_steps("e-1")] == ["B", "A"]
        assert pipes.find_cached_step("k1", 0.0) is None  # not Succeeded yet
        props = {"ProcessingOutputConfig": {"Outputs": {"o": {"S3Output": {"S3Uri": "f"}}}}}
        assert pipes.transition_step("e-1", "B", "Succeeded", expected=["Executing"],
                                     properties=props)
        assert not pipes.transition_step("e-1", "B", "Failed", expected=["Executing"])
        done = pipes.get_step("e-1", "B")
        assert done.status == "Succeeded" and done.properties == props
        assert done.ended_at is not None
        hit = pipes.find_cached_step("k1", 0.0)
        assert hit is not None and hit.step_name == "B" and hit.properties == props
        assert pipes.find_cached_step("k1", done.ended_at + 10) is None
        assert pipes.find_cached_step("k2", 0.0) is None
        retried = StepExecutionRecord("e-1", "B", "Processing", "Starting", attempt=2)
        pipes.put_step(retried)
        assert pipes.get_step("e-1", "B").attempt == 2
        assert [s.step_name for s in pipes.list_steps("e-1")] == ["B", "A"]
        assert pipes.find_cached_step("k1", 0.0) is None
        with pytest.raises(NotFoundError, match="no step 'Z'"):
            pipes.transition_step("e-1", "Z", "Failed", expected=["Executing"])

    def test_delete_pipeline(self, pipes: PipelineStore) -> None:
        pipes.put_pipeline("p", DEFINITION)
        pipes.create_execution(_execution("e-1"), DEFINITION)
        pipes.put_step(StepExecutionRecord("e-1", "A", "Fail", "Failed"))
        with pytest.raises(ConflictError, match="running execution"):
            pipes.delete_pipeline("p")
        pipes.transition_execution("e-1", "Failed", expected=["Executing"])
        pipes.delete_pipeline("p")
        with pytest.raises(NotFoundError):
            pipes.get_execution("e-1")
        assert pipes.list_steps("e-1") == []
        with pytest.raises(NotFoundError):
            pipes.delete_pipeline("p")

    def test_one_of_concurrent_transitions_wins(self, pipes: PipelineStore) -> None:
        pipes.put_pipeline("p", DEFINITION)
        pipes.create_execution(_execution("e-1"), DEFINITION)
        results = run_together([
            partial(pipes.transition_execution, "e-1", to, expected=["Executing"])
            for to in ("Stopping", "Failed", "Succeeded", "Stopping")])
        assert sum(r is True for r in results) == 1
