"""Lineage and experiments over the registry's and pipelines' real stores (skipped until
those packages are installed next to this one)."""

from __future__ import annotations

from mlyard.core.workspace import Workspace
from mlyard.experiments.collect import sync
from mlyard.experiments.store import ExperimentStore
from mlyard.lineage.query import lineage
from mlyard.pipelines import store as pipeline_store
from mlyard.registry import store as registry_store
from tests.unit.lineage.fakes import fill


def test_registry_version_and_execution_from_the_real_stores(ws: Workspace) -> None:
    fill(ws)
    pipelines = pipeline_store.PipelineStore.of(ws.store)
    pipelines.put_pipeline("reviews", {"Version": "2020-12-01", "Steps": []})
    execution = pipeline_store.PipelineExecutionRecord(
        execution_id="reviews-20260101000000-ab12", pipeline="reviews", pipeline_version=1,
        status="Succeeded", parameters={"MinAccuracy": 0.8}, created_at=1.0, ended_at=2.0)
    pipelines.create_execution(execution, {"Version": "2020-12-01", "Steps": []})
    for name, kind, job in (("Prepare", "Processing", "prep"), ("Train", "Training", "train-1")):
        pipelines.put_step(pipeline_store.StepExecutionRecord(
            execution_id=execution.execution_id, step_name=name, step_type=kind,
            status="Succeeded", job_name=job))
    registry = registry_store.RegistryStore.of(ws.store)
    registry.create_group("reviews")
    registry.create_version("reviews", model_name="bt-1",
                            approval_status=registry_store.ApprovalStatus.PENDING,
                            created_by="me",
                            source={"PipelineExecutionId": execution.execution_id})
    up = {s.entity.id: s.direction for s in lineage(ws, "reviews/1", "upstream").steps}
    assert {"model:bt-1", "job:train-1", "artifact:file:///data/raw.csv",
            f"execution:{execution.execution_id}"} <= set(up)
    down = {s.entity.id for s in lineage(ws, "reviews/1", "downstream").steps}
    assert {"group:reviews", "endpoint:reviews"} <= down
    sync(ws)
    store = ExperimentStore.of(ws.store)
    run = store.get_run("reviews", execution.execution_id)
    assert run.status == "Finished"
    assert store.get_params("reviews", execution.execution_id) == {"MinAccuracy": 0.8}
    metrics = {m.key: m.value for m in store.get_metrics("reviews", execution.execution_id)}
    assert metrics == {"Train/train:accuracy": 0.8}
