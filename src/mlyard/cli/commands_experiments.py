"""``mlyard experiments``: experiments, their runs (training jobs, tuning trials and
pipeline executions become runs automatically; user scripts log with
``mlyard.log_param``/``log_metric``), one run's parameters, metrics and artifacts, and runs
side by side (``compare``, with ``--html`` a page charting each metric)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.experiments.collect import sync
from mlyard.experiments.compare import compare, compare_html, comparison, resolve_run
from mlyard.experiments.store import ExperimentStore, RunRecord


def _run_json(run: RunRecord) -> dict[str, Any]:
    return {"Experiment": run.experiment, "Run": run.name, "Status": run.status,
            "CreationTime": run.created_at, "EndTime": run.ended_at, "Source": run.source}


def _cell(value: Any) -> str:
    """A comparison cell: missing values (None, NaN) as '-'."""
    if isinstance(value, float) and value != value:
        return "-"
    return fmt(value)


def _store(ctx: click.Context) -> ExperimentStore:
    ws = workspace(ctx)
    sync(ws)
    return ExperimentStore.of(ws.store)


@click.group("experiments")
def experiments() -> None:
    """Experiments, runs and run comparisons."""


@experiments.command("list")
@json_option
@click.pass_context
def experiments_list(ctx: click.Context, as_json: bool) -> None:
    """List experiments with their number of runs."""
    store = _store(ctx)
    items = [(e, len(store.list_runs(e.name))) for e in store.list_experiments()]
    if as_json:
        echo_json([{"ExperimentName": e.name, "CreationTime": e.created_at,
                    "Description": e.description, "Runs": n} for e, n in items])
        return
    click.echo(table(["experiment", "runs", "created", "description"],
                     [(e.name, n, fmt_time(e.created_at), e.description or "")
                      for e, n in items]))


@experiments.command("runs")
@click.argument("experiment")
@json_option
@click.pass_context
def experiments_runs(ctx: click.Context, experiment: str, as_json: bool) -> None:
    """List the runs of EXPERIMENT, oldest first."""
    runs = _store(ctx).list_runs(experiment)
    if as_json:
        echo_json([_run_json(r) for r in runs])
        return
    click.echo(table(["run", "status", "created", "ended", "source"],
                     [(r.name, r.status, fmt_time(r.created_at), fmt_time(r.ended_at),
                       ", ".join(f"{k}={v}" for k, v in r.source.items()))
                      for r in runs]))


@experiments.command("describe-run")
@click.argument("run")
@json_option
@click.pass_context
def experiments_describe_run(ctx: click.Context, run: str, as_json: bool) -> None:
    """A run's status, parameters, metric series and artifacts (RUN is EXPERIMENT/RUN or a
    run name found in one experiment only)."""
    store = _store(ctx)
    record = resolve_run(store, run)
    params = store.get_params(record.experiment, record.name)
    points = store.get_metrics(record.experiment, record.name)
    artifacts = store.get_artifacts(record.experiment, record.name)
    if as_json:
        echo_json({**_run_json(record), "Params": params, "Artifacts": artifacts,
                   "Metrics": [{"Key": p.key, "Value": p.value, "Step": p.step,
                                "Timestamp": p.timestamp} for p in points]})
        return
    click.echo(table(["field", "value"], [
        ("experiment", record.experiment), ("run", record.name), ("status", record.status),
        ("created", fmt_time(record.created_at)), ("ended", fmt_time(record.ended_at)),
        *((f"source {k}", v) for k, v in record.source.items())]))
    if params:
        click.echo(table(["param", "value"], sorted(params.items())))
    series: dict[str, list[float]] = {}
    for p in points:
        series.setdefault(p.key, []).append(p.value)
    if series:
        click.echo(table(["metric", "points", "last", "min", "max"],
                         [(k, len(v), fmt(v[-1]), fmt(min(v)), fmt(max(v)))
                          for k, v in sorted(series.items())]))
    if artifacts:
        click.echo(table(["artifact", "uri"], sorted(artifacts.items())))


@experiments.command("compare")
@click.argument("runs", nargs=-1, required=True)
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write a page with the table and a chart of each metric here.")
@json_option
@click.pass_context
def experiments_compare(ctx: click.Context, runs: tuple[str, ...], html_path: str | None,
                        as_json: bool) -> None:
    """Put RUNS side by side: status, parameters and the last value of each metric (each
    RUN is EXPERIMENT/RUN or a run name found in one experiment only)."""
    ws = workspace(ctx)
    if as_json:
        echo_json(comparison(ws, list(runs)))
    else:
        frame = compare(ws, list(runs))
        click.echo(table(["", *map(str, frame.columns)],
                         [[key, *(_cell(v) for v in frame.loc[key])]
                          for key in frame.index]))
    if html_path:
        Path(html_path).write_text(compare_html(ws, list(runs), refresh=False),
                                   encoding="utf-8")
        if not as_json:
            click.echo(f"comparison written to {html_path}")


#: The commands this module adds to ``mlyard``.
COMMANDS = [experiments]
