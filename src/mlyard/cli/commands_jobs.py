"""``mlyard train``, ``mlyard process``, ``mlyard jobs ...`` and ``mlyard job run``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

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
from mlyard.core.jobs import (
    describe_job,
    list_jobs,
    reconcile,
    stop_job,
    submit_job,
    unique_job_name,
    wait_for_job,
)
from mlyard.core.kinds import get_job_kind
from mlyard.core.params import parse_assignments
from mlyard.core.records import TERMINAL_STATUSES, JobRecord, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, ValidationError, problem_text
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput
from mlyard.training.spec import TrainingJobSpec


def _finish(ws: Workspace, name: str, wait: bool, quiet: bool) -> None:
    if not wait:
        click.echo(name)
        return
    with goes_on("job", name):
        record = wait_for_job(ws, name, on_log=None if quiet else click.echo,
                              raise_on_failure=True)
    final = {p.name: p.value for p in ws.store.get_metrics(name)}
    summary = ", ".join(f"{k}={fmt(v)}" for k, v in final.items())
    click.echo(f"job {name} {record.status.value} in {fmt(record.duration)} s"
               + (f"; {summary}" if summary else ""))


def _spec_error(exc: ValueError) -> ValidationError:
    return ValidationError(f"invalid job: {problem_text(exc)}")


@click.command()
@training_options()
@spec_option
@click.option("--name", help="Job name (default: algorithm or script plus a timestamp).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and stream its log.")
@click.option("--quiet", is_flag=True, help="Do not stream the job's log while waiting.")
@click.pass_context
def train(ctx: click.Context, spec_file: str | None, name: str | None, wait: bool,
          quiet: bool, **options: Any) -> None:
    """Start a training job (built-in algorithm, your script or any command)."""
    if spec_file is not None:
        refuse_with_spec(ctx, TRAINING_PARAMS)
        spec = load_spec(spec_file, TrainingJobSpec)
    else:
        spec = training_spec(options)
    ws = workspace(ctx)
    stem = (Path(spec.entry_point).stem if spec.entry_point
            else "command" if spec.command else "train")
    job_name = name or unique_job_name(spec.algorithm or stem)
    submit_job(ws, spec, job_name)
    _finish(ws, job_name, wait, quiet)


PROCESS_PARAMS = ("entry_point", "command_line", "python_exe", "image", "source_dir", "inputs",
                  "outputs", "arguments", "max_run", "env_vars")


@click.command()
@click.option("--entry-point", help="Your processing script.")
@click.option("--command", "command_line", metavar="'CMD ARGS'",
              help="Run this command (any program) instead of a script.")
@click.option("--python", "python_exe", help="Python interpreter of your own environment.")
@click.option("--image", help="Run in this container image (Docker or Podman).")
@click.option("--source-dir", type=click.Path(exists=True, file_okay=False),
              help="Folder holding the script.")
@click.option("--input", "inputs", multiple=True, metavar="NAME=PATH",
              help="An input, staged at {input:NAME}.")
@click.option("--output", "outputs", multiple=True, metavar="NAME[=DEST]",
              help="An output folder {output:NAME}, stored at DEST (default: job artifacts).")
@click.option("--arg", "arguments", multiple=True, help="An argument for the script.")
@click.option("--env", "env_vars", multiple=True, metavar="NAME=VALUE",
              help="An environment variable for the script.")
@click.option("--max-run", type=int, help="Stop the job after this many seconds.")
@spec_option
@click.option("--name", help="Job name.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and stream its log.")
@click.option("--quiet", is_flag=True, help="Do not stream the job's log while waiting.")
@click.pass_context
def process(ctx: click.Context, entry_point: str | None, command_line: str | None,
            python_exe: str | None, image: str | None, source_dir: str | None,
            inputs: tuple[str, ...], outputs: tuple[str, ...], arguments: tuple[str, ...],
            env_vars: tuple[str, ...], max_run: int | None, spec_file: str | None,
            name: str | None, wait: bool, quiet: bool) -> None:
    """Start a processing job running your script or command."""
    import shlex

    if spec_file is not None:
        refuse_with_spec(ctx, PROCESS_PARAMS)
        spec = load_spec(spec_file, ProcessingJobSpec)
    else:
        outs = []
        for item in outputs:
            key, _, dest = item.partition("=")
            outs.append(ProcessingOutput(name=key, destination=dest or None))
        try:
            spec = ProcessingJobSpec(
                entry_point=entry_point, source_dir=source_dir, arguments=list(arguments),
                command=shlex.split(command_line) if command_line is not None else None,
                python=python_exe, image=image, environment=parse_assignments(env_vars),
                inputs=[ProcessingInput(name=k, source=v)
                        for k, v in parse_assignments(inputs).items()],
                outputs=outs, max_runtime_seconds=max_run,
            )
        except ValueError as exc:
            raise _spec_error(exc) from None
    ws = workspace(ctx)
    stem = Path(spec.entry_point).stem if spec.entry_point else "command"
    job_name = name or unique_job_name(stem)
    submit_job(ws, spec, job_name)
    _finish(ws, job_name, wait, quiet)


@click.group()
def jobs() -> None:
    """List, describe, follow and stop jobs."""


def status_choice() -> click.Choice:
    """Job statuses in SageMaker's casing, accepted in any case (``inprogress``)."""
    return click.Choice([s.value for s in JobStatus], case_sensitive=False)


def job_row(r: JobRecord) -> dict[str, Any]:
    """One job of a ``--json`` list, in the fields of the server's ``GET /api/jobs``."""
    return {"JobName": r.name, "JobType": r.job_type, "JobStatus": r.status.value,
            "CreationTime": r.created_at, "LastModifiedTime": r.updated_at,
            "EndTime": r.ended_at, "DurationSeconds": r.duration,
            "FailureReason": r.failure_reason}


@jobs.command("list")
@click.option("--status", type=status_choice(), help="Only jobs with this status.")
@click.option("--type", "job_type", metavar="KIND",
              help="Only jobs of this kind (training, processing, transform, tuning, ...).")
@click.option("--limit", default=50, show_default=True, help="At most this many jobs.")
@json_option
@click.pass_context
def jobs_list(ctx: click.Context, status: str | None, job_type: str | None, limit: int,
              as_json: bool) -> None:
    """List jobs, newest first (a job whose process died is marked Failed first)."""
    if job_type is not None:
        get_job_kind(job_type)  # an unknown kind is an error listing the known ones
    recs = list_jobs(workspace(ctx), job_type=job_type,
                     status=JobStatus(status) if status else None, limit=limit)
    if as_json:
        echo_json([job_row(r) for r in recs])
        return
    click.echo(table(["name", "type", "status", "created", "seconds", "failure"],
                     [(r.name, r.job_type, r.status.value, fmt_time(r.created_at),
                       r.duration, (r.failure_reason or "")[:60]) for r in recs]))


@jobs.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (describe always does; accepted like on every command).")
@click.pass_context
def jobs_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """Print a job's description as JSON."""
    echo_json(describe_job(workspace(ctx), name))


@jobs.command("logs")
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the job ends.")
@click.pass_context
def jobs_logs(ctx: click.Context, name: str, follow: bool) -> None:
    """Print a job's captured log."""
    ws = workspace(ctx)
    ws.store.get_job(name)
    if follow:
        with goes_on("job", name):
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
    """Stop a running job (it ends Stopped). A job that already ended is an error."""
    ws = workspace(ctx)
    before = reconcile(ws, ws.store.get_job(name))
    if before.status in TERMINAL_STATUSES:
        raise ConflictError(f"job {name} already {before.status.value}; nothing to stop")
    record = stop_job(ws, name)
    click.echo(f"job {name} {record.status.value}")


@jobs.command("wait")
@click.argument("name")
@click.option("--timeout", type=float, help="Give up after this many seconds.")
@click.pass_context
def jobs_wait(ctx: click.Context, name: str, timeout: float | None) -> None:
    """Wait for a job to end; exit 1 unless it Completed."""
    with goes_on("job", name):
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


@job.command("standby")
@click.option("--preload", multiple=True, metavar="MODULE",
              help="A module to import before reporting ready (repeatable).")
@click.pass_context
def job_standby(ctx: click.Context, preload: tuple[str, ...]) -> None:
    """Wait, warm, for one job name on stdin and run that job like `job run` (used by the
    local executor's standbys). Prints `ready` once imports are done; exits 0 on end of
    input."""
    from mlyard.core.runner import run_standby

    obj = ctx.find_root().obj
    sys.exit(run_standby(preload, home=obj.get("home") if isinstance(obj, dict) else None))


@job.command("worker")
@click.argument("worker_file", type=click.Path(exists=True, dir_okay=False))
def job_worker(worker_file: str) -> None:
    """Train a built-in algorithm as one worker process of a job (used by the runner for
    distributed and spot training)."""
    from mlyard.training.run import worker_main

    sys.exit(worker_main(Path(worker_file)))
