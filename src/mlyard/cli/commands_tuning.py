"""``mlyard tune`` and ``mlyard tuning describe|analytics|list|stop|resume``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlyard.cli.commands_jobs import job_row
from mlyard.cli.context import workspace
from mlyard.cli.options import (
    TRAINING_PARAMS,
    load_spec,
    refuse_with_spec,
    spec_option,
    training_options,
    training_spec,
)
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.cli.waiting import goes_on
from mlyard.core.jobs import list_jobs, reconcile, submit_job, unique_job_name, wait_for_job
from mlyard.core.records import TERMINAL_STATUSES
from mlyard.errors import ConflictError, ValidationError, problem_text
from mlyard.tuning.ranges import parse_range
from mlyard.tuning.spec import TuningJobSpec, TuningObjective, WarmStartConfig

TUNING_PARAMS = ("ranges", "objective", "maximize", "strategy", "gp", "max_jobs",
                 "max_parallel_jobs", "early_stopping", "parents", "warm_start_type")


@click.command("tune")
@training_options(default_threads=1)
@click.option("--range", "ranges", multiple=True, metavar="NAME=MIN:MAX[:SCALE]|[a,b]",
              help="A tuned range: lr=0.01:1.0:log, ngrams=1:3, dim=[50,100,200]; scale "
              "linear, log, reverselog or auto.")
@click.option("--objective", help="The metric to optimize (required without --spec).")
@click.option("--maximize/--minimize", default=True, show_default=True,
              help="Whether a higher or a lower objective is better (SageMaker's "
              "objective type Maximize/Minimize).")
@click.option("--strategy", type=click.Choice(["Random", "Grid", "Bayesian", "Hyperband"],
                                              case_sensitive=False),
              default="Bayesian", show_default=True,
              help="Search strategy (any case: bayesian, Bayesian).")
@click.option("--gp", is_flag=True, help="Bayesian with a Gaussian process instead of TPE.")
@click.option("--max-jobs", type=int, default=10, show_default=True,
              help="Training jobs (trials) in all.")
@click.option("--max-parallel-jobs", type=int, default=1, show_default=True,
              help="Trials running at the same time.")
@click.option("--early-stopping", type=click.Choice(["Off", "Auto"], case_sensitive=False),
              default="Off", show_default=True,
              help="Auto: stop trials that are unlikely to beat the best so far.")
@click.option("--warm-start", "parents", multiple=True, metavar="TUNING_JOB",
              help="A parent tuning job whose trials seed the search (up to 5).")
@click.option("--warm-start-type", type=click.Choice(["IdenticalDataAndAlgorithm",
                                                      "TransferLearning"],
                                                     case_sensitive=False),
              default="IdenticalDataAndAlgorithm", show_default=True,
              help="How the parents' trials relate to this job (SageMaker's warm start "
              "types).")
@spec_option
@click.option("--name", help="Tuning job name.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the tuning job and stream its log.")
@click.option("--quiet", is_flag=True, help="Do not stream the job's log while waiting.")
@click.pass_context
def tune(ctx: click.Context, ranges: tuple[str, ...], objective: str | None, maximize: bool,
         strategy: str, gp: bool, max_jobs: int, max_parallel_jobs: int, early_stopping: str,
         parents: tuple[str, ...], warm_start_type: str, spec_file: str | None,
         name: str | None, wait: bool, quiet: bool, **training: Any) -> None:
    """Start a hyperparameter tuning job whose trials are training jobs (every training
    option of `mlyard train` shapes the trials; --seed also seeds the search)."""
    if spec_file is not None:
        refuse_with_spec(ctx, (*TRAINING_PARAMS, *TUNING_PARAMS))
        spec = load_spec(spec_file, TuningJobSpec)
    else:
        if not objective:
            raise click.UsageError("Missing option '--objective' (or give --spec FILE).")
        parsed = dict(parse_range(text) for text in ranges)
        trials = training_spec(training)
        try:
            spec = TuningJobSpec(
                training=trials, ranges=parsed,
                objective=TuningObjective(metric_name=objective,
                                          type="Maximize" if maximize else "Minimize"),
                strategy=strategy,  # type: ignore[arg-type]
                bayesian_sampler="gp" if gp else "tpe", max_jobs=max_jobs,
                max_parallel_jobs=max_parallel_jobs,
                early_stopping=early_stopping,  # type: ignore[arg-type]
                warm_start=WarmStartConfig(parents=list(parents),
                                           type=warm_start_type)  # type: ignore[arg-type]
                if parents else None,
                seed=trials.seed,
            )
        except ValueError as exc:
            raise ValidationError(f"invalid tuning job: {problem_text(exc)}") from None
    ws = workspace(ctx)
    stem = spec.training.algorithm or Path(spec.training.entry_point or "job").stem
    job_name = name or unique_job_name(f"tune-{stem}")
    submit_job(ws, spec, job_name)
    if not wait:
        click.echo(job_name)
        return
    with goes_on("tuning job", job_name):
        wait_for_job(ws, job_name, on_log=None if quiet else click.echo)
    from mlyard.tuning.analytics import describe_tuning

    best = describe_tuning(ws, job_name)["BestTrainingJob"]
    click.echo(f"tuning job {job_name} Completed; best training job {best['TrainingJobName']} "
               f"{spec.objective.metric_name}="
               f"{fmt(best['FinalHyperParameterTuningJobObjectiveMetric']['Value'])}"
               f" with {json.dumps(best['TunedHyperParameters'])}")


@click.group()
def tuning() -> None:
    """Inspect and control hyperparameter tuning jobs."""


@tuning.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (describe always does; accepted like on every command).")
@click.pass_context
def tuning_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """Best training job, status counters and every trial's objective (JSON)."""
    from mlyard.tuning.analytics import describe_tuning

    echo_json(describe_tuning(workspace(ctx), name))


@tuning.command("analytics")
@click.argument("name")
@click.option("--html", type=click.Path(dir_okay=False), help="Also write the HTML report.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Also write the table as CSV.")
@click.pass_context
def tuning_analytics(ctx: click.Context, name: str, html: str | None,
                     csv_path: str | None) -> None:
    """A table of every trial (and, with --html, a report with charts)."""
    from mlyard.tuning.analytics import trial_rows, tuning_spec
    from mlyard.tuning.report import analytics_frame, write_report

    ws = workspace(ctx)
    spec = tuning_spec(ws, name)
    rows = trial_rows(ws, name)
    frame = analytics_frame(rows)
    params = list(spec.ranges)
    headers = ["trial", "training job", "status", *params, "objective", "seconds"]
    click.echo(table(headers, [
        [r["TrialNumber"], r["TrainingJobName"], r["TrainingJobStatus"],
         *[fmt(r.get(p)) for p in params], fmt(r["FinalObjectiveValue"]),
         fmt(r["TrainingElapsedTimeSeconds"])] for r in frame.to_dict("records")]))
    if csv_path:
        frame.to_csv(csv_path, index=False)
        click.echo(f"table written to {csv_path}")
    if html:
        write_report(rows, Path(html), title=f"tuning job {name}",
                     objective=spec.objective.metric_name, direction=spec.objective.type)
        click.echo(f"report written to {html}")


@tuning.command("list")
@json_option
@click.pass_context
def tuning_list(ctx: click.Context, as_json: bool) -> None:
    """Tuning jobs, newest first (one whose driver died is marked Failed first)."""
    recs = list_jobs(workspace(ctx), job_type="tuning")
    if as_json:
        echo_json([job_row(r) for r in recs])
        return
    click.echo(table(["name", "status", "created"], [
        [r.name, r.status.value, fmt_time(r.created_at)] for r in recs]))


@tuning.command("stop")
@click.argument("name")
@click.pass_context
def tuning_stop(ctx: click.Context, name: str) -> None:
    """Stop a tuning job and its running trials. One that already ended is an error."""
    from mlyard.tuning.control import stop_tuning

    ws = workspace(ctx)
    before = reconcile(ws, ws.store.get_job(name))
    if before.status in TERMINAL_STATUSES:
        raise ConflictError(f"tuning job {name} already {before.status.value}; "
                            "nothing to stop")
    record = stop_tuning(ws, name)
    click.echo(f"tuning job {name} {record.status.value}")


@tuning.command("resume")
@click.argument("name")
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Wait for the tuning job and stream its log.")
@click.pass_context
def tuning_resume(ctx: click.Context, name: str, wait: bool) -> None:
    """Start a tuning job's driver again from its stored trials."""
    from mlyard.tuning.control import resume_tuning

    ws = workspace(ctx)
    resume_tuning(ws, name)
    click.echo(f"tuning job {name} resumed")
    if wait:
        with goes_on("tuning job", name):
            record = wait_for_job(ws, name, on_log=click.echo)
        click.echo(f"tuning job {name} {record.status.value}")
