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
    if flag:
        args += ["--flag", flag]
    return {"Name": name, "Type": "Processing", "CacheConfig": CACHE, "Arguments": {
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
            "Std:Join": {"On": " ", "Values": ["accuracy below", {"Get": "Parameters.MinAccuracy"}]}}}}]}}
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
    with pytest.raises(JobFailedError, match="accuracy below 0.95"):
        low.wait(timeout=60)
    low_steps = _steps(low)
    assert low_steps["Check"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert low_steps["TooLow"]["StepStatus"] == "Failed"
    assert low_steps["TooLow"]["Metadata"]["Fail"]["ErrorMessage"] == "accuracy below 0.95"
    assert "Summarize" not in low_steps
    assert low.record.failure_reason == "accuracy below 0.95"


def test_changed_input_is_not_a_cache_hit(ws: Workspace, src: Path) -> None:
    upsert_pipeline(ws, "demo", definition(src))
    first = start_pipeline(ws, "demo")
    first.wait(timeout=60)
    script = src / "combine" / "combine.py"
    script.write_text(script.read_text() + "\n# changed\n")
    second = start_pipeline(ws, "demo")
    second.wait(timeout=60)
    steps = _steps(second)
    assert "CacheHitResult" in steps["A"] and "CacheHitResult" in steps["B"]
    assert "CacheHitResult" not in steps["Combine"]
    assert steps["Combine"]["JobName"] != _steps(first)["Combine"]["JobName"]


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
    assert steps["A"]["StepStatus"] == "Succeeded"
    assert "Combine" not in steps and "Check" not in steps
    first_a = steps["A"]["JobName"]

    flag.write_text("ok")
    ex.retry().wait(timeout=60)
    steps = _steps(ex)
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["A"]["JobName"] == first_a and steps["A"]["AttemptCount"] == 1
    assert steps["B"]["AttemptCount"] == 2 and steps["B"]["JobName"].endswith("-b-2")
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
