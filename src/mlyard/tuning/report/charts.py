"""The tuning report's charts (PNG, drawn with :mod:`mlyard.reports.charts`): objective over
time, parallel coordinates, parameter importance and intermediate values per trial. Each
returns None when it has nothing to draw; matplotlib is imported when one is drawn."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlyard.reports import new_figure, plain, png
from mlyard.tuning.report.trials import (
    COMPLETED,
    LOG_RATIO,
    STOPPED,
    TrialRow,
    by_number,
    finite,
    is_number,
    param_names,
)

_MAX_LEGEND = 20
_LABEL_CHARS = 24
_MAX_VALUE_TICKS = 6


def _known(row: TrialRow) -> float:
    """The objective of a row already filtered to have one."""
    value = row.value
    assert value is not None
    return value


def _utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def objective_over_time_png(
    rows: Sequence[TrialRow], objective: str, maximize: bool, best: TrialRow | None
) -> bytes | None:
    """Each completed (and stopped) trial's objective at its end time, with the best-so-far
    line over completed trials; None when there is nothing to draw."""
    own = [r for r in by_number(rows) if not r.is_warm_start and r.value is not None]
    points = [r for r in own if r.end is not None and r.status in (COMPLETED, STOPPED)]
    if not any(r.status == COMPLETED for r in points):
        return None
    starts = [float(r.start) for r in own if r.start is not None]
    t0 = min([*starts, *(float(r.end) for r in points if r.end is not None)])

    def minutes(row: TrialRow) -> float:
        assert row.end is not None
        return (float(row.end) - t0) / 60.0

    fig = new_figure(7.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    done = sorted(
        (r for r in points if r.status == COMPLETED), key=lambda r: (minutes(r), r.number)
    )
    stopped = [r for r in points if r.status == STOPPED]
    ax.scatter(
        [minutes(r) for r in done], [_known(r) for r in done], s=28, color="#1f77b4",
        label="completed", zorder=3,
    )
    if stopped:
        ax.scatter(
            [minutes(r) for r in stopped], [_known(r) for r in stopped], s=40, marker="x",
            color="#d62728", label="stopped (early)", zorder=3,
        )
    xs: list[float] = []
    ys: list[float] = []
    current: float | None = None
    for row in done:
        value = _known(row)
        if current is None or (value > current if maximize else value < current):
            current = value
        xs.append(minutes(row))
        ys.append(current)
    ax.step(xs, ys, where="post", color="#2ca02c", linewidth=1.5, label="best so far")
    if best is not None and best.end is not None and best.value is not None:
        ax.scatter(
            [minutes(best)], [best.value], s=160, marker="*", color="#ff7f0e",
            edgecolors="black", linewidths=0.5, label=f"best (trial {best.number})", zorder=4,
        )
    ax.set_xlabel(f"minutes since {_utc(t0)}")
    ax.set_ylabel(plain(objective, 40))
    ax.set_title(plain(f"{objective} over time ({'maximize' if maximize else 'minimize'})", 80))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return png(fig)


@dataclass
class Axis:
    """One vertical axis of the parallel-coordinates chart: positions in [0, 1] per trial
    (NaN when the trial lacks the value) and tick labels at positions."""

    name: str
    positions: list[float]
    ticks: list[tuple[float, str]]
    log: bool = False


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def parallel_axis(name: str, values: Sequence[Any]) -> Axis:
    """The axis of ``values`` (None: missing): numbers on a linear or, spanning
    :data:`LOG_RATIO` or more, log scale; anything else as sorted categories."""
    present = [v for v in values if v is not None]
    numeric = bool(present) and all(is_number(v) and math.isfinite(float(v)) for v in present)
    if not numeric:
        labels = sorted({str(v) for v in present})
        k = len(labels)
        where = {c: (i / (k - 1) if k > 1 else 0.5) for i, c in enumerate(labels)}
        positions = [math.nan if v is None else where[str(v)] for v in values]
        return Axis(name, positions, [(where[c], c) for c in labels])
    nums = [float(v) for v in present]
    low, high = min(nums), max(nums)
    use_log = low > 0 and high / low >= LOG_RATIO

    def scale(x: float) -> float:
        return math.log10(x) if use_log else x

    span = scale(high) - scale(low)

    def pos(x: float) -> float:
        return 0.5 if span == 0 else (scale(x) - scale(low)) / span

    distinct = sorted(set(nums))
    if len(distinct) <= _MAX_VALUE_TICKS:
        ticks = [(pos(x), _fmt(x)) for x in distinct]
    else:
        ticks = []
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = scale(low) + frac * span
            ticks.append((frac, _fmt(10**x if use_log else x)))
    positions = [math.nan if v is None else pos(float(v)) for v in values]
    return Axis(name, positions, ticks, use_log)


def parallel_coordinates_png(
    rows: Sequence[TrialRow], objective: str, maximize: bool, best: TrialRow | None
) -> bytes | None:
    """One vertical axis per tuned hyperparameter plus the objective; each trial with an
    objective (completed or stopped, this job's own) is a polyline colored by objective."""
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    trials = [
        r for r in by_number(rows)
        if not r.is_warm_start and r.value is not None and r.status in (COMPLETED, STOPPED)
    ]
    if not any(r.status == COMPLETED for r in trials):
        return None
    names = param_names(trials)
    values = [r.value for r in trials]
    axes = [parallel_axis(n, [r.hyperparameters.get(n) for r in trials]) for n in names]
    axes.append(parallel_axis(objective, values))

    n_axes = len(axes)
    fig = new_figure(max(6.0, 1.7 * n_axes + 2.0), 4.8)
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["viridis" if maximize else "viridis_r"]
    nums = [v for v in values if v is not None]
    norm = Normalize(vmin=min(nums), vmax=max(nums))
    xs = list(range(n_axes))
    for i, row in enumerate(trials):
        ys = [a.positions[i] for a in axes]
        is_best = best is not None and row.number == best.number
        ax.plot(
            xs, ys, color=cmap(norm(_known(row))), alpha=1.0 if is_best else 0.75,
            linewidth=3.0 if is_best else 1.2, linestyle="--" if row.status == STOPPED else "-",
            marker="o", markersize=3, zorder=3 if is_best else 2,
        )
    for x, axis in enumerate(axes):
        ax.axvline(x, color="black", linewidth=0.8, zorder=1)
        for y, label in axis.ticks:
            ax.text(x + 0.04, y, plain(label, 14), fontsize=7, va="center", ha="left",
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.5})
    ax.set_xticks(
        xs, labels=[plain(a.name + (" (log)" if a.log else ""), _LABEL_CHARS) for a in axes],
        rotation=20 if n_axes > 4 else 0, ha="right" if n_axes > 4 else "center",
    )
    ax.set_xlim(-0.2, n_axes - 1 + 0.6)
    ax.set_ylim(-0.06, 1.06)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(plain(objective, 40))
    ax.set_title(plain(f"Parallel coordinates ({len(trials)} trials; dashed: stopped)", 80))
    return png(fig)


def importance_png(importances: dict[str, float]) -> bytes:
    """Horizontal bars of the importances, the most important on top."""
    items = list(importances.items())[::-1]  # most important on top
    fig = new_figure(7.0, max(2.0, 0.45 * len(items) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(range(len(items)), [v for _, v in items], color="#1f77b4")
    ax.set_yticks(range(len(items)), labels=[plain(n, _LABEL_CHARS) for n, _ in items])
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.3f}", va="center", fontsize=8)
    ax.set_xlim(0.0, 1.1)
    ax.set_xlabel("importance (fANOVA, sums to 1)")
    ax.set_title("Hyperparameter importance")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def intermediate_png(rows: Sequence[TrialRow], objective: str) -> bytes | None:
    """The objective per step of each trial that reported intermediate values; early-stopped
    trials are dashed with an X where they ended."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    trials = [r for r in by_number(rows) if not r.is_warm_start and r.intermediate]
    if not trials:
        return None
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    labelled = len(trials) <= _MAX_LEGEND
    any_stopped = False
    for row in trials:
        series = sorted(
            (int(step), float(v)) for step, v in row.intermediate if finite(v) is not None
        )
        if not series:
            continue
        stopped = row.status == STOPPED or row.stop_reason is not None
        any_stopped = any_stopped or stopped
        ax.plot(
            [s for s, _ in series], [v for _, v in series], linestyle="--" if stopped else "-",
            linewidth=1.2, marker="o" if len(series) <= 30 else None, markersize=2.5,
            label=f"trial {row.number}" + (" (stopped)" if stopped else "") if labelled else None,
        )
        if stopped:
            ax.scatter([series[-1][0]], [series[-1][1]], marker="X", s=70, color="#d62728",
                       edgecolors="black", linewidths=0.5, zorder=4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step / epoch")
    ax.set_ylabel(plain(objective, 40))
    ax.set_title(plain(f"Intermediate {objective} per trial", 80))
    ax.grid(alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if any_stopped:
        handles.append(Line2D([], [], linestyle="none", marker="X", color="#d62728",
                              markeredgecolor="black", label="early stop"))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=7, ncol=2 if len(handles) > 10 else 1)
    return png(fig)
