"""Finding runs and putting them side by side: a table of parameters and last metric
values (one column per run) and an HTML page adding a chart of each metric's series.

A run is named ``experiment/run`` or just ``run`` when that name is unique across
experiments. Both functions sync the derived runs first
(:func:`mlyard.experiments.collect.sync`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlyard.errors import NotFoundError, ValidationError
from mlyard.experiments.collect import sync
from mlyard.experiments.store import ExperimentStore, RunMetric, RunRecord
from mlyard.reports import escape, heading, image, new_figure, note, page, plain, png, table

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.core.workspace import Workspace

#: Most runs compared at once, and most metric charts drawn.
MAX_RUNS = 50
MAX_CHARTS = 12


def run_label(run: RunRecord) -> str:
    """``experiment/run``."""
    return f"{run.experiment}/{run.name}"


def resolve_run(store: ExperimentStore, ref: str) -> RunRecord:
    """The run ``ref`` names (``experiment/run`` or a unique run name)."""
    text = ref.strip()
    if not text:
        raise ValidationError("a run reference must not be empty")
    if "/" in text:
        experiment, name = text.split("/", 1)
        return store.get_run(experiment, name)
    found = store.find_runs(text)
    if not found:
        raise NotFoundError(f"no run named {text!r} in any experiment")
    if len(found) > 1:
        raise ValidationError(f"run name {text!r} is in several experiments; give one of "
                              f"{[run_label(r) for r in found]}")
    return found[0]


def _last(points: Sequence[RunMetric]) -> dict[str, float]:
    last: dict[str, float] = {}
    for point in points:
        last[point.key] = point.value
    return last


def _resolve_all(ws: Workspace, runs: Sequence[str], refresh: bool) -> list[RunRecord]:
    if not runs:
        raise ValidationError("give at least one run to compare")
    if len(runs) > MAX_RUNS:
        raise ValidationError(f"compare at most {MAX_RUNS} runs, got {len(runs)}")
    if refresh:
        sync(ws)
    store = ExperimentStore.of(ws.store)
    return [resolve_run(store, r) for r in runs]


def comparison(ws: Workspace, runs: Sequence[str], *, refresh: bool = True
               ) -> dict[str, dict[str, Any]]:
    """Each run (by label) as ``{"status", "params": {...}, "metrics": {key: last}}``."""
    store = ExperimentStore.of(ws.store)
    out: dict[str, dict[str, Any]] = {}
    for run in _resolve_all(ws, runs, refresh):
        out[run_label(run)] = {
            "Experiment": run.experiment, "Run": run.name, "Status": run.status,
            "CreationTime": run.created_at, "EndTime": run.ended_at, "Source": run.source,
            "Params": store.get_params(run.experiment, run.name),
            "Metrics": _last(store.get_metrics(run.experiment, run.name))}
    return out


def compare(ws: Workspace, runs: Sequence[str], *, refresh: bool = True) -> pd.DataFrame:
    """Runs side by side: one column per run (``experiment/run``), rows ``status``,
    ``params.<key>`` and ``metrics.<key>`` (the last value logged)."""
    import pandas as pd

    data = comparison(ws, runs, refresh=refresh)
    keys = ["status"]
    for kind, field in (("params", "Params"), ("metrics", "Metrics")):
        keys += sorted({f"{kind}.{k}" for d in data.values() for k in d[field]})
    columns: dict[str, list[Any]] = {}
    for label, d in data.items():
        values = {"status": d["Status"], **{f"params.{k}": v for k, v in d["Params"].items()},
                  **{f"metrics.{k}": v for k, v in d["Metrics"].items()}}
        columns[label] = [values.get(k) for k in keys]
    return pd.DataFrame(columns, index=keys)


def compare_html(ws: Workspace, runs: Sequence[str], *, refresh: bool = True) -> str:
    """A self-contained page: the comparison table and one chart per metric (each run's
    series against its step, or its order when it logged no steps)."""
    frame = compare(ws, runs, refresh=refresh)
    store = ExperimentStore.of(ws.store)
    records = [resolve_run(store, label) for label in frame.columns]
    rows = [[escape(key), *(escape("" if v is None else v) for v in frame.loc[key])]
            for key in frame.index]
    sections = [table(["", *map(str, frame.columns)], rows)]
    series = {run_label(r): store.get_metrics(r.experiment, r.name) for r in records}
    keys = sorted({p.key for points in series.values() for p in points})
    if keys:
        sections.append(heading("Metrics"))
    for key in keys[:MAX_CHARTS]:
        fig = new_figure(6.0, 3.2)
        ax = fig.add_subplot(1, 1, 1)
        for label, points in series.items():
            mine = [p for p in points if p.key == key]
            if mine:
                xs = [p.step if p.step is not None else i for i, p in enumerate(mine)]
                ax.plot(xs, [p.value for p in mine], marker="o" if len(mine) < 30 else None,
                        label=plain(label, 40))
        ax.set_title(plain(key, 60))
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        sections.append(image(png(fig), f"{key} by run"))
    if len(keys) > MAX_CHARTS:
        sections.append(note(f"{len(keys) - MAX_CHARTS} more metrics not drawn."))
    return page("Run comparison", sections)
