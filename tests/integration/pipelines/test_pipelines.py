"""Pipeline executions end to end with real processing jobs: parallel steps, property
references, a condition on a property file, caching, a failing step and retry, stop, and
resume after the driver was killed."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import JobFailedError
from mlyard.pipelines.client import (
    PipelineExecution,
    resume_execution,
    start_pipeline,
    upsert_pipeline,
)
from mlyard.pipelines.store import PipelineStore

MAKE = """
import argparse, os, time
p = argparse.ArgumentParser()
p.add_argument("--out"); p.add_argument("--value"); p.add_argument("--sleep", type=float, default=0)
p.add_argument("--flag", default="")
a = p.parse_args()
time.sleep(a.sleep)
if a.flag and not os.path.exists(a.flag):
    raise SystemExit(f"flag file {a.flag} is missing")
open(os.path.join(a.out, "value.txt"), "w").write(a.value)
print("wrote", a.value)
"""

COMBINE = """
import json, os, sys
a = float(open(os.path.join(sys.argv[1], "value.txt")).read())
b = float(open(os.path.join(sys.argv[2], "value.txt")).read())
os.makedirs(sys.argv[3], exist_ok=True)
json.dump({"metrics": {"accuracy": {"value": a + b}}},
          open(os.path.join(sys.argv[3], "evaluation.json"), "w"))
"""

CACHE = {"Enabled": True, "ExpireAfter": "PT1H"}


def _make(name: str, src: Path, value: str, *, sleep: float = 0, flag: str = "") -> dict[str, Any]:
    args = ["--out", "{output:data}", "--value", value, "--sleep", str(sleep)]
    extra: dict[str, Any] = {}
    if flag:
        args += ["--flag", flag]
        extra["RetryPolicies"] = [{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"],
                                   "IntervalSeconds": 0.1, "BackoffRate": 2.0,
                                   "MaxAttempts": 2}]
    return {"Name": name, "Type": "Processing", "CacheConfig": CACHE, **extra, "Arguments": {
        "EntryPoint": "make.py", "SourceDir": str(src / "make"), "ContainerArguments": args,
        "ProcessingOutputs": [{"OutputName": "data"}]}}


def _out(step: str) -> dict[str, Any]:
    return {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['data'].S3Output.S3Uri"}


def definition(src: Path, *, b_sleep: float = 0, a_sleep: float = 0,
               flag: str = "") -> dict[str, Any]:
    combine = {"Name": "Combine", "Type": "Processing", "CacheConfig": CACHE,
               "PropertyFiles": [{"PropertyFileName": "Evaluation", "OutputName": "metrics",
                                  "FilePath": "evaluation.json"}],
               "Arguments": {
                   "EntryPoint": "combine.py", "SourceDir": str(src / "combine"),
                   "ContainerArguments": ["{input:a}", "{input:b}", "{output:metrics}"],
                   "ProcessingInputs": [{"InputName": "a", "Source": _out("A")},
                                        {"InputName": "b", "Source": _out("B")}],
                   "ProcessingOutputs": [{"OutputName": "metrics"}]}}
    accuracy = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Combine.PropertyFiles.Evaluation"},
                                "Path": "metrics.accuracy.value"}}
    check = {"Name": "Check", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": accuracy,
                        "RightValue": {"Get": "Parameters.MinAccuracy"}}],
        "IfSteps": [{"Name": "Summarize", "Type": "Function", "CacheConfig": CACHE,
                     "Arguments": {"Function": "os.path:join",
                                   "Args": ["x", {"Get": "Steps.Combine.ProcessingJobName"}]}}],
        "ElseSteps": [{"Name": "TooLow", "Type": "Fail", "Arguments": {"ErrorMessage": {
            "Std:Join": {"On": " ", "Values": ["accuracy below",
                                               {"Get": "Parameters.MinAccuracy"}]}}}}]}}
    return {"Version": "2020-12-01",
            "Parameters": [{"Name": "MinAccuracy", "Type": "Float", "DefaultValue": 0.7}],
            "Steps": [_make("A", src, "0.3", sleep=a_sleep),
                      _make("B", src, "0.5", sleep=b_sleep, flag=flag), combine, check]}


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    for name, text in (("make", MAKE), ("combine", COMBINE)):
        (folder / name).mkdir(parents=True)
        (folder / name / f"{name}.py").write_text(textwrap.dedent(text))
    return folder


def _steps(ex: PipelineExecution) -> dict[str, dict[str, Any]]:
    return {s["StepName"]: s for s in ex.list_steps()}


def _job_names(ws: Workspace) -> set[str]:
    return {j.name for j in ws.store.list_jobs(job_type="processing", limit=1000)}


def test_pipeline_runs_branches_and_caches(ws: Workspace, src: Path) -> None:
    upsert_pipeline(ws, "demo", definition(src))
    ex = start_pipeline(ws, "demo", {"MinAccuracy": 0.75})
    record = ex.wait(timeout=60)
    assert record.status == "Succeeded" and record.failure_reason is None
    steps = _steps(ex)
    assert set(steps) == {"A", "B", "Combine", "Check", "Summarize"}  # TooLow never ran
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["Check"]["Metadata"]["Condition"]["Outcome"] == "True"
    assert steps["A"]["Metadata"]["ProcessingJob"]["Arn"] == steps["A"]["JobName"]
    assert all("CacheHitResult" not in s for s in steps.values())
    a, b, c = steps["A"], steps["B"], steps["Combine"]
    assert a["StartTime"] < b["EndTime"] and b["StartTime"] < a["EndTime"]  # in parallel
    assert c["StartTime"] >= max(a["EndTime"], b["EndTime"])
    store = PipelineStore.of(ws.store)
    assert store.get_step(ex.execution_id, "Summarize").properties["ReturnValue"] == \
        f"x/{c['JobName']}"
    jobs = _job_names(ws)

    again = start_pipeline(ws, "demo", {"MinAccuracy": 0.75})
    assert again.wait(timeout=60).status == "Succeeded"
    cached = _steps(again)
    assert _job_names(ws) == jobs  # no step job started
    for name in ("A", "B", "Combine", "Summarize"):
        assert cached[name]["CacheHitResult"]["SourcePipelineExecutionArn"] == ex.execution_id
        assert cached[name]["JobName"] == steps[name]["JobName"]

    # the else branch: the Fail step fails the execution with its message
    low = start_pipeline(ws, "demo", {"MinAccuracy": "0.95"})
    with pytest.raises(JobFailedError, match=r"accuracy below 0\.95"):
        low.wait(timeout=60)
    low_steps = _steps(low)
    assert low_steps["Check"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert low_steps["TooLow"]["StepStatus"] == "Failed"
    assert low_steps["TooLow"]["Metadata"]["Fail"]["ErrorMessage"] == "accuracy below 0.95"
    assert "Summarize" not in low_steps
    assert low.record.failure_reason == "accuracy below 0.95"

    # a changed byte in Combine's script: A and B are still cache hits, Combine runs again
    script = src / "combine" / "combine.py"
    script.write_text(script.read_text() + "\n# changed\n")
    changed = start_pipeline(ws, "demo", {"MinAccuracy": 0.75})
    changed.wait(timeout=60)
    steps_now = _steps(changed)
    assert "CacheHitResult" in steps_now["A"] and "CacheHitResult" in steps_now["B"]
    assert "CacheHitResult" not in steps_now["Combine"]
    assert steps_now["Combine"]["JobName"] == f"{changed.execution_id}-combine-1"


def test_failing_step_then_retry(ws: Workspace, src: Path, tmp_path: Path) -> None:
    flag = tmp_path / "flag"
    upsert_pipeline(ws, "flaky", definition(src, flag=str(flag)))
    ex = start_pipeline(ws, "flaky")
    record = ex.wait(timeout=60, raise_on_failure=False)
    assert record.status == "Failed"
    assert record.failure_reason is not None
    assert record.failure_reason.startswith("step B failed:")
    assert "is missing" in record.failure_reason
    steps = _steps(ex)
    assert steps["B"]["StepStatus"] == "Failed" and "is missing" in steps["B"]["FailureReason"]
    # its retry policy ran it twice
    assert steps["B"]["AttemptCount"] == 2 and steps["B"]["JobName"].endswith("-b-2")
    assert steps["A"]["StepStatus"] == "Succeeded"
    assert "Combine" not in steps and "Check" not in steps
    first_a = steps["A"]["JobName"]

    flag.write_text("ok")
    ex.retry().wait(timeout=60)
    steps = _steps(ex)
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["A"]["JobName"] == first_a and steps["A"]["AttemptCount"] == 1
    assert steps["B"]["AttemptCount"] == 3 and steps["B"]["JobName"].endswith("-b-3")
    assert ex.record.status == "Succeeded"


def test_stop_while_a_step_runs(ws: Workspace, src: Path) -> None:
    upsert_pipeline(ws, "slow", definition(src, b_sleep=60))
    ex = start_pipeline(ws, "slow")
    store = PipelineStore.of(ws.store)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = {s.step_name: s for s in store.list_steps(ex.execution_id)}
        if "B" in rows and rows["B"].status == "Executing":
            break
        time.sleep(0.1)
    record = ex.stop()
    assert record.status == "Stopped"
    steps = _steps(ex)
    assert steps["B"]["StepStatus"] == "Stopped"
    assert ws.store.get_job(steps["B"]["JobName"]).status.value == "Stopped"
    assert "Combine" not in steps


def test_resume_after_the_driver_is_killed(ws: Workspace, src: Path) -> None:
    upsert_pipeline(ws, "resumable", definition(src, b_sleep=4))
    ex = start_pipeline(ws, "resumable")
    store = PipelineStore.of(ws.store)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = {s.step_name: s for s in store.list_steps(ex.execution_id)}
        if rows.get("A") and rows["A"].status == "Succeeded" and rows.get("B") \
                and rows["B"].status == "Executing":
            break
        time.sleep(0.05)
    driver = ws.store.get_job(ex.record.driver_job or "")
    assert driver.pid is not None
    os.killpg(driver.pid, signal.SIGKILL)  # the driver only: step jobs run in their own sessions
    record = ex.wait(timeout=30, raise_on_failure=False)
    assert record.status == "Failed"
    assert "exited without finishing" in (record.failure_reason or "")
    resume_execution(ws, ex.execution_id).wait(timeout=60)
    steps = _steps(ex)
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["A"]["AttemptCount"] == 1 and steps["B"]["AttemptCount"] == 1
    names = _job_names(ws)
    assert not any(n.endswith("-2") for n in names), names  # nothing ran twice
    assert len([n for n in names if n.startswith(ex.execution_id)]) == 4


TRAIN = """
import os
print("acc=0.875", flush=True)
open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("w")
"""


def _training_definition(src: Path, *, register: bool = False) -> dict[str, Any]:
    train = {"Name": "Train", "Type": "Training", "Arguments": {
        "EntryPoint": "train.py", "SourceDir": str(src / "train"),
        "HyperParameters": {"rate": {"Get": "Parameters.Rate"}},
        "MetricDefinitions": [{"Name": "acc", "Regex": "acc=([0-9.]+)"}]}}
    model = {"Name": "CreateModel", "Type": "Model", "Arguments": {
        "SourceModelName": {"Get": "Steps.Train.TrainingJobName"}}}
    branch: list[dict[str, Any]] = [model, {
        "Name": "Where", "Type": "Function", "Arguments": {
            "Function": "os.path:basename",
            "Args": [{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}]}}]
    if register:
        branch.append({"Name": "Register", "Type": "RegisterModel", "Arguments": {
            "ModelPackageGroupName": "demo-group",
            "ModelName": {"Get": "Steps.CreateModel.ModelName"},
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {"Containers": [{"ModelDataUrl": {
                "Get": "Steps.CreateModel.PrimaryContainer.ModelDataUrl"}}]}}})
    check = {"Name": "Good", "Type": "Condition", "Arguments": {
        "Conditions": [{"Type": "GreaterThan",
                        "LeftValue": {"Get": "Steps.Train.FinalMetricDataList['acc'].Value"},
                        "RightValue": 0.5}],
        "IfSteps": branch, "ElseSteps": []}}
    return {"Version": "2020-12-01",
            "Parameters": [{"Name": "Rate", "Type": "String", "DefaultValue": "0.1"}],
            "Steps": [train, check]}


@pytest.fixture
def train_src(src: Path) -> Path:
    (src / "train").mkdir()
    (src / "train" / "train.py").write_text(textwrap.dedent(TRAIN))
    return src


def test_training_model_and_function_steps(ws: Workspace, train_src: Path) -> None:
    upsert_pipeline(ws, "trainer", _training_definition(train_src))
    ex = start_pipeline(ws, "trainer", {"Rate": "0.3"})
    ex.wait(timeout=60)
    store = PipelineStore.of(ws.store)
    train = store.get_step(ex.execution_id, "Train")
    assert train.properties["FinalMetricDataList"]["acc"] == {"MetricName": "acc",
                                                              "Value": 0.875}
    assert train.properties["HyperParameters"]["rate"] == "0.3"
    assert train.metadata == {"TrainingJob": {"Arn": train.job_name}}
    model = store.get_step(ex.execution_id, "CreateModel").properties
    assert model["ModelName"] == f"{ex.execution_id}-createmodel"
    assert ws.store.get_model(model["ModelName"]).job_name == train.job_name
    where = store.get_step(ex.execution_id, "Where").properties["ReturnValue"]
    assert where == "model"


def test_register_model_step(ws: Workspace, train_src: Path) -> None:
    upsert_pipeline(ws, "registered", _training_definition(train_src, register=True))
    ex = start_pipeline(ws, "registered")
    ex.wait(timeout=60)
    step = PipelineStore.of(ws.store).get_step(ex.execution_id, "Register")
    assert step.properties["ModelPackageGroupName"] == "demo-group"
    assert step.properties["ModelPackageArn"] == "demo-group/1"
    assert step.properties["ModelApprovalStatus"] == "PendingManualApproval"
    assert _steps(ex)["Register"]["Metadata"] == {"RegisterModel": {"Arn": "demo-group/1"}}


def test_the_python_objects_run(ws: Workspace, src: Path, monkeypatch: pytest.MonkeyPatch
                                ) -> None:
    import mlyard
    from mlyard.pipelines import (
        ConditionLessThan,
        FailStep,
        ParameterString,
        Pipeline,
        ProcessingStep,
    )
    from mlyard.pipelines.steps import ConditionStep

    paths = [str(Path(p).resolve()) for p in os.environ.get("PYTHONPATH", "").split(
        os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))  # jobs run from src/ below
    monkeypatch.chdir(src)  # relative source folders resolve from here, as for a job
    value = ParameterString("Value", default_value="0.25")
    make = ProcessingStep("Make", processor=mlyard.Processor(entry_point="make.py",
                                                             source_dir="make"),
                          outputs=["data"], job_arguments=["--out", "{output:data}",
                                                           "--value", value])
    check = ConditionStep("Check", conditions=[ConditionLessThan(value, "0.5")],
                          if_steps=[], else_steps=[FailStep("Big", error_message="too big")])
    pipe = Pipeline("objects", parameters=[value], steps=[make, check])
    pipe.upsert()
    execution = pipe.start()
    assert execution.wait(timeout=60).status == "Succeeded"
    out = PipelineStore.of(ws.store).get_step(execution.execution_id, "Make").properties
    uri = out["ProcessingOutputConfig"]["Outputs"]["data"]["S3Output"]["S3Uri"]
    assert (ws.artifacts.materialize(uri, ws.cache_dir) / "value.txt").read_text() == "0.25"
    assert [e.execution_id for e in pipe.list_executions()] == [execution.execution_id]
