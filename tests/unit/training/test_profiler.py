"""Unit tests of mlyard.training.profiler: config, system monitor, step profiler, rules, report."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mlyard.training.profiler import (
    PROFILER_CONFIG_ENV,
    PROFILER_RULES,
    ProfileData,
    ProfilerConfig,
    ProfilerRuleResult,
    StepProfiler,
    SystemMonitor,
    build_report,
    profiler_env,
)
from mlyard.training.rule_store import RuleEvaluationStatus

RULE_NAMES = [
    "BatchSize",
    "CPUBottleneck",
    "Dataloader",
    "GPUMemoryIncrease",
    "IOBottleneck",
    "LoadBalancing",
    "LowGPUUtilization",
    "MaxInitializationTime",
    "OverallFrameworkMetrics",
    "OverallSystemUsage",
    "StepOutlier",
]
SYSTEM_FIELDS = {
    "time",
    "cpu_percent_per_core",
    "cpu_percent",
    "cpu_iowait_percent",
    "memory_percent",
    "memory_used_bytes",
    "process_cpu_percent",
    "process_rss_bytes",
    "disk_read_bytes_per_s",
    "disk_write_bytes_per_s",
    "net_sent_bytes_per_s",
    "net_recv_bytes_per_s",
    "gpus",
}
GPU_RULES = ["CPUBottleneck", "GPUMemoryIncrease", "LowGPUUtilization"]


# ---------------------------------------------------------------------- synthetic profiles
def _write_jsonl(path: Path, records: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


def _steps(
    out: Path,
    durations: Sequence[float],
    rank: int = 0,
    dataloader: float | None = None,
    t0: float = 1_000.0,
    init_at: float | None = None,
    gpu_memory: Sequence[float] | None = None,
) -> None:
    """Write an init record and one step per duration (back to back from ``t0``)."""
    records: list[dict[str, Any]] = [
        {
            "event": "init",
            "time": t0 if init_at is None else init_at,
            "pid": 1,
            "process_start": (t0 if init_at is None else init_at) - 1.0,
            "rank": rank,
            "cpu_count": 4,
            "num_threads": 6,
        }
    ]
    start = t0
    for i, duration in enumerate(durations):
        records.append(
            {
                "event": "step",
                "step": i,
                "start": start,
                "end": start + duration,
                "duration": duration,
                "dataloader": None if dataloader is None else dataloader * duration,
                "batch_size": 8,
                "gpu_memory_allocated": None if gpu_memory is None else gpu_memory[i],
            }
        )
        start += duration
    _write_jsonl(out / f"framework-rank{rank}.jsonl", records)


def _system(
    out: Path,
    n: int,
    cpu: float = 50.0,
    iowait: float = 0.0,
    gpus: Sequence[tuple[float, float]] = (),
    t0: float = 999.0,
) -> None:
    """``n`` system samples 0.5 s apart; ``gpus``: (utilisation %, memory %) per GPU."""
    records = []
    for i in range(n):
        records.append(
            {
                "time": t0 + 0.5 * i,
                "cpu_percent_per_core": [cpu, cpu],
                "cpu_percent": cpu,
                "cpu_iowait_percent": iowait,
                "memory_percent": 20.0,
                "memory_used_bytes": 2 * 2**30,
                "memory_total_bytes": 10 * 2**30,
                "process_cpu_percent": 2 * cpu,
                "process_rss_bytes": 2**30,
                "disk_read_bytes_per_s": 1000.0,
                "disk_write_bytes_per_s": 0.0,
                "net_sent_bytes_per_s": 0.0,
                "net_recv_bytes_per_s": 0.0,
                "gpus": [
                    {
                        "index": g,
                        "utilization_percent": util,
                        "memory_used_bytes": int(mem * 2**30 / 100 * 16),
                        "memory_total_bytes": 16 * 2**30,
                    }
                    for g, (util, mem) in enumerate(gpus)
                ],
            }
        )
    _write_jsonl(out / "system-metrics.jsonl", records)


def _rule(name: str, out: Path, **parameters: Any) -> ProfilerRuleResult:
    return PROFILER_RULES[name](**parameters).evaluate(ProfileData.load(out))


# ---------------------------------------------------------------------- config
def test_config_defaults_and_env(tmp_path: Path) -> None:
    config = ProfilerConfig()
    assert config.system_interval_ms == 500
    assert (config.framework_start_step, config.framework_num_steps) == (5, 3)
    assert config.rules == RULE_NAMES == list(PROFILER_RULES)
    assert config.rule_parameters == {}
    env = profiler_env(ProfilerConfig(framework_start_step=2, framework_num_steps=0), tmp_path)
    assert list(env) == [PROFILER_CONFIG_ENV] == ["MLYARD_PROFILER_CONFIG"]
    assert json.loads(env[PROFILER_CONFIG_ENV]) == {
        "out_dir": str(tmp_path),
        "framework_start_step": 2,
        "framework_num_steps": 0,
    }
    custom = ProfilerConfig(
        rules=["StepOutlier"], rule_parameters={"StepOutlier": {"stddev": 2, "mode": "TRAIN"}}
    )
    assert custom.parameters_of("StepOutlier") == {"stddev": 2, "mode": "TRAIN"}
    with pytest.raises(ValidationError):
        config.system_interval_ms = 1000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"system_interval_ms": 50}, "greater than or equal to 100"),
        ({"system_interval_ms": 60_001}, "less than or equal to 60000"),
        ({"framework_start_step": 0}, "greater than or equal to 1"),
        ({"framework_num_steps": -1}, "greater than or equal to 0"),
        (
            {"rules": ["StepOutlier", "Nope"]},
            "unknown profiler rule 'Nope'; known rules: BatchSize",
        ),
        ({"rules": ["BatchSize", "BatchSize"]}, "listed twice: BatchSize"),
        ({"rule_parameters": {"Nope": {}}}, "unknown profiler rule 'Nope'"),
        ({"rule_parameters": {"StepOutlier": {"sigma": 2}}}, "has no parameter 'sigma'"),
        ({"rule_parameters": {"StepOutlier": {"stddev": "x"}}}, "stddev must be a number"),
        ({"rule_parameters": {"StepOutlier": {"mode": "PREDICT"}}}, "mode must be"),
        ({"rule_parameters": {"BatchSize": {"window": 0}}}, "window must be >= 1"),
        ({"rule_parameters": {"BatchSize": {"patience": 1.5}}}, "patience must be an integer"),
        ({"rule_parameters": {"Dataloader": {"min_threshold": -1}}}, "finite and >= 0"),
        ({"sampling": 1}, "Extra inputs are not permitted"),
    ],
)
def test_config_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ProfilerConfig(**kwargs)


def test_config_error_lists_every_rule() -> None:
    with pytest.raises(ValidationError) as info:
        ProfilerConfig(rules=["Nope"])
    assert all(name in str(info.value) for name in RULE_NAMES)


def test_package_imports_without_torch_or_matplotlib() -> None:
    code = (
        "import sys, mlyard.training.profiler as p; "
        "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules; "
        "print(len(p.PROFILER_RULES))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "11"


# ---------------------------------------------------------------------- system monitor
def test_system_monitor_samples_process_tree(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        monitor = SystemMonitor(tmp_path / "prof", interval_seconds=0.2)
        with monitor:
            time.sleep(1.2)
        monitor.stop()  # idempotent
    finally:
        child.kill()
        child.wait()
    lines = (tmp_path / "prof" / "system-metrics.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    assert 3 <= len(samples) <= 7, len(samples)
    assert monitor.samples_written == len(samples)
    for sample in samples:
        assert set(sample) >= SYSTEM_FIELDS
        assert len(sample["cpu_percent_per_core"]) >= 1
        assert 0.0 <= sample["cpu_percent"] <= 100.0
        assert 0.0 < sample["memory_percent"] < 100.0
        assert sample["memory_used_bytes"] > 0
        assert sample["process_rss_bytes"] > 0
        assert sample["process_cpu_percent"] >= 0.0
        assert isinstance(sample["gpus"], list)
        if sys.platform.startswith("linux"):
            assert sample["cpu_iowait_percent"] is not None
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(samples)]
    assert all(0.1 <= gap <= 1.0 for gap in gaps), gaps
    assert max(s["process_count"] for s in samples) >= 2  # the child was counted


def test_system_monitor_survives_a_dead_root(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    monitor = SystemMonitor(tmp_path, interval_seconds=0.5, root_pid=gone.pid)
    monitor.start()
    sample = monitor.sample()
    monitor.stop()
    assert sample["process_cpu_percent"] == 0.0
    assert sample["process_rss_bytes"] == 0
    with pytest.raises(ValueError, match="interval_seconds must be > 0"):
        SystemMonitor(tmp_path, interval_seconds=0)


# ---------------------------------------------------------------------- step profiler
def test_step_profiler_torch_loop(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    out = tmp_path / "prof"
    profiler = StepProfiler(out, rank=0, framework_start_step=3, framework_num_steps=2)
    model = torch.nn.Linear(16, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(10):
        with profiler.step(step, batch_size=8):
            x = torch.randn(8, 16)
            time.sleep(0.002)
            profiler.dataloader_done()
            loss = model(x).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    profiler.close()
    profiler.close()  # idempotent

    records = [json.loads(x) for x in (out / "framework-rank0.jsonl").read_text().splitlines()]
    init = records[0]
    assert init["event"] == "init" and init["rank"] == 0 and init["process_start"] <= init["time"]
    steps = [r for r in records if r["event"] == "step"]
    assert [s["step"] for s in steps] == list(range(10))
    for s in steps:
        assert s["end"] >= s["start"] and s["duration"] > 0
        assert 0.002 <= s["dataloader"] <= s["duration"]
        assert s["batch_size"] == 8 and s["gpu_memory_allocated"] is None
    (trace,) = [r for r in records if r["event"] == "trace"]
    assert (trace["start_step"], trace["end_step"]) == (3, 4)
    assert trace["path"] == "torch-trace-rank0.json"
    assert records[-1]["event"] == "close"
    assert any(r["event"] == "resources" for r in records)

    chrome = json.loads((out / "torch-trace-rank0.json").read_text())
    assert chrome["traceEvents"]
    ops = json.loads((out / "framework-ops-rank0.json").read_text())
    assert 0 < len(ops["ops"]) <= 30
    first = ops["ops"][0]
    assert {"name", "count", "self_cpu_time_us", "cpu_time_us"} <= set(first)
    selfs = [op["self_cpu_time_us"] for op in ops["ops"]]
    assert selfs == sorted(selfs, reverse=True)
    assert any(op["name"] == "aten::addmm" for op in ops["ops"])


def test_step_profiler_without_tracing_and_failed_steps(tmp_path: Path) -> None:
    profiler = StepProfiler(tmp_path, rank=1, framework_start_step=1, framework_num_steps=0)
    profiler.step_start(0)
    profiler.step_end()  # no dataloader_done: data loading unknown
    with pytest.raises(StopIteration), profiler.step(1):
        raise StopIteration
    with pytest.raises(RuntimeError, match=r"step_end\(\) without step_start\(\)"):
        profiler.step_end()
    profiler.close()
    records = [
        json.loads(x) for x in (tmp_path / "framework-rank1.jsonl").read_text().split("\n") if x
    ]
    steps = [r for r in records if r["event"] == "step"]
    assert [s["step"] for s in steps] == [0]
    assert steps[0]["dataloader"] is None
    assert not any(r["event"] == "trace" for r in records)
    assert not (tmp_path / "torch-trace-rank1.json").exists()
    with pytest.raises(RuntimeError, match="StepProfiler is closed"):
        profiler.step_start(2)


def test_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROFILER_CONFIG_ENV, raising=False)
    assert StepProfiler.from_env() is None
    env = profiler_env(ProfilerConfig(framework_start_step=7, framework_num_steps=1), tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("RANK", "2")
    profiler = StepProfiler.from_env()
    assert profiler is not None
    try:
        assert (profiler.rank, profiler.framework_start_step, profiler.framework_num_steps) == (
            2,
            7,
            1,
        )
        assert profiler.path == tmp_path / "framework-rank2.jsonl"
    finally:
        profiler.close()
    explicit = StepProfiler.from_env(rank=0)
    assert explicit is not None
    explicit.close()
    assert (tmp_path / "framework-rank0.jsonl").exists()


# ---------------------------------------------------------------------- rules
def test_step_outlier(tmp_path: Path) -> None:
    spiky = [0.1] * 30
    spiky[17] = 2.0
    _steps(tmp_path / "spiky", spiky)
    result = _rule("StepOutlier", tmp_path / "spiky")
    assert result.status == RuleEvaluationStatus.ISSUES_FOUND
    assert result.triggers == 1
    assert [o["step"] for o in result.details["outliers"]] == [17]

    _steps(tmp_path / "flat", [0.1] * 30)
    flat = _rule("StepOutlier", tmp_path / "flat")
    assert flat.status == RuleEvaluationStatus.NO_ISSUES_FOUND and flat.triggers == 0

    # The slow first steps are warm-up, not outliers.
    _steps(tmp_path / "warm", [3.0, 2.0] + [0.1] * 28)
    assert _rule("StepOutlier", tmp_path / "warm").triggers == 0
    # mode filters steps: none of ours is an EVAL step.
    assert _rule("StepOutlier", tmp_path / "spiky", mode="EVAL").triggers == 0


def test_dataloader(tmp_path: Path) -> None:
    _steps(tmp_path / "slow", [0.2] * 10, dataloader=0.5)
    result = _rule("Dataloader", tmp_path / "slow")
    assert result.status == RuleEvaluationStatus.ISSUES_FOUND
    assert result.details["dataloader_percent"] == pytest.approx(50.0)
    assert result.details["cpu_count"] == 4 and result.details["num_threads"] == 6

    _steps(tmp_path / "fast", [0.2] * 10, dataloader=0.05)
    assert _rule("Dataloader", tmp_path / "fast").status == RuleEvaluationStatus.NO_ISSUES_FOUND
    # share_threshold is configurable.
    assert _rule("Dataloader", tmp_path / "fast", share_threshold=1).triggers == 1

    _steps(tmp_path / "unknown", [0.2] * 10)
    unknown = _rule("Dataloader", tmp_path / "unknown")
    assert unknown.status == RuleEvaluationStatus.NO_ISSUES_FOUND
    assert "dataloader_done" in unknown.message


def test_max_initialization_time(tmp_path: Path) -> None:
    _steps(tmp_path, [0.1] * 5, init_at=900.0, t0=1_000.0)
    tiny = _rule("MaxInitializationTime", tmp_path, threshold=1e-6)
    assert tiny.status == RuleEvaluationStatus.ISSUES_FOUND
    assert tiny.details["initialization_seconds"] == pytest.approx(101.0)  # from process start
    assert _rule("MaxInitializationTime", tmp_path).status == RuleEvaluationStatus.NO_ISSUES_FOUND

    # A process far older than the job's first system sample (jobs run inside a long-lived
    # process) does not count: the job started with the monitor.
    _system(tmp_path / "inproc", 4, t0=5_000.0)
    _write_jsonl(
        tmp_path / "inproc" / "framework-rank0.jsonl",
        [{"event": "init", "time": 5_010.0, "process_start": 1_000.0}],
    )
    _steps(tmp_path / "inproc", [0.1] * 5, init_at=5_020.0, t0=5_030.0)
    inproc = _rule("MaxInitializationTime", tmp_path / "inproc", threshold=0.4)
    assert inproc.details["initialization_seconds"] == pytest.approx(30.0)
    assert inproc.status == RuleEvaluationStatus.ISSUES_FOUND

    # No step at all: the time up to the last record counts.
    _write_jsonl(
        tmp_path / "stuck" / "framework-rank0.jsonl",
        [{"event": "init", "time": 0.0, "process_start": 0.0}, {"event": "close", "time": 1800.0}],
    )
    stuck = _rule("MaxInitializationTime", tmp_path / "stuck")
    assert stuck.status == RuleEvaluationStatus.ISSUES_FOUND and "No training step" in stuck.message


def test_load_balancing(tmp_path: Path) -> None:
    _steps(tmp_path / "uneven", [1.0] * 10, rank=0)
    _steps(tmp_path / "uneven", [0.1] * 10, rank=1)
    result = _rule("LoadBalancing", tmp_path / "uneven")
    assert result.status == RuleEvaluationStatus.ISSUES_FOUND
    assert result.details["rank_imbalance"] == pytest.approx(0.9)

    _steps(tmp_path / "even", [0.1] * 10, rank=0)
    _steps(tmp_path / "even", [0.12] * 10, rank=1)
    assert _rule("LoadBalancing", tmp_path / "even").triggers == 0

    _system(tmp_path / "gpus", 20, gpus=[(95.0, 50.0), (20.0, 50.0)])
    assert _rule("LoadBalancing", tmp_path / "gpus").details["gpu_imbalance"] == pytest.approx(
        75 / 95, abs=1e-3
    )


def test_gpu_rules_on_cpu_data(tmp_path: Path) -> None:
    _system(tmp_path, 20)
    _steps(tmp_path, [0.1] * 10)
    for name in GPU_RULES:
        result = _rule(name, tmp_path)
        assert result.status == RuleEvaluationStatus.NO_ISSUES_FOUND, name
        assert "no GPU" in result.message, name


def test_gpu_rules_on_gpu_data(tmp_path: Path) -> None:
    _system(tmp_path / "idle", 40, cpu=95.0, gpus=[(5.0, 10.0)])
    assert _rule("CPUBottleneck", tmp_path / "idle").triggers == 1
    low = _rule("LowGPUUtilization", tmp_path / "idle")
    assert low.triggers == 1 and low.details["flagged_windows"][0]["kind"] == "low"
    # CPU busy: not a batch-size problem.
    assert _rule("BatchSize", tmp_path / "idle").triggers == 0

    _system(tmp_path / "underused", 40, cpu=20.0, gpus=[(30.0, 20.0)])
    assert _rule("BatchSize", tmp_path / "underused").triggers == 1
    _system(tmp_path / "busy", 40, cpu=20.0, gpus=[(99.0, 80.0)])
    assert _rule("LowGPUUtilization", tmp_path / "busy").triggers == 0
    assert _rule("CPUBottleneck", tmp_path / "busy").triggers == 0

    growing = [1e9 * (1 + 0.5 * (i // 10)) for i in range(40)]
    _steps(tmp_path / "leak", [0.1] * 40, gpu_memory=growing)
    leak = _rule("GPUMemoryIncrease", tmp_path / "leak")
    assert leak.status == RuleEvaluationStatus.ISSUES_FOUND
    _steps(tmp_path / "steady", [0.1] * 40, gpu_memory=[1e9] * 40)
    assert _rule("GPUMemoryIncrease", tmp_path / "steady").triggers == 0


def test_io_bottleneck_and_batch_size_on_cpu(tmp_path: Path) -> None:
    _system(tmp_path / "io", 20, cpu=10.0, iowait=80.0)
    io = _rule("IOBottleneck", tmp_path / "io")
    assert io.status == RuleEvaluationStatus.ISSUES_FOUND
    assert io.details["io_bottleneck_percent"] == pytest.approx(100.0)
    # Mostly idle CPU, job uses 10% of memory: a bigger batch would use the machine.
    assert _rule("BatchSize", tmp_path / "io").status == RuleEvaluationStatus.ISSUES_FOUND

    _system(tmp_path / "busy", 20, cpu=95.0)
    assert _rule("IOBottleneck", tmp_path / "busy").triggers == 0
    assert _rule("BatchSize", tmp_path / "busy").triggers == 0


def test_patience_skips_warm_up_samples(tmp_path: Path) -> None:
    _system(tmp_path, 30, cpu=10.0, iowait=80.0)
    _system(tmp_path, 30, cpu=10.0, iowait=0.0, t0=2_000.0)
    # 60 samples, the first 30 skipped as warm-up: no I/O wait left.
    assert _rule("IOBottleneck", tmp_path, patience=30).triggers == 0
    # Fewer samples than patience: only the first half is skipped.
    result = _rule("IOBottleneck", tmp_path, threshold=0)
    assert result.details["samples_skipped"] == 30
    assert _rule("IOBottleneck", tmp_path, patience=0, threshold=10).triggers == 1


def test_summary_rules(tmp_path: Path) -> None:
    _system(tmp_path, 20, cpu=40.0, gpus=[(80.0, 30.0)])
    _steps(tmp_path, [0.2] * 10, dataloader=0.25)
    _write_jsonl(tmp_path / "framework-rank0.jsonl", [{"event": "trace", "path": "t.json"}])
    ops = [{"name": "aten::mm", "count": 3, "self_cpu_time_us": 10.0, "cpu_time_us": 12.0}]
    (tmp_path / "framework-ops-rank0.json").write_text(json.dumps({"ops": ops}))

    system = _rule("OverallSystemUsage", tmp_path)
    assert system.status == RuleEvaluationStatus.NO_ISSUES_FOUND
    assert system.details["metrics"]["cpu_percent"] == {
        "p50": 40.0,
        "p95": 40.0,
        "p99": 40.0,
        "max": 40.0,
    }
    assert system.details["metrics"]["gpu0_utilization_percent"]["p95"] == 80.0

    framework = _rule("OverallFrameworkMetrics", tmp_path)
    assert framework.status == RuleEvaluationStatus.NO_ISSUES_FOUND
    assert framework.details["step_count"] == 10
    assert framework.details["dataloader_percent"] == pytest.approx(25.0)
    assert framework.details["compute_percent"] == pytest.approx(75.0)
    assert framework.details["steps_per_second"] == pytest.approx(5.0)
    assert framework.details["top_ops"] == ops
    assert framework.details["traces"] == ["t.json"]


@pytest.mark.parametrize("name", RULE_NAMES)
def test_every_rule_copes_with_no_data(tmp_path: Path, name: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "system-metrics.jsonl").write_text("")
    (tmp_path / "empty" / "framework-rank0.jsonl").write_text("")
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        result = _rule(name, folder)
        assert result.status == RuleEvaluationStatus.NO_ISSUES_FOUND
        assert result.triggers == 0
        assert "no data" in result.message


@pytest.mark.parametrize("name", RULE_NAMES)
def test_rules_cope_with_odd_records(tmp_path: Path, name: str) -> None:
    (tmp_path / "system-metrics.jsonl").write_text(
        '{"time": 1.0, "cpu_percent": null, "gpus": [{"index": 0}]}\n'
        '{"time": "x"}\n[1, 2]\n{"time": 2.0, "cpu_percent": 50, "gpus": null}\n{"time": 3.0, "cp'
    )
    (tmp_path / "framework-rank0.jsonl").write_text(
        '{"event": "step", "step": 0, "duration": null}\n'
        '{"event": "step", "step": 1, "duration": 0.0, "start": 2.0, "end": 2.0, '
        '"dataloader": 0.0}\n{"event": "init"}\nnot json\n'
    )
    (tmp_path / "framework-ops-rank0.json").write_text("{broken")
    result = _rule(name, tmp_path)
    assert result.status in (
        RuleEvaluationStatus.NO_ISSUES_FOUND,
        RuleEvaluationStatus.ISSUES_FOUND,
    )
    assert (result.status == RuleEvaluationStatus.ISSUES_FOUND) == (result.triggers > 0)
    json.dumps(result.to_dict(), allow_nan=False)


# ---------------------------------------------------------------------- report
def test_build_report(tmp_path: Path) -> None:
    out, report = tmp_path / "prof", tmp_path / "report"
    _system(out, 30, cpu=60.0)
    durations = [0.1] * 30
    durations[20] = 2.5
    _steps(out, durations, dataloader=0.5)
    ops = [{"name": "aten::<mm>", "count": 3, "self_cpu_time_us": 10.0, "cpu_time_us": 12.0}]
    (out / "framework-ops-rank0.json").write_text(json.dumps({"rank": 0, "ops": ops}))

    results = build_report(out, report, title="job <x>")
    assert list(results) == RULE_NAMES
    assert results["StepOutlier"].status == RuleEvaluationStatus.ISSUES_FOUND
    assert results["Dataloader"].status == RuleEvaluationStatus.ISSUES_FOUND

    html = (report / "profiler-report.html").read_text()
    assert all(name in html for name in RULE_NAMES)
    assert html.count("<img src='data:image/png;base64,") >= 3
    assert "job &lt;x&gt;" in html and "aten::&lt;mm&gt;" in html and "<mm>" not in html
    assert "IssuesFound" in html

    rule_files = sorted((report / "profiler-output" / "rule-output").glob("*.json"))
    assert [p.stem for p in rule_files] == sorted(RULE_NAMES)
    outlier = json.loads(
        (report / "profiler-output" / "rule-output" / "StepOutlier.json").read_text()
    )
    assert outlier["status"] == "IssuesFound" and outlier["triggers"] == 1
    assert outlier["parameters"] == {
        "stddev": 3,
        "mode": None,
        "n_outliers": 10,
        "scan_interval_us": 60_000_000,
    }
    assert outlier["details"]["outliers"][0]["step"] == 20
    summary = json.loads((report / "profiler-output" / "summary.json").read_text())
    assert summary["title"] == "job <x>"
    assert [r["rule"] for r in summary["rules"]] == RULE_NAMES
    assert set(summary["issues_found"]) >= {"StepOutlier", "Dataloader"}


def test_build_report_subset_and_empty(tmp_path: Path) -> None:
    config = ProfilerConfig(
        rules=["StepOutlier", "Dataloader"], rule_parameters={"Dataloader": {"share_threshold": 60}}
    )
    _steps(tmp_path / "prof", [0.1] * 10, dataloader=0.5)
    results = build_report(tmp_path / "prof", tmp_path / "report", config)
    assert list(results) == ["StepOutlier", "Dataloader"]
    assert results["Dataloader"].status == RuleEvaluationStatus.NO_ISSUES_FOUND
    written = json.loads(
        (tmp_path / "report" / "profiler-output" / "rule-output" / "Dataloader.json").read_text()
    )
    assert written["parameters"]["share_threshold"] == 60

    empty = build_report(tmp_path / "nothing", tmp_path / "empty-report")
    assert all(r.status == RuleEvaluationStatus.NO_ISSUES_FOUND for r in empty.values())
    html = (tmp_path / "empty-report" / "profiler-report.html").read_text()
    assert "No system samples." in html and all(name in html for name in RULE_NAMES)
