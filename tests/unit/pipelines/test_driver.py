"""The pipeline driver's scheduling, run in this process on steps that need no job
(condition, fail, model): branches, steps after a branch not taken, a failing step,
a bad property path, stop, and taking over stored steps."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError
from mlyard.pipelines.driver import PipelineDriver
from mlyard.pipelines.spec import PipelineExecutionJobSpec
from mlyard.pipelines.store import (
    PipelineExecutionRecord,
    PipelineStore,
    StepExecutionRecord,
)


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str, **_: Any) -> None:
        self.lines.append(text)

    def metric(self, *_: Any, **__: Any) -> None:
        pass


def _cond(name: str, left: Any, right: Any, if_steps: list[Any],
          else_steps: list[Any]) -> dict[str, Any]:
    return {"Name": name, "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": left,
                        "RightValue": right}],
        "IfSteps": if_steps, "ElseSteps": else_steps}}


def _fail(name: str, message: Any = "no", **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Fail", "Arguments": {"ErrorMessage": message}, **extra}


def _model(name: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"Name": name, "Type": "Model", "Arguments": {"ModelName": f"m-{name.lower()}",
                                                         "SourceModelName": source}, **extra}


def _definition(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2020-12-01",
            "Parameters": [{"Name": "X", "Type": "Float", "DefaultValue": 1.0}],
            "Steps": list(steps)}


def _run(ws: Workspace, definition: dict[str, Any], params: dict[str, Any] | None = None,
         *, stop: bool = False, steps: tuple[StepExecutionRecord, ...] = ()
         ) -> tuple[str, str | None]:
    pipes = PipelineStore.of(ws.store)
    pipes.put_pipeline("p", definition)
    eid = f"p-{len(pipes.list_executions()) + 1}"
    pipes.create_execution(PipelineExecutionRecord(
        eid, "p", 1, "Executing", {"X": 1.0, **(params or {})}, time.time()), definition)
    for record in steps:
        pipes.put_step(StepExecutionRecord(**{**record.__dict__, "execution_id": eid}))
    log: Any = Log()
    driver = PipelineDriver(ws, eid, PipelineExecutionJobSpec(execution_id=eid), log,
                            lambda: stop)
    with contextlib.suppress(MlyardError):
        driver.run()
    return eid, pipes.get_execution(eid).failure_reason


def _statuses(ws: Workspace, eid: str) -> dict[str, str]:
    return {s.step_name: s.status for s in PipelineStore.of(ws.store).list_steps(eid)}


@pytest.fixture
def base_model(ws: Workspace) -> str:
    ws.store.create_model("base", "file:///models/base", "blazingtext", job_name=None)
    return "base"


def test_branches_and_steps_after_a_branch_not_taken(ws: Workspace, base_model: str) -> None:
    defn = _definition(
        _cond("Check", {"Get": "Parameters.X"}, 0.5,
              [_model("Good", base_model), _model("AfterGood", {"Get": "Steps.Good.ModelName"})],
              [_model("Bad", base_model), _model("AfterBad", base_model, DependsOn=["Bad"])]))
    eid, reason = _run(ws, defn)
    assert reason is None
    assert _statuses(ws, eid) == {"Check": "Succeeded", "Good": "Succeeded",
                                  "AfterGood": "Succeeded"}
    assert PipelineStore.of(ws.store).get_execution(eid).status == "Succeeded"
    after = PipelineStore.of(ws.store).get_step(eid, "AfterGood")
    assert after.properties["ModelName"] == "m-aftergood"
    assert ws.store.get_model("m-aftergood").uri == "file:///models/base"
    assert after.metadata == {"Model": {"Arn": "m-aftergood", "Name": "m-aftergood"}}
    # the other branch
    eid, reason = _run(ws, defn, {"X": 0.1})
    assert reason is None
    assert _statuses(ws, eid) == {"Check": "Succeeded", "Bad": "Succeeded",
                                  "AfterBad": "Succeeded"}


def test_a_failing_step_fails_the_execution_and_nothing_after_it_starts(
        ws: Workspace, base_model: str) -> None:
    defn = _definition(_fail("Stop", {"Std:Join": {"On": "=", "Values": ["x",
                                                   {"Get": "Parameters.X"}]}}),
                       _model("Later", base_model, DependsOn=["Stop"]),
                       _model("Free", base_model))
    eid, reason = _run(ws, defn)
    assert reason == "x=1.0"
    statuses = _statuses(ws, eid)
    assert statuses["Stop"] == "Failed" and "Later" not in statuses
    assert PipelineStore.of(ws.store).get_execution(eid).status == "Failed"


def test_a_model_step_naming_a_missing_model_fails_with_the_step_name(ws: Workspace) -> None:
    _, reason = _run(ws, _definition(_model("M", "ghost")))
    assert reason is not None and reason.startswith("step M failed:")
    assert "ghost" in reason


def test_stop(ws: Workspace, base_model: str) -> None:
    eid, _ = _run(ws, _definition(_model("M", base_model)), stop=True)
    assert PipelineStore.of(ws.store).get_execution(eid).status == "Stopped"
    assert _statuses(ws, eid) == {}


def test_stored_succeeded_steps_are_kept(ws: Workspace, base_model: str) -> None:
    done = StepExecutionRecord("", "First", "Model", "Succeeded", ended_at=time.time(),
                               properties={"ModelName": base_model,
                                           "PrimaryContainer": {"ModelDataUrl": "file:///x"}})
    defn = _definition(_model("First", "ghost"),
                       _model("Second", {"Get": "Steps.First.ModelName"}))
    eid, reason = _run(ws, defn, steps=(done,))
    assert reason is None
    assert _statuses(ws, eid) == {"First": "Succeeded", "Second": "Succeeded"}


def test_steps_waiting_to_start_end_failed_when_the_execution_fails(
        ws: Workspace, base_model: str) -> None:
    waiting = StepExecutionRecord("", "Later", "Model", "Starting", attempt=2)
    eid, reason = _run(ws, _definition(_fail("Boom", "boom"), _model("Later", base_model)),
                       steps=(waiting,))
    assert reason == "boom"
    later = PipelineStore.of(ws.store).get_step(eid, "Later")
    assert later.status == "Failed" and later.attempt == 2
    assert later.failure_reason == "not started; not retried: the execution failed"


def test_a_deep_ladder_of_diamonds_waiting_on_a_running_step_is_walked_once(
        ws: Workspace) -> None:
    from mlyard.pipelines.driver import Running

    steps: list[dict[str, Any]] = [_cond("Root", 1, 1, [], [])]
    previous = ["Root"]
    for layer in range(20):
        names = [f"L{layer}a", f"L{layer}b"]
        for name in names:
            steps.append({**_cond(name, 1, 1, [], []), "DependsOn": previous})
        previous = names
    defn = _definition(*steps)
    pipes = PipelineStore.of(ws.store)
    pipes.put_pipeline("p", defn)
    pipes.create_execution(PipelineExecutionRecord("p-1", "p", 1, "Executing", {"X": 1.0},
                                                   time.time()), defn)
    log: Any = Log()
    driver = PipelineDriver(ws, "p-1", PipelineExecutionJobSpec(execution_id="p-1"), log,
                            lambda: False)
    driver.running["Root"] = Running("Root", "root-job", 1)  # as if its job still ran
    started = time.monotonic()
    driver._launch_ready()
    assert time.monotonic() - started < 1.0  # 2**20 walks without the pass' memo
    assert pipes.list_steps("p-1") == []  # everything waits for Root
