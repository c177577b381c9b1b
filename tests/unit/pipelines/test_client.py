"""The pipelines client's checks before anything starts: a definition that does not
validate is not stored, bad parameters create no execution, and control of executions
in the wrong state is refused (no job runs in these tests)."""

from __future__ import annotations

import time

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.pipelines import client
from mlyard.pipelines.store import PipelineExecutionRecord, PipelineStore

DEFINITION = {"Version": "2020-12-01",
              "Parameters": [{"Name": "N", "Type": "Integer", "DefaultValue": 3}],
              "Steps": [{"Name": "Stop", "Type": "Fail",
                         "Arguments": {"ErrorMessage": {"Get": "Parameters.N"}}}]}


def test_upsert_checks_the_definition_first(ws: Workspace) -> None:
    bad = {**DEFINITION, "Steps": [{"Name": "A", "Type": "Fail", "DependsOn": ["Ghost"],
                                    "Arguments": {}}]}
    with pytest.raises(ValidationError, match="Ghost"):
        client.upsert_pipeline(ws, "p", bad)
    assert client.list_pipelines(ws) == []
    with pytest.raises(ValidationError, match="invalid job name"):
        client.upsert_pipeline(ws, "bad name", DEFINITION)
    first = client.upsert_pipeline(ws, "p", DEFINITION, description="d")
    assert first.version == 1
    assert client.upsert_pipeline(ws, "p", DEFINITION).version == 1
    changed = {**DEFINITION, "Parameters": [{"Name": "N", "Type": "Integer",
                                             "DefaultValue": 4}]}
    assert client.upsert_pipeline(ws, "p", changed).version == 2
    desc = client.describe_pipeline(ws, "p")
    assert desc["PipelineVersion"] == 2 and desc["LastExecution"] is None


def test_bad_parameters_start_nothing(ws: Workspace) -> None:
    client.upsert_pipeline(ws, "p", DEFINITION)
    with pytest.raises(ValidationError, match="N"):
        client.start_pipeline(ws, "p", {"N": "many"})
    with pytest.raises(ValidationError, match="Robot"):
        client.start_pipeline(ws, "p", {"Robot": 1})
    with pytest.raises(NotFoundError):
        client.start_pipeline(ws, "ghost")
    with pytest.raises(ValidationError, match="parallelism"):
        client.start_pipeline(ws, "p", parallelism=0)
    assert client.list_executions(ws, "p") == []
    assert ws.store.list_jobs() == []


def test_control_in_the_wrong_state_is_refused(ws: Workspace) -> None:
    client.upsert_pipeline(ws, "p", DEFINITION)
    pipes = PipelineStore.of(ws.store)
    pipes.create_execution(PipelineExecutionRecord("p-1", "p", 1, "Succeeded", {"N": 3},
                                                   time.time()), DEFINITION)
    for action in (client.retry_execution, client.resume_execution, client.stop_execution):
        with pytest.raises(ConflictError, match="Succeeded"):
            action(ws, "p-1")
    with pytest.raises(NotFoundError):
        client.PipelineExecution(ws, "ghost").describe()
    assert client.PipelineExecution(ws, "p-1").wait(timeout=1).status == "Succeeded"
    # an execution whose driver never existed and that is Executing can be stopped
    pipes.create_execution(PipelineExecutionRecord("p-2", "p", 1, "Executing", {"N": 3},
                                                   time.time()), DEFINITION)
    assert client.stop_execution(ws, "p-2").status == "Stopped"
    with pytest.raises(ConflictError, match="running execution"):
        pipes.create_execution(PipelineExecutionRecord("p-3", "p", 1, "Executing", {},
                                                       time.time()), DEFINITION)
        client.delete_pipeline(ws, "p")
    pipes.transition_execution("p-3", "Failed", expected=["Executing"])
    client.delete_pipeline(ws, "p")
    assert client.list_pipelines(ws) == []


def test_execution_ids_fit_the_job_name_rule() -> None:
    from mlyard.core.specs import check_job_name

    eid = client.new_execution_id("x" * 63)
    assert len(eid) <= 63
    check_job_name(eid)
    assert eid.startswith("x" * 43 + "-")
