"""Stand-ins for the registry's and pipelines' records (the collectors read only these
fields), and a workspace filler used by the lineage and experiments tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mlyard.core.records import JobStatus, MetricPoint
from mlyard.core.workspace import Workspace


@dataclass(frozen=True)
class FakeGroup:
    name: str
    created_at: float = 1.0
    description: str | None = None


@dataclass(frozen=True)
class FakePackage:
    group: str
    version: int
    model_name: str
    created_at: float = 5.0
    approval_status: str = "PendingManualApproval"
    description: str | None = None
    model_metrics: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"{self.group}/{self.version}"


@dataclass(frozen=True)
class FakeExecution:
    execution_id: str
    pipeline: str
    status: str = "Succeeded"
    parameters: dict[str, Any] = field(default_factory=dict)
    created_at: float = 3.0
    ended_at: float | None = 9.0


@dataclass(frozen=True)
class FakeStep:
    step_name: str
    step_type: str
    status: str = "Succeeded"
    job_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def stub_other_stores(monkeypatch: pytest.MonkeyPatch, executions: list[Any] | None = None,
                      steps: dict[str, list[Any]] | None = None,
                      groups: list[Any] | None = None,
                      packages: list[Any] | None = None) -> None:
    """Serve the registry's and pipelines' records to the collectors from the lists given
    (hand-made records, without running a pipeline or registering a model)."""
    from mlyard.experiments import collect as experiments_collect
    from mlyard.lineage import collect as lineage_collect

    monkeypatch.setattr(lineage_collect, "registry_records",
                        lambda ws: (list(groups or []), list(packages or [])))

    def pipeline(ws: Workspace) -> tuple[list[Any], dict[str, list[Any]]]:
        return list(executions or []), dict(steps or {})

    monkeypatch.setattr(lineage_collect, "pipeline_records", pipeline)
    monkeypatch.setattr(experiments_collect, "pipeline_records", pipeline)


def finished_job(ws: Workspace, name: str, kind: str, spec: dict[str, Any],
                 outputs: dict[str, str] | None = None,
                 metrics: list[MetricPoint] | None = None) -> None:
    """A Completed job as the runner leaves it."""
    ws.store.create_job(name, kind, spec)
    ws.store.transition_job(name, JobStatus.IN_PROGRESS, expected=[JobStatus.PENDING])
    if metrics:
        ws.store.put_metrics(name, metrics)
    ws.store.transition_job(name, JobStatus.COMPLETED, expected=[JobStatus.IN_PROGRESS],
                            outputs=outputs or {})


def fill(ws: Workspace) -> None:
    """prep (processing) -> train-1 (training) -> model bt-1 -> endpoint reviews, and a
    transform job over bt-1."""
    finished_job(ws, "prep", "processing",
                 {"kind": "processing", "inputs": [{"name": "raw", "source": "/data/raw.csv"}]},
                 {"train": "file:///art/prep/train", "evaluation": "file:///art/prep/ev"})
    finished_job(ws, "train-1", "training",
                 {"kind": "training", "algorithm": "blazingtext",
                  "hyperparameters": {"epochs": 3, "mode": "supervised"},
                  "channels": [{"name": "train", "uri": "file:///art/prep/train/"}]},
                 {"model": "file:///art/train-1/model", "output": "file:///art/train-1/out"},
                 [MetricPoint("train:accuracy", 0.5, 1, 10.0),
                  MetricPoint("train:accuracy", 0.8, 2, 11.0)])
    ws.store.create_model("bt-1", "file:///art/train-1/model", "blazingtext", "train-1")
    finished_job(ws, "predict", "transform",
                 {"kind": "transform", "model_name": "bt-1", "input": "/data/test.jsonl"},
                 {"output": "file:///art/predict/out"})
    from mlyard.serving.store import EndpointStore

    endpoints = EndpointStore.of(ws.store)
    endpoints.create_endpoint_config("cfg-1", {
        "EndpointConfigName": "cfg-1",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "bt-1"}]})
    endpoints.create_endpoint("reviews", "cfg-1", {})
