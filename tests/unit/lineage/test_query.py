"""Lineage queries, the user API and the HTML graph over a filled workspace."""

from __future__ import annotations

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.lineage import add_artifact, add_association
from mlyard.lineage.html import render
from mlyard.lineage.query import TABLE_COLUMNS, lineage
from mlyard.lineage.store import LineageStore
from tests.unit.lineage.fakes import (
    FakeExecution,
    FakeGroup,
    FakePackage,
    FakeStep,
    fill,
    stub_other_stores,
)


@pytest.fixture
def filled(ws: Workspace) -> Workspace:
    fill(ws)
    return ws


def _reached(result: object) -> dict[str, tuple[str, str, int]]:
    return {s.entity.id: (s.direction, s.association_type, s.depth)
            for s in result.steps}  # type: ignore[attr-defined]


def test_upstream_of_a_model_reaches_the_raw_data(filled: Workspace) -> None:
    result = lineage(filled, "bt-1", "upstream")
    assert result.start.id == "model:bt-1"
    reached = _reached(result)
    assert reached["artifact:file:///art/train-1/model"] == ("Input", "DerivedFrom", 1)
    assert reached["job:train-1"] == ("Input", "Produced", 2)
    assert reached["artifact:file:///art/prep/train"] == ("Input", "ContributedTo", 3)
    assert reached["job:prep"][2] == 4
    assert reached["artifact:file:///data/raw.csv"] == ("Input", "ContributedTo", 5)
    assert "endpoint:reviews" not in reached
    table = result.table()
    assert tuple(table.columns) == TABLE_COLUMNS
    assert set(table["Direction"]) == {"Input"}
    row = table[table["Name/Source"] == "train-1"].iloc[0]
    assert (row["Type"], row["Association Type"], row["Lineage Type"]) == (
        "TrainingJob", "Produced", "TrialComponent")
    assert len(lineage(filled, "bt-1", "upstream", max_depth=2).steps) == 2


def test_downstream_and_both(filled: Workspace) -> None:
    down = _reached(lineage(filled, "/data/raw.csv", "downstream"))
    for entity in ("job:prep", "job:train-1", "model:bt-1", "job:predict",
                   "deployment:reviews/AllTraffic", "endpoint:reviews",
                   "artifact:file:///art/predict/out"):
        assert down[entity][0] == "Output", entity
    assert "artifact:file:///data/test.jsonl" not in down  # a sibling input, not downstream
    both = _reached(lineage(filled, "train-1", "both"))
    assert both["artifact:file:///art/prep/train"][0] == "Input"
    assert both["endpoint:reviews"][0] == "Output"
    # syncing again changes nothing
    store = LineageStore.of(filled.store)
    before = len(store.associations_of([e.id for e in store.list_entities()]))
    lineage(filled, "train-1")
    assert len(store.associations_of([e.id for e in store.list_entities()])) == before


def test_references_and_bad_input(filled: Workspace) -> None:
    assert lineage(filled, "endpoint:reviews").start.entity_type == "Endpoint"
    assert lineage(filled, "file:///art/prep/train/").start.entity_type == "DataSet"
    assert lineage(filled, "predict").start.id == "job:predict"
    with pytest.raises(NotFoundError, match="'ghost'"):
        lineage(filled, "ghost")
    with pytest.raises(ValidationError, match="direction"):
        lineage(filled, "bt-1", "sideways")
    with pytest.raises(ValidationError, match="max_depth"):
        lineage(filled, "bt-1", max_depth=0)
    with pytest.raises(ValidationError):
        lineage(filled, "  ")


def test_registry_versions_and_pipeline_executions(filled: Workspace,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    stub_other_stores(
        monkeypatch,
        executions=[FakeExecution("reviews-20260101-ab12", "reviews")],
        steps={"reviews-20260101-ab12": [FakeStep("Prepare", "Processing", job_name="prep"),
                                         FakeStep("Train", "Training", job_name="train-1")]},
        groups=[FakeGroup("reviews")],
        packages=[FakePackage("reviews", 3, "bt-1",
                              source={"PipelineExecutionId": "reviews-20260101-ab12"})])
    up = _reached(lineage(filled, "reviews/3", "upstream"))
    assert up["model:bt-1"] == ("Input", "DerivedFrom", 1)
    assert up["execution:reviews-20260101-ab12"] == ("Input", "ContributedTo", 1)
    assert up["artifact:file:///data/raw.csv"][0] == "Input"
    down = _reached(lineage(filled, "reviews/3", "downstream"))
    assert set(down) >= {"group:reviews", "deployment:reviews/AllTraffic", "endpoint:reviews"}
    steps = _reached(lineage(filled, "reviews-20260101-ab12", "upstream", max_depth=1))
    assert set(steps) == {"job:prep", "job:train-1"}


def test_user_associations_and_escaped_html(filled: Workspace) -> None:
    evil = "s3://data/<script>alert('x')</script>.csv"
    add_association(filled, evil, "prep")
    entity = add_artifact(filled, "s3://bucket/labels.manifest", "DataSet", {"by": "me"})
    add_association(filled, entity.id, "train-1", "AssociatedWith")
    with pytest.raises(ValidationError, match="Sideways"):
        add_association(filled, entity.id, "train-1", "Sideways")
    with pytest.raises(NotFoundError):
        add_association(filled, entity.id, "no-such-thing")
    result = lineage(filled, "bt-1", "both")
    ids = {s.entity.id for s in result.steps}
    assert "artifact:s3://bucket/labels.manifest" in ids
    html = render(result)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<svg" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count("<rect") == len(result.steps) + 1
