"""``mlyard train``, ``mlyard process``, ``mlyard jobs ...`` and ``mlyard job run``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import fmt, fmt_time, table
from mlyard.core.jobs import (
    describe_job,
    stop_job,
    submit_job,
    unique_job_name,
    wait_for_job,
)
from mlyard.core.params import parse_assignments
from mlyard.core.records import TERMINAL_STATUSES, JobStatus, JobType
from mlyard.core.specs import (
    Channel,
    MetricDefinitionSpec,
    ProcessingInput,
    ProcessingJobSpec,
    ProcessingOutput,
    ResourceConfig,
    TrainingJobSpec,
)
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError


def _finish(ws: Workspace, name: str, wait: bool, quiet: bool) -> None:
    if not wait:
        click.echo(name)
        return
    record = wait_for_job(ws, name, on_log=None if quiet else click.echo,
                          raise_on_failure=True)
    final = {p.name: p.value for p in ws.store.get_metrics(name)}
    summary = ", ".join(f"{k}={fmt(v)}" for k, v in final.items())
    click.echo(f"job {name} {record.status.value} in {fmt(record.duration)} s"
               + (f"; {summary}" if summary else ""))


def _spec_error(exc: ValueError) -> ValidationError:
    return ValidationError(f"invalid job: {exc}")


@click.command()
@click.option("--algorithm", help="Built-in algorithm (see `mlyard algorithms list`).")
@click.option("--entry-point", help="Your training script (SageMaker script mode).")
@click.option("--source-dir", type=click.Path(exists=True, file_okay=False),
              help="Folder holding the script.")
@click.option("--train", "train_path", help="The train channel (file or folder).")
@click.option("--validation", help="The validation channel (file or folder).")
@click.option("--channel", multiple=True, metavar="NAME=PATH", help="More channels.")
@click.option("--hp", multiple=True, metavar="NAME=VALUE", help="A hyperparameter.")
@click.option("--metric", multiple=True, metavar="NAME=REGEX",
              help="A metric parsed from log lines (first group is the value).")
@click.option("--name", help="Job name (default: algorithm or script plus a timestamp).")
@click.option("--threads", default=0, show_default=True, help="CPU threads (0: all cores).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True)
@click.option("--max-run", type=int, help="Stop the job after this many seconds.")
@click.option("--seed", default=0, show_default=True)
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and stream its logs.")
@click.option("--quiet", is_flag=True, help="Do not stream logs while waiting.")
@click.pass_context
def train(ctx: click.Context, algorithm: str | None, entry_point: str | None,
          source_dir: str | None, train_path: str | None, validation: str | None,
          channel: tuple[str, ...], hp: tuple[str, ...], metric: tuple[str, ...],
          name: str | None, threads: int, device: str, max_run: int | None, seed: int,
          wait: bool, quiet: bool) -> None:
    """Start a training job (built-in algorithm or your script)."""
    channels = dict(parse_assignments(channel))
    if train_path:
        channels["train"] = train_path
    if validation:
        channels["validation"] = validation
    try:
        spec = TrainingJobSpec(
            algorithm=algorithm, entry_point=entry_point, source_dir=source_dir,
            hyperparameters=parse_assignments(hp),
            channels=[Channel(name=k, uri=v) for k, v in channels.items()],
            metric_definitions=[MetricDefinitionSpec(name=k, regex=v)
                                for k, v in parse_assignments(metric).items()],
            resources=ResourceConfig(num_threads=threads, device=device),  # type: ignore[arg-type]
            max_runtime_seconds=max_run, seed=seed,
        )
    except ValueError as exc:
        raise _spec_error(exc) from None
    ws = workspace(ctx)
    job_name = name or unique_job_name(algorithm or Path(entry_point or "train").stem)
    submit_job(ws, spec, job_name)
    _finish(ws, job_name, wait, quiet)


@click.command()
@click.option("--entry-point", required=True, help="Your processing script.")
@click.option("--source-dir", type=click.Path(exists=True, file_okay=False))
@click.option("--input", "inputs", multiple=True, metavar="NAME=PATH",
              help="An input, staged at {input:NAME}.")
@click.option("--output", "outputs", multiple=True, metavar="NAME[=DEST]",
              help="An output folder {output:NAME}, stored at DEST (default: job artifacts).")
@click.option("--arg", "arguments", multiple=True, help="An argument for the script.")
@click.option("--name", help="Job name.")
@click.option("--max-run", type=int, help="Stop the job after this many seconds.")
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.option("--quiet", is_flag=True)
@click.pass_context
def process(ctx: click.Context, entry_point: str, source_dir: str | None,
            inputs: tuple[str, ...], outputs: tuple[str, ...], arguments: tuple[str, ...],
            name: str | None, max_run: int | None, wait: bool, quiet: bool) -> None:
    """Start a processing job running your script."""
    outs = []
    for item in outputs:
        key, _, dest = item.partition("=")
        outs.append(ProcessingOutput(name=key, destination=dest or None))
    try:
        spec = ProcessingJobSpec(
            entry_point=entry_point, source_dir=source_dir, arguments=list(arguments),
            inputs=[ProcessingInput(name=k, source=v)
                    for k, v in parse_assignments(inputs).items()],
            outputs=outs, max_runtime_seconds=max_run,
        )
    except ValueError as exc:
        raise _spec_error(exc) from None
    ws = workspace(ctx)
    job_name = name or unique_job_name(Path(entry_point).stem)
    submit_job(ws, spec, job_name)
    _finish(ws, job_name, wait, quiet)


@click.group()
def jobs() -> None:
    """List, describe, follow and stop jobs."""


@jobs.command("list")
@click.option("--status", type=click.Choice([s.value for s in JobStatus]))
@click.option("--type", "job_type", type=click.Choice([t.value for t in JobType]))
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def jobs_list(ctx: click.Context, status: str | None, job_type: str | None, limit: int) -> None:
    """List jobs, newest first."""
    recs = workspace(ctx).store.list_jobs(
        job_type=JobType(job_type) if job_type else None,
        status=JobStatus(status) if status else None, limit=limit)
    click.echo(table(["name", "type", "status", "created", "seconds", "failure"],
                     [(r.name, r.job_type.value, r.status.value, fmt_time(r.created_at),
                       r.duration, (r.failure_reason or "")[:60]) for r in recs]))


@jobs.command("describe")
@click.argument("name")
@click.pass_context
def jobs_describe(ctx: click.Context, name: str) -> None:
    """Print a job's description as JSON."""
    click.echo(json.dumps(describe_job(workspace(ctx), name), indent=2, default=str))


@jobs.command("logs")
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the job ends.")
@click.pass_context
def jobs_logs(ctx: click.Context, name: str, follow: bool) -> None:
    """Print a job's captured log."""
    ws = workspace(ctx)
    ws.store.get_job(name)
    if follow:
        wait_for_job(ws, name, on_log=click.echo, raise_on_failure=False)
        return
    seq = 0
    while True:
        lines = ws.store.get_logs(name, after_seq=seq)
        if not lines:
            break
        for line in lines:
            click.echo(line.line)
        seq = lines[-1].seq


@jobs.command("metrics")
@click.argument("name")
@click.option("--metric", help="Only this metric.")
@click.pass_context
def jobs_metrics(ctx: click.Context, name: str, metric: str | None) -> None:
    """Print a job's metric time series."""
    ws = workspace(ctx)
    ws.store.get_job(name)
    points = ws.store.get_metrics(name, metric)
    click.echo(table(["metric", "step", "value", "time"],
                     [(p.name, p.step, p.value, fmt_time(p.timestamp)) for p in points]))


@jobs.command("stop")
@click.argument("name")
@click.pass_context
def jobs_stop(ctx: click.Context, name: str) -> None:
    """Stop a running job (it ends Stopped)."""
    record = stop_job(workspace(ctx), name)
    click.echo(f"job {name} {record.status.value}")


@jobs.command("wait")
@click.argument("name")
@click.option("--timeout", type=float, help="Give up after this many seconds.")
@click.pass_context
def jobs_wait(ctx: click.Context, name: str, timeout: float | None) -> None:
    """Wait for a job to end; exit 1 unless it Completed."""
    record = wait_for_job(workspace(ctx), name, timeout=timeout)
    click.echo(f"job {name} {record.status.value}")


@click.group(hidden=True)
def job() -> None:
    """Internal: the command every job process runs."""


@job.command("run")
@click.argument("name")
@click.pass_context
def job_run(ctx: click.Context, name: str) -> None:
    """Run the Pending job NAME in this process (used by executors)."""
    from mlyard.core.runner import run_job

    start = time.time()
    status = run_job(workspace(ctx), name)
    click.echo(f"job {name} {status.value} after {time.time() - start:.1f} s")
    if status not in TERMINAL_STATUSES or status is not JobStatus.COMPLETED:
        sys.exit(1)


@job.command("worker")
@click.argument("worker_file", type=click.Path(exists=True, dir_okay=False))
def job_worker(worker_file: str) -> None:
    """Train a built-in algorithm as one worker process of a job (used by the runner for
    distributed and spot training)."""
    from mlyard.training.run import worker_main

    sys.exit(worker_main(Path(worker_file)))
