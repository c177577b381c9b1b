"""Rules over the training process's step records: data loading, start-up, outlier steps and
the overall framework summary."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from mlyard.core.params import Parameter, categorical, integer
from mlyard.training.profiler.data import ProfileData, median, number, numbers, percentile
from mlyard.training.profiler.rules.base import (
    NO_DATA,
    ProfilerRule,
    ProfilerRuleResult,
    rounded,
    scan_interval_us,
    threshold,
)

SCAN = 60_000_000
WARMUP_STEPS = 2
"""StepOutlier leaves out the first steps of each rank: they include lazy initialisation."""
OLDER_THAN_JOB_SECONDS = 60.0
"""MaxInitializationTime ignores process starts this much older than the first system sample."""


def _max_field(data: ProfileData, kind: str, key: str) -> int | None:
    values = numbers(r.get(key) for r in data.events(kind))
    return int(max(values)) if values else None


class Dataloader(ProfilerRule):
    """Data loading holds up training: the time from ``step_start`` to ``dataloader_done``
    takes more than ``share_threshold`` percent of the step time (total over the run, per
    rank). ``share_threshold`` (default 10) is mlyard's; SageMaker's ``min_threshold`` /
    ``max_threshold`` compare data-loader workers with CPU cores (fewer than 70% or more than
    200% of the cores): that comparison is reported in the details (cores, threads, worker
    processes) but does not trigger, since CPU-only jobs often load data in the main process."""

    name = "Dataloader"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("min_threshold", 70),
        threshold("max_threshold", 200),
        threshold("share_threshold", 10),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether data loading takes a large share of each step."

    def _workers(self, data: ProfileData) -> dict[str, Any]:
        cores = _max_field(data, "init", "cpu_count")
        workers = _max_field(data, "resources", "num_children")
        threads = max(
            (
                v
                for v in (_max_field(data, k, "num_threads") for k in ("init", "resources"))
                if v is not None
            ),
            default=None,
        )
        details: dict[str, Any] = {
            "cpu_count": cores,
            "num_threads": threads,
            "torch_num_threads": _max_field(data, "resources", "torch_num_threads"),
            "dataloader_workers": workers,
        }
        if cores and workers is not None:
            percent = 100.0 * workers / cores
            details["workers_percent_of_cores"] = round(percent, 1)
            if percent < self.p("min_threshold"):
                check = f"below min_threshold ({self.p('min_threshold'):g}%)"
            elif percent > self.p("max_threshold"):
                check = f"above max_threshold ({self.p('max_threshold'):g}%)"
            else:
                check = "within the thresholds"
            details["worker_check"] = check
        return details

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.steps():
            return ProfilerRuleResult.ok(f"{NO_DATA}: no steps recorded")
        details = self._workers(data)
        limit = self.p("share_threshold")
        per_rank: dict[str, float] = {}
        loading_total = step_total = 0.0
        for rank in data.ranks:
            timed = [
                (float(s["duration"]), dl)
                for s in data.steps(rank)
                if (dl := number(s.get("dataloader"))) is not None
            ]
            step_time = sum(d for d, _ in timed)
            if not timed or step_time <= 0:
                continue
            loading = sum(min(dl, d) for d, dl in timed)
            per_rank[f"rank{rank}"] = round(100.0 * loading / step_time, 2)
            loading_total += loading
            step_total += step_time
        if not per_rank:
            return ProfilerRuleResult.ok(
                f"{NO_DATA}: no data-loading times (the training loop does not call "
                "dataloader_done())",
                **details,
            )
        share = 100.0 * loading_total / step_total
        details.update(
            dataloader_percent=round(share, 2),
            dataloader_percent_per_rank=per_rank,
            share_threshold=limit,
        )
        slow = [rank for rank, value in per_rank.items() if value > limit]
        if slow:
            message = (
                f"Data loading took {share:.1f}% of the step time (more than {limit:g}%) on "
                f"{', '.join(slow)}: prefetch, use more data-loader workers or pre-process once."
            )
        else:
            message = f"Data loading took {share:.1f}% of the step time (limit {limit:g}%)."
        return ProfilerRuleResult.of(len(slow), message, **details)


class MaxInitializationTime(ProfilerRule):
    """Start-up takes too long: from the earliest start (a training process's start, its
    profiler's creation, the first system sample) to the first step's start exceeds
    ``threshold`` minutes. With no step yet, the time up to the last record counts.

    A process that started more than :data:`OLDER_THAN_JOB_SECONDS` before the first system
    sample predates the job (an executor that runs jobs inside a long-lived process): its
    start is not counted then."""

    name = "MaxInitializationTime"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("threshold", 20),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks whether the job takes long to reach its first training step."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        inits = data.events("init")
        process_starts = numbers(r.get("process_start") for r in inits)
        candidates = numbers(r.get("time") for r in inits)
        if data.system:
            first_sample = float(data.system[0]["time"])
            candidates.append(first_sample)
            process_starts = [
                t for t in process_starts if t >= first_sample - OLDER_THAN_JOB_SECONDS
            ]
        candidates += process_starts
        steps = data.steps()
        if not candidates:
            if not steps:
                return ProfilerRuleResult.ok(f"{NO_DATA}: no start or step recorded")
            return ProfilerRuleResult.ok(f"{NO_DATA}: no process start recorded")
        start = min(candidates)
        limit = self.p("threshold")
        first_step = min(numbers(s.get("start") for s in steps), default=None)
        if first_step is None:
            last = max(
                numbers(r.get("time") for k in data.ranks for r in data.framework[k])
                + data.series("time"),
                default=start,
            )
            minutes = max(0.0, last - start) / 60.0
            details = {"start": start, "first_step": None, "minutes_without_step": minutes}
            if minutes > limit:
                message = f"No training step after {minutes:.2f} minutes (limit {limit:g})."
                return ProfilerRuleResult.of(1, message, **details)
            return ProfilerRuleResult.ok(
                f"No training step recorded ({minutes:.2f} minutes after start).", **details
            )
        minutes = max(0.0, first_step - start) / 60.0
        details = {
            "start": start,
            "first_step": first_step,
            "initialization_seconds": round(minutes * 60.0, 3),
            "threshold_minutes": limit,
        }
        if minutes > limit:
            message = (
                f"The first step started {minutes:.2f} minutes after the job (limit "
                f"{limit:g}): check model download, data staging and start-up code."
            )
            return ProfilerRuleResult.of(1, message, **details)
        return ProfilerRuleResult.ok(
            f"The first step started {minutes * 60:.1f} s after the job (limit {limit:g} min).",
            **details,
        )


class OverallFrameworkMetrics(ProfilerRule):
    """A summary, never an issue: steps, steps per second, data loading against compute and
    the top operators of the traced steps."""

    name = "OverallFrameworkMetrics"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (scan_interval_us(SCAN),)
    DESCRIPTION = "Summarises step times, data loading against compute and the top operators."

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        ops = data.top_ops()[:10]
        steps = data.steps()
        if not steps:
            return ProfilerRuleResult.ok(f"{NO_DATA}: no steps recorded", top_ops=ops)
        durations = [float(s["duration"]) for s in steps]
        step_time = sum(durations)
        loading = sum(
            min(dl, float(s["duration"]))
            for s in steps
            if (dl := number(s.get("dataloader"))) is not None
        )
        rates: dict[str, float] = {}
        for rank in data.ranks:
            rank_steps = data.steps(rank)
            starts = numbers(s.get("start") for s in rank_steps)
            ends = numbers(s.get("end") for s in rank_steps)
            if starts and ends and max(ends) > min(starts):
                rates[f"rank{rank}"] = round(len(rank_steps) / (max(ends) - min(starts)), 4)
        batch = numbers(s.get("batch_size") for s in steps)
        share = 100.0 * loading / step_time if step_time > 0 else 0.0
        steps_per_second = sum(rates.values()) / len(rates) if rates else None
        details: dict[str, Any] = {
            "step_count": len(steps),
            "ranks": data.ranks,
            "step_seconds_total": round(step_time, 6),
            "dataloader_seconds": round(loading, 6),
            "compute_seconds": round(step_time - loading, 6),
            "dataloader_percent": round(share, 2),
            "compute_percent": round(100.0 - share, 2) if step_time > 0 else 0.0,
            "steps_per_second": rounded(steps_per_second, 4),
            "steps_per_second_per_rank": rates,
            "step_seconds_p50": rounded(median(durations), 6),
            "step_seconds_p95": rounded(percentile(durations, 95), 6),
            "step_seconds_max": round(max(durations), 6),
            "mean_batch_size": rounded(sum(batch) / len(batch)) if batch else None,
            "traces": [r.get("path") for r in data.events("trace")],
            "top_ops": ops,
        }
        rate = f"{steps_per_second:.2f} steps/s" if steps_per_second is not None else "n/a"
        message = (
            f"{len(steps)} steps on {len(data.ranks)} rank(s), {rate}; data loading "
            f"{share:.1f}% and compute {100.0 - share:.1f}% of the step time."
        )
        return ProfilerRuleResult.ok(message, **details)


class StepOutlier(ProfilerRule):
    """A step took far longer than usual: after the first two (warm-up) steps of each rank, a
    step is an outlier when its duration exceeds ``mean + stddev * sigma`` of that rank's step
    durations. ``mode`` keeps only steps of that mode (steps without one are ``TRAIN``);
    ``n_outliers`` caps how many outliers the details list (SageMaker uses it as a tolerance:
    here any outlier triggers)."""

    name = "StepOutlier"
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = (
        threshold("stddev", 3),
        categorical("mode", None, (None, "TRAIN", "EVAL")),
        integer("n_outliers", 10, lo=0),
        scan_interval_us(SCAN),
    )
    DESCRIPTION = "Checks for steps much slower than the others."

    def outliers(self, data: ProfileData) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """All outlier steps (rank, step, duration, ...) and per-rank statistics."""
        mode = self.parameters["mode"]
        found: list[dict[str, Any]] = []
        stats: dict[str, Any] = {}
        for rank in data.ranks:
            steps = [s for s in data.steps(rank) if mode is None or s.get("mode", "TRAIN") == mode]
            kept = steps[WARMUP_STEPS:]
            if len(kept) < 3:
                continue
            values = [float(s["duration"]) for s in kept]
            mean = sum(values) / len(values)
            sigma = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
            limit = mean + self.p("stddev") * sigma
            stats[f"rank{rank}"] = {
                "steps": len(values),
                "mean_seconds": round(mean, 6),
                "stddev_seconds": round(sigma, 6),
                "limit_seconds": round(limit, 6),
            }
            for step, value in zip(kept, values, strict=True):
                if sigma > 0 and value > limit:
                    found.append(
                        {
                            "rank": rank,
                            "step": step.get("step"),
                            "duration_seconds": round(value, 6),
                            "times_mean": round(value / mean, 2) if mean > 0 else None,
                        }
                    )
        return found, stats

    def evaluate(self, data: ProfileData) -> ProfilerRuleResult:
        if not data.steps():
            return ProfilerRuleResult.ok(f"{NO_DATA}: no steps recorded")
        found, stats = self.outliers(data)
        if not stats:
            return ProfilerRuleResult.ok(
                f"Too few steps to judge (need {WARMUP_STEPS + 3} per rank).",
                warmup_steps=WARMUP_STEPS,
            )
        listed = sorted(found, key=lambda o: -o["duration_seconds"])
        listed = listed[: int(self.p("n_outliers"))]
        details = {"warmup_steps": WARMUP_STEPS, "per_rank": stats, "outliers": listed}
        if found:
            worst = listed[0]
            message = (
                f"{len(found)} step(s) took longer than mean + {self.p('stddev'):g} sigma; the "
                f"slowest, step {worst['step']} on rank {worst['rank']}, took "
                f"{worst['duration_seconds']:.3f} s: look for checkpoints, evaluation or "
                "garbage collection inside the loop."
            )
        else:
            message = f"No step took longer than mean + {self.p('stddev'):g} sigma."
        return ProfilerRuleResult.of(len(found), message, **details)
