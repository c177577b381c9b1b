"""The lineage collectors, on hand-made records."""

from __future__ import annotations

from mlyard.core.records import JobRecord, JobStatus, ModelRecord
from mlyard.lineage.collect import (
    Graph,
    collect_endpoints,
    collect_executions,
    collect_jobs,
    collect_models,
    collect_packages,
    normalize_uri,
)
from mlyard.lineage.store import LineageType
from mlyard.serving.store import EndpointConfigRecord, EndpointRecord, EndpointStatus
from mlyard.tuning.store import TrialRecord
from tests.unit.lineage.fakes import FakeExecution, FakeGroup, FakePackage, FakeStep


def _job(name: str, kind: str, spec: dict, outputs: dict | None = None) -> JobRecord:
    return JobRecord(name, kind, JobStatus.COMPLETED, {"kind": kind, **spec}, 1.0, 2.0,
                     outputs=outputs or {})


def _edges(graph: Graph) -> set[tuple[str, str, str]]:
    return set(graph.associations)


def test_normalize_uri() -> None:
    assert normalize_uri("/d/train/") == "file:///d/train"
    assert normalize_uri("file:///d/train/") == "file:///d/train"
    assert normalize_uri("s3://b/k") == "s3://b/k"
    assert normalize_uri("table:reviews") == "table:reviews"


def test_jobs() -> None:
    graph = collect_jobs([
        _job("prep", "processing", {"inputs": [{"name": "raw", "source": "/d/raw.csv"}]},
             {"train": "file:///o/train", "evaluation": "file:///o/ev"}),
        _job("train", "training", {"channels": [{"name": "train", "uri": "/o/train/"}],
                                   "hyperparameters": {"epochs": 2}},
             {"model": "file:///o/model"}),
        _job("predict", "transform", {"model_name": "m", "input": "/d/test"},
             {"output": "file:///o/pred"}),
        _job("tune", "tuning", {}, {"best_training_job": "tune-002"}),
    ], {"tune": [TrialRecord("tune", 1, "tune-001", {"lr": 0.1}),
                 TrialRecord("tune", 2, "tune-002", {"lr": 0.2})]})
    assert _edges(graph) == {
        ("artifact:file:///d/raw.csv", "job:prep", "ContributedTo"),
        ("job:prep", "artifact:file:///o/train", "Produced"),
        ("job:prep", "artifact:file:///o/ev", "Produced"),
        ("artifact:file:///o/train", "job:train", "ContributedTo"),
        ("job:train", "artifact:file:///o/model", "Produced"),
        ("model:m", "job:predict", "ContributedTo"),
        ("artifact:file:///d/test", "job:predict", "ContributedTo"),
        ("job:predict", "artifact:file:///o/pred", "Produced"),
        ("job:tune-001", "job:tune", "AssociatedWith"),
        ("job:tune-002", "job:tune", "AssociatedWith"),
        ("job:tune-002", "job:tune", "ContributedTo"),
    }
    e = graph.entities
    assert e["artifact:file:///o/ev"].entity_type == "Report"
    assert e["artifact:file:///o/train"].entity_type == "DataSet"
    assert e["artifact:file:///o/model"].entity_type == "Model"
    assert e["job:train"].entity_type == "TrainingJob"
    assert e["job:train"].lineage_type is LineageType.TRIAL_COMPONENT
    assert e["job:train"].properties["HyperParameters"] == {"epochs": 2}
    assert e["job:tune"].properties["BestTrainingJob"] == "tune-002"


def test_models_and_placeholders() -> None:
    job = _job("train", "training", {}, {"model": "file:///o/model"})
    copied = ModelRecord("copy", "file:///elsewhere", "sklearn", 3.0, job_name="train")
    graph = collect_models([ModelRecord("m", "file:///o/model/", "blazingtext", 3.0,
                                        job_name="train"), copied], {"train": job})
    assert _edges(graph) == {("model:m", "artifact:file:///o/model", "DerivedFrom"),
                             ("model:copy", "artifact:file:///elsewhere", "DerivedFrom"),
                             ("job:train", "model:copy", "Produced")}
    # The full model replaces the placeholder a transform job left, whatever the order.
    merged = collect_jobs([_job("p", "transform", {"model_name": "m"})]).merge(graph)
    assert merged.entities["model:m"].properties["Flavor"] == "blazingtext"
    merged = graph.merge(collect_jobs([_job("p", "transform", {"model_name": "m"})]))
    assert merged.entities["model:m"].properties["Flavor"] == "blazingtext"


def test_endpoints() -> None:
    config = EndpointConfigRecord("cfg", {
        "EndpointConfigName": "cfg",
        "ProductionVariants": [{"VariantName": "A", "ModelName": "m1"},
                               {"VariantName": "B", "ModelName": "m2"}],
        "ShadowProductionVariant": {"VariantName": "S", "ModelName": "m3"}}, 4.0)
    graph = collect_endpoints(
        [EndpointRecord("ep", "cfg", EndpointStatus.IN_SERVICE, 5.0, 5.0),
         EndpointRecord("orphan", "gone", EndpointStatus.FAILED, 5.0, 5.0)],
        {"cfg": config}, [FakePackage("reviews", 1, "m1")])
    assert _edges(graph) == {
        ("model:m1", "deployment:ep/A", "ContributedTo"),
        ("model:m2", "deployment:ep/B", "ContributedTo"),
        ("model:m3", "deployment:ep/S", "ContributedTo"),
        ("deployment:ep/A", "endpoint:ep", "AssociatedWith"),
        ("deployment:ep/B", "endpoint:ep", "AssociatedWith"),
        ("deployment:ep/S", "endpoint:ep", "AssociatedWith"),
        ("package:reviews/1", "deployment:ep/A", "ContributedTo"),
    }
    assert graph.entities["deployment:ep/S"].properties["Shadow"] is True
    assert graph.entities["deployment:ep/A"].lineage_type is LineageType.ACTION
    assert graph.entities["endpoint:orphan"].lineage_type is LineageType.CONTEXT


def test_packages_and_executions() -> None:
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                               "S3Uri": "file:///o/ev/evaluation.json"}}}
    graph = collect_packages(
        [FakePackage("reviews", 3, "m", approval_status="Approved", model_metrics=metrics,
                     source={"PipelineExecutionId": "reviews-1", "StepName": "Register"})],
        [FakeGroup("reviews", description="course")])
    assert _edges(graph) == {
        ("package:reviews/3", "model:m", "DerivedFrom"),
        ("package:reviews/3", "group:reviews", "AssociatedWith"),
        ("execution:reviews-1", "package:reviews/3", "ContributedTo"),
        ("artifact:file:///o/ev/evaluation.json", "package:reviews/3", "ContributedTo"),
    }
    assert graph.entities["group:reviews"].properties == {"Description": "course"}
    assert graph.entities["package:reviews/3"].properties["ModelApprovalStatus"] == "Approved"
    runs = collect_executions([FakeExecution("reviews-1", "reviews", parameters={"a": 1})],
                              {"reviews-1": [FakeStep("Prepare", "Processing", job_name="j1"),
                                             FakeStep("Create", "Model",
                                                      metadata={"Model": {"Name": "m"}}),
                                             FakeStep("Check", "Condition")]})
    assert _edges(runs) == {("execution:reviews-1", "pipeline:reviews", "AssociatedWith"),
                            ("job:j1", "execution:reviews-1", "AssociatedWith"),
                            ("model:m", "execution:reviews-1", "AssociatedWith")}
    assert runs.entities["execution:reviews-1"].properties["Parameters"] == {"a": 1}
    # The execution's full entity replaces the package's placeholder.
    merged = graph.merge(runs)
    assert merged.entities["execution:reviews-1"].properties["PipelineName"] == "reviews"
