"""PNG charts of the profiler report, drawn with :mod:`mlyard.reports.charts` (matplotlib Agg
canvas, no pyplot). Each returns None when it has nothing to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlyard.reports.charts import new_figure, plain, png
from mlyard.training.profiler.data import ProfileData, number

_TITLE_CHARS = 80
_OP_CHARS = 48


def utilization_png(data: ProfileData, title: str) -> bytes | None:
    """CPU, iowait and memory (and each GPU's utilisation and memory) in percent over time."""
    if not data.system:
        return None
    t0 = float(data.system[0]["time"])
    xs = [float(s["time"]) - t0 for s in data.system]

    def line(ax: Any, key: str, label: str, **style: Any) -> None:
        points = [
            (x, v)
            for x, s in zip(xs, data.system, strict=True)
            if (v := number(s.get(key))) is not None
        ]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], label=label, **style)

    fig = new_figure(9.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    line(ax, "cpu_percent", "CPU", linewidth=1.5)
    line(ax, "memory_percent", "memory", linewidth=1.5)
    line(ax, "cpu_iowait_percent", "CPU iowait", linewidth=1, alpha=0.7)
    cores = [len(s.get("cpu_percent_per_core") or []) for s in data.system]
    job = [
        (x, v / n)
        for x, s, n in zip(xs, data.system, cores, strict=True)
        if n and (v := number(s.get("process_cpu_percent"))) is not None
    ]
    if job:
        ax.plot([p[0] for p in job], [p[1] for p in job], linewidth=1, label="job processes CPU")
    for index in data.gpu_indices():
        for values, label, style in (
            (data.gpu_series(index, "utilization_percent"), f"GPU {index}", "--"),
            (data.gpu_memory_percent(index), f"GPU {index} memory", ":"),
        ):
            points = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
            if points:
                ax.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    linestyle=style,
                    linewidth=1.5,
                    label=label,
                )
    ax.set_ylim(0, 102)
    ax.set_xlabel("Seconds since the first sample")
    ax.set_ylabel("Utilisation (%)")
    ax.set_title(plain(title, _TITLE_CHARS))
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return png(fig)


def step_durations_png(
    data: ProfileData, outliers: Sequence[dict[str, Any]], title: str
) -> bytes | None:
    """Step duration against step number per rank, outliers marked with red crosses."""
    if not data.steps():
        return None
    fig = new_figure(9.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for rank in data.ranks:
        steps = data.steps(rank)
        if not steps:
            continue
        xs = [number(s.get("step")) for s in steps]
        index = [x if x is not None else float(i) for i, x in enumerate(xs)]
        ax.plot(
            index,
            [float(s["duration"]) for s in steps],
            marker=".",
            markersize=3,
            linewidth=1,
            label=f"rank {rank}",
        )
    marked = [(number(o.get("step")), number(o.get("duration_seconds"))) for o in outliers]
    points = [(x, y) for x, y in marked if x is not None and y is not None]
    if points:
        ax.scatter(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="x",
            color="red",
            s=60,
            zorder=3,
            label="outlier",
        )
    ax.set_xlabel("Step")
    ax.set_ylabel("Duration (s)")
    ax.set_title(plain(title, _TITLE_CHARS))
    if len(data.ranks) > 1 or points:
        ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return png(fig)


def dataloader_share_png(data: ProfileData, title: str) -> bytes | None:
    """Per rank, the share of step time spent loading data against computing."""
    shares: list[tuple[str, float, float]] = []
    for rank in data.ranks:
        timed = [
            (float(s["duration"]), min(dl, float(s["duration"])))
            for s in data.steps(rank)
            if (dl := number(s.get("dataloader"))) is not None
        ]
        total = sum(d for d, _ in timed)
        if total > 0:
            loading = 100.0 * sum(dl for _, dl in timed) / total
            shares.append((f"rank {rank}", loading, 100.0 - loading))
    if not shares:
        return None
    fig = new_figure(8.0, 1.2 + 0.5 * len(shares))
    ax = fig.add_subplot(1, 1, 1)
    labels = [s[0] for s in shares]
    loading_values = [s[1] for s in shares]
    compute_values = [s[2] for s in shares]
    ax.barh(labels, loading_values, color="#d62728", label="data loading")
    ax.barh(labels, compute_values, left=loading_values, color="#1f77b4", label="compute")
    for y, value in enumerate(loading_values):
        ax.text(
            1,
            y,
            f"{value:.1f}% loading",
            va="center",
            ha="left",
            fontsize=8,
            color="white" if value > 15 else "black",
        )
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of step time (%)")
    ax.set_title(plain(title, _TITLE_CHARS))
    ax.legend(loc="lower right", fontsize=8)
    return png(fig)


def top_ops_png(ops: Sequence[dict[str, Any]], title: str, limit: int = 15) -> bytes | None:
    """Horizontal bars of the operators with the most self CPU time."""
    rows = [
        (str(op.get("name", "?")), value)
        for op in ops[:limit]
        if (value := number(op.get("self_cpu_time_us"))) is not None
    ]
    if not rows:
        return None
    fig = new_figure(8.0, 1.2 + 0.3 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    names = [plain(name, _OP_CHARS) for name, _ in reversed(rows)]
    values = [value / 1000.0 for _, value in reversed(rows)]
    ax.barh(range(len(rows)), values, color="#1f77b4")
    ax.set_yticks(range(len(rows)), labels=names, fontsize=8)
    ax.set_xlabel("Self CPU time (ms) in the traced steps")
    ax.set_title(plain(title, _TITLE_CHARS))
    ax.grid(axis="x", alpha=0.3)
    return png(fig)
