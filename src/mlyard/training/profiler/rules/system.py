"""Rules over system samples: utilisation, bottlenecks, memory growth, balance between GPUs.

Each follows the SageMaker rule of the same name; where SageMaker's criterion needs a GPU and
the job ran on CPUs only, the rule says ``no GPU used`` (NoIssuesFound) or, for BatchSize and
IOBottleneck, applies the CPU form of the criterion described on the class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from mlyard.core.params import Parameter
from mlyard.training.profiler.data import ProfileData, median, number, numbers, percentile
from mlyard.training.profiler.rules.base import (
    NO_DATA,
    NO_GPU,
    ProfilerRule,
    ProfilerRuleResult,
    after_patience,
    patience,
    rounded,
    scan_interval_us,
    threshold,
    window,
    windows,
)

SCAN = 60_000_000


def _gpu_values(sample: dict[str, Any], key: str) -> dict[int, float]:
    """GPU index -> value of ``key`` in one system sample."""
    out: dict[int, float] = {}
    for gpu in sample.get("gpus") or []:
        if not isinstance(gpu, dict):
            continue
        index, value = number(gpu.get("index")), number(gpu.get(key))
        if index is not None and value is not None:
            out[int(index)] = value
    return out


def _gpu_memory_percent(sample: dict[str, Any]) -> dict[int, float]:
    used = _gpu_values(sample, "memory_used_bytes")
    total = _gpu_values(sample, "memory_total_bytes")
    return {i: 100.0 * used[i] / total[i] for i in used if total.get(i)}


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _p(values: Sequence[Any], q: float) -> float | None:
    return percentile(numbers(values), q)


def _process_memory_percent(sample: dict[str, Any]) -> float | None:
    """The process tree's resident memory as percent of host memory (host memory percent for
    samples without the process figures)."""
    rss, total = number(sample.get("process_rss_bytes")), number(sample.get("memory_total_bytes"))
    if rss is not None and total:
        return 100.0 * rss / total
    return number(sample.get("memory_percent"))


class BatchSize(ProfilerRule):
    """The batch could be larger: the hardware is under-used.

    With GPUs (SageMaker's criterion), a window of a GPU triggers when the p95 of CPU
    utilisation, that GPU's utilisation and its memory use are all below their thresholds. On
    CPU-only runs a window triggers when the p95 of CPU utilisation is below
    ``cpu_threshold_p95`` and the p95 of the job's resident memory (percent of host memory) is
    below ``gpu_memory_threshold_p95``: cores and memory are idle, a bigger batch would use them.
    """

    name = "BatchSize"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("cpu_threshold_p95", 70),
        threshold("gpu_threshold_p95", 70),
        threshold("gpu_memory_threshold_p95", 70),
        patience(),
        window(500),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether the hardware is under-used, so that a larger batch would help."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.system:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples")
        samples, skipped = after_patience(data.system, int(self.p("patience")))
        chunks = windows(samples, int(self.p("window")))
        cpu_limit = self.p("cpu_threshold_p95")
        mem_limit = self.p("gpu_memory_threshold_p95")
        flagged: list[dict[str, Any]] = []
        gpus = data.gpu_indices()
        for number_, chunk in enumerate(chunks):
            cpu95 = _p([s.get("cpu_percent") for s in chunk], 95)
            if cpu95 is None or cpu95 >= cpu_limit:
                continue
            if gpus:
                for index in gpus:
                    utils = [_gpu_values(s, "utilization_percent").get(index) for s in chunk]
                    gpu95 = _p(utils, 95)
                    mem95 = _p([_gpu_memory_percent(s).get(index) for s in chunk], 95)
                    if gpu95 is None or mem95 is None:
                        continue
                    if gpu95 < self.p("gpu_threshold_p95") and mem95 < mem_limit:
                        flagged.append(
                            {
                                "window": number_,
                                "gpu": index,
                                "cpu_p95": rounded(cpu95),
                                "gpu_p95": rounded(gpu95),
                                "gpu_memory_p95": rounded(mem95),
                            }
                        )
            else:
                mem95 = _p([_process_memory_percent(s) for s in chunk], 95)
                if mem95 is not None and mem95 < mem_limit:
                    flagged.append(
                        {
                            "window": number_,
                            "cpu_p95": rounded(cpu95),
                            "process_memory_p95": rounded(mem95),
                        }
                    )
        details = {
            "samples_evaluated": len(samples),
            "samples_skipped": skipped,
            "windows": len(chunks),
            "gpus": gpus,
            "flagged_windows": flagged[:50],
        }
        if flagged:
            what = "CPU, GPU and GPU memory" if gpus else "CPU and memory"
            message = (
                f"{len(flagged)} of {len(chunks) * max(1, len(gpus))} windows had low {what} "
                "use (p95 below the thresholds): consider a larger batch size or a smaller "
                "instance."
            )
        else:
            message = "The hardware was busy enough; no need for a larger batch."
        return ProfilerRuleResult.of(len(flagged), message, **details)


class CPUBottleneck(ProfilerRule):
    """The CPU starves the GPU: share of samples with CPU above ``cpu_threshold`` percent while
    the GPUs (mean) are below ``gpu_threshold``; triggers above ``threshold`` percent of the
    samples. Needs a GPU."""

    name = "CPUBottleneck"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("threshold", 50),
        threshold("gpu_threshold", 10),
        threshold("cpu_threshold", 90),
        patience(),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether a busy CPU leaves the GPU idle."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.system:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples")
        if not data.gpu_indices():
            return ProfilerRuleResult.ok(f"{NO_GPU}: the rule compares CPU and GPU utilisation")
        samples, skipped = after_patience(data.system, int(self.p("patience")))
        bottlenecks = 0
        evaluated = 0
        for sample in samples:
            cpu = number(sample.get("cpu_percent"))
            gpu = _mean(list(_gpu_values(sample, "utilization_percent").values()))
            if cpu is None or gpu is None:
                continue
            evaluated += 1
            if cpu > self.p("cpu_threshold") and gpu < self.p("gpu_threshold"):
                bottlenecks += 1
        share = 100.0 * bottlenecks / evaluated if evaluated else 0.0
        fired = share > self.p("threshold")
        details = {
            "samples_evaluated": evaluated,
            "samples_skipped": skipped,
            "bottleneck_samples": bottlenecks,
            "bottleneck_percent": round(share, 2),
        }
        message = (
            f"CPU bottleneck in {share:.1f}% of the samples (CPU > {self.p('cpu_threshold'):g}% "
            f"while GPU < {self.p('gpu_threshold'):g}%)"
        )
        message += (
            ": move preprocessing off the training loop or add data-loader workers."
            if fired
            else f", below the {self.p('threshold'):g}% threshold."
        )
        return ProfilerRuleResult.of(int(fired), message, **details)


class GPUMemoryIncrease(ProfilerRule):
    """GPU memory keeps growing (a leak, tensors kept alive): the mean of consecutive windows
    of ``window`` points rises by more than ``increase``. From system samples the increase is
    in percentage points of the GPU's memory; from the steps' ``gpu_memory_allocated`` it is
    relative to the first window when the GPU's total is unknown."""

    name = "GPUMemoryIncrease"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("increase", 5),
        patience(),
        window(10),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether GPU memory use grows during training."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if data.is_empty:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples or steps")
        if not data.has_gpu:
            return ProfilerRuleResult.ok(f"{NO_GPU}: no GPU memory was recorded")
        series: dict[str, list[float]] = {}
        if data.gpu_indices():
            for index in data.gpu_indices():
                series[f"gpu{index}"] = [v for v in data.gpu_memory_percent(index) if v is not None]
            unit = "percentage points of GPU memory"
        else:
            for rank in data.ranks:
                allocated = numbers(s.get("gpu_memory_allocated") for s in data.steps(rank))
                base = _mean(allocated[: int(self.p("window"))]) or 0.0
                if base > 0:
                    series[f"rank{rank}"] = [100.0 * a / base for a in allocated]
            unit = "percent of the first window's allocation"
        increases: list[dict[str, Any]] = []
        evaluated = 0
        for source, values in series.items():
            kept, _ = after_patience(values, int(self.p("patience")))
            means = [m for c in windows(kept, int(self.p("window"))) if (m := _mean(c)) is not None]
            evaluated += len(kept)
            for i in range(1, len(means)):
                rise = means[i] - means[i - 1]
                if rise > self.p("increase"):
                    increases.append({"source": source, "window": i, "increase": round(rise, 2)})
        details = {"points_evaluated": evaluated, "unit": unit, "increases": increases[:50]}
        if increases:
            message = (
                f"GPU memory grew by more than {self.p('increase'):g} {unit} "
                f"{len(increases)} time(s): look for tensors kept across steps."
            )
        else:
            message = f"GPU memory did not grow by more than {self.p('increase'):g} {unit}."
        return ProfilerRuleResult.of(len(increases), message, **details)


class IOBottleneck(ProfilerRule):
    """The job waits on I/O: share of samples with CPU iowait above ``io_threshold`` percent
    (and, with GPUs, mean GPU utilisation below ``gpu_threshold``); triggers above
    ``threshold`` percent of the samples. Needs iowait, which Linux reports."""

    name = "IOBottleneck"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("threshold", 50),
        threshold("io_threshold", 50),
        threshold("gpu_threshold", 10),
        patience(),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether training waits on disk or network I/O."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.system:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples")
        if not data.series("cpu_iowait_percent"):
            return ProfilerRuleResult.ok(f"{NO_DATA}: iowait is not reported on this OS")
        samples, skipped = after_patience(data.system, int(self.p("patience")))
        with_gpu = bool(data.gpu_indices())
        waits = 0
        evaluated = 0
        for sample in samples:
            iowait = number(sample.get("cpu_iowait_percent"))
            if iowait is None:
                continue
            evaluated += 1
            gpu = _mean(list(_gpu_values(sample, "utilization_percent").values()))
            gpu_idle = not with_gpu or (gpu is not None and gpu < self.p("gpu_threshold"))
            if iowait > self.p("io_threshold") and gpu_idle:
                waits += 1
        share = 100.0 * waits / evaluated if evaluated else 0.0
        fired = share > self.p("threshold")
        iowait_series = data.series("cpu_iowait_percent")
        details = {
            "samples_evaluated": evaluated,
            "samples_skipped": skipped,
            "io_bottleneck_samples": waits,
            "io_bottleneck_percent": round(share, 2),
            "iowait_p95": rounded(percentile(iowait_series, 95)),
            "iowait_max": rounded(max(iowait_series)),
        }
        condition = f"iowait > {self.p('io_threshold'):g}%"
        if with_gpu:
            condition += f" while GPU < {self.p('gpu_threshold'):g}%"
        message = f"I/O bottleneck ({condition}) in {share:.1f}% of the samples"
        message += (
            ": read data from faster storage, cache it, or prefetch with more workers."
            if fired
            else f", below the {self.p('threshold'):g}% threshold."
        )
        return ProfilerRuleResult.of(int(fired), message, **details)


class LoadBalancing(ProfilerRule):
    """Work is spread unevenly. Between GPUs: the medians of their utilisation; between ranks
    (also on CPUs): the medians of their step durations. Triggers when
    ``(max - min) / max`` exceeds ``threshold``."""

    name = "LoadBalancing"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("threshold", 0.5),
        patience(),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether GPUs or ranks carry unequal work."

    @staticmethod
    def _imbalance(medians: dict[str, float]) -> float | None:
        if len(medians) < 2:
            return None
        top = max(medians.values())
        return (top - min(medians.values())) / top if top > 0 else 0.0

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if data.is_empty:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples or steps")
        threshold = self.p("threshold")
        details: dict[str, Any] = {}
        findings: list[str] = []
        triggers = 0
        gpus = data.gpu_indices()
        if len(gpus) >= 2:
            samples, skipped = after_patience(data.system, int(self.p("patience")))
            gpu_medians = {
                f"gpu{i}": m
                for i in gpus
                if (
                    m := median(
                        numbers(_gpu_values(s, "utilization_percent").get(i) for s in samples)
                    )
                )
                is not None
            }
            imbalance = self._imbalance(gpu_medians)
            details["gpu_median_utilization"] = {k: round(v, 2) for k, v in gpu_medians.items()}
            details["gpu_imbalance"] = rounded(imbalance, 3)
            details["samples_skipped"] = skipped
            if imbalance is not None and imbalance > threshold:
                triggers += 1
                findings.append(f"GPU utilisation differs by {100 * imbalance:.0f}%")
        durations = data.step_durations()
        if len(durations) >= 2:
            rank_medians = {
                f"rank{r}": m for r, values in durations.items() if (m := median(values))
            }
            imbalance = self._imbalance(rank_medians)
            details["rank_median_step_seconds"] = {k: round(v, 6) for k, v in rank_medians.items()}
            details["rank_imbalance"] = rounded(imbalance, 3)
            if imbalance is not None and imbalance > threshold:
                triggers += 1
                findings.append(f"median step time differs by {100 * imbalance:.0f}% between ranks")
        if "gpu_imbalance" not in details and "rank_imbalance" not in details:
            return ProfilerRuleResult.ok(
                "Only one GPU and one rank: no load to balance.", gpus=gpus, ranks=data.ranks
            )
        if findings:
            message = "; ".join(findings) + f" (threshold {threshold:g}): rebalance the work."
        else:
            message = f"Work was balanced within the {threshold:g} threshold."
        return ProfilerRuleResult.of(triggers, message, **details)


class LowGPUUtilization(ProfilerRule):
    """A GPU is under-used or its use fluctuates, per window of ``window`` samples: p95 below
    ``threshold_p95`` (under-used), or p95 above it with p5 below ``threshold_p5``
    (fluctuating)."""

    name = "LowGPUUtilization"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("threshold_p95", 70),
        threshold("threshold_p5", 10),
        window(500),
        patience(),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether GPU utilisation is low or fluctuates."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.system:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples")
        gpus = data.gpu_indices()
        if not gpus:
            return ProfilerRuleResult.ok(f"{NO_GPU}: no GPU utilisation was recorded")
        samples, skipped = after_patience(data.system, int(self.p("patience")))
        flagged: list[dict[str, Any]] = []
        for index in gpus:
            values = numbers(_gpu_values(s, "utilization_percent").get(index) for s in samples)
            for number_, chunk in enumerate(windows(values, int(self.p("window")))):
                p95, p5 = percentile(chunk, 95), percentile(chunk, 5)
                if p95 is None or p5 is None:
                    continue
                if p95 < self.p("threshold_p95"):
                    kind = "low"
                elif p5 < self.p("threshold_p5"):
                    kind = "fluctuating"
                else:
                    continue
                flagged.append(
                    {
                        "gpu": index,
                        "window": number_,
                        "kind": kind,
                        "p95": rounded(p95),
                        "p5": rounded(p5),
                    }
                )
        details = {"gpus": gpus, "samples_skipped": skipped, "flagged_windows": flagged[:50]}
        if flagged:
            message = (
                f"{len(flagged)} GPU window(s) with low or fluctuating utilisation: a larger "
                "batch, more data-loader workers or a smaller GPU may help."
            )
        else:
            message = "GPU utilisation was high and steady."
        return ProfilerRuleResult.of(len(flagged), message, **details)


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "p50": rounded(percentile(values, 50)),
        "p95": rounded(percentile(values, 95)),
        "p99": rounded(percentile(values, 99)),
        "max": rounded(max(values)) if values else None,
    }


class OverallSystemUsage(ProfilerRule):
    """A summary, never an issue: p50/p95/p99/max of CPU, memory, GPU and I/O figures."""

    name = "OverallSystemUsage"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (scan_interval_us(SCAN),)
    DESCRIPTION = "Summarises CPU, memory, GPU and I/O utilisation."

    FIELDS: ClassVar[tuple[str, ...]] = (
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
    )

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.system:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no system samples")
        metrics = {key: _stats(data.series(key)) for key in self.FIELDS if data.series(key)}
        gpu_stats: dict[str, dict[str, float | None]] = {}
        for index in data.gpu_indices():
            util = numbers(data.gpu_series(index, "utilization_percent"))
            memory = numbers(data.gpu_memory_percent(index))
            gpu_stats[f"gpu{index}_utilization_percent"] = _stats(util)
            gpu_stats[f"gpu{index}_memory_percent"] = _stats(memory)
        metrics.update(gpu_stats)
        times = data.series("time")
        cores = max((len(s.get("cpu_percent_per_core") or []) for s in data.system), default=0)
        duration = times[-1] - times[0] if len(times) > 1 else 0.0
        cpu = metrics.get("cpu_percent", {})
        message = (
            f"{len(data.system)} samples over {duration:.0f} s on {cores} cores: CPU p50 "
            f"{cpu.get('p50')}%, p95 {cpu.get('p95')}%"
        )
        if gpu_stats:
            message += f"; {len(data.gpu_indices())} GPU(s)"
        return ProfilerRuleResult.ok(
            message + ".",
            samples=len(data.system),
            duration_seconds=round(duration, 3),
            cores=cores,
            metrics=metrics,
        )
