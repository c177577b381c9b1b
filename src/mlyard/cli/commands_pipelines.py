"""``mlyard pipelines list|describe|definition|upsert|delete|start|executions|steps|stop|
retry|resume|wait``: SageMaker-style pipelines from a definition JSON, and their executions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.cli.waiting import goes_on
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.pipelines import client
from mlyard.pipelines.store import PipelineExecutionRecord


def _execution_row(r: PipelineExecutionRecord) -> dict[str, Any]:
    return {"PipelineExecutionArn": r.execution_id, "PipelineName": r.pipeline,
            "PipelineExecutionStatus": r.status, "PipelineVersion": r.pipeline_version,
            "DisplayName": r.display_name, "StartTime": r.started_at, "EndTime": r.ended_at,
            "FailureReason": r.failure_reason, "Parameters": r.parameters}


def _parse_params(items: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(f"--param {item!r}: use NAME=VALUE")
        params[key] = value
    return params


def _wait(ws: Workspace, execution_id: str) -> None:
    """Wait for the execution; print its end; exit 1 (JobFailedError) unless Succeeded."""
    execution = client.PipelineExecution(ws, execution_id)
    with goes_on("pipeline execution", execution_id):
        record = execution.wait(raise_on_failure=False)
    click.echo(f"pipeline execution {execution_id} {record.status}"
               + (f": {record.failure_reason}" if record.failure_reason else ""))
    if record.status != "Succeeded":
        raise click.exceptions.Exit(1)


@click.group()
def pipelines() -> None:
    """Define pipelines (SageMaker definition JSON) and run, follow and control their
    executions."""


@pipelines.command("list")
@json_option
@click.pass_context
def pipelines_list(ctx: click.Context, as_json: bool) -> None:
    """Every pipeline with its version and latest execution."""
    ws = workspace(ctx)
    rows = [client.describe_pipeline(ws, p.name) for p in client.list_pipelines(ws)]
    if as_json:
        echo_json([{k: v for k, v in r.items() if k != "PipelineDefinition"} for r in rows])
        return
    click.echo(table(["NAME", "VERSION", "MODIFIED", "LAST EXECUTION", "STATUS"], [
        [r["PipelineName"], r["PipelineVersion"], fmt_time(r["LastModifiedTime"]),
         fmt((r["LastExecution"] or {}).get("PipelineExecutionArn")),
         fmt((r["LastExecution"] or {}).get("PipelineExecutionStatus"))] for r in rows]))


@pipelines.command("describe")
@click.argument("name")
@json_option
@click.pass_context
def pipelines_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """A pipeline (SageMaker's DescribePipeline, JSON)."""
    echo_json(client.describe_pipeline(workspace(ctx), name))


@pipelines.command("definition")
@click.argument("name")
@click.pass_context
def pipelines_definition(ctx: click.Context, name: str) -> None:
    """Print a pipeline's definition JSON (what `upsert --definition` takes)."""
    from mlyard.pipelines.store import PipelineStore

    echo_json(PipelineStore.of(workspace(ctx).store).get_pipeline(name).definition)


@pipelines.command("upsert")
@click.argument("name")
@click.option("--definition", "definition_file", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="The pipeline definition JSON file (SageMaker's shape).")
@click.option("--description", help="A description of the pipeline.")
@click.pass_context
def pipelines_upsert(ctx: click.Context, name: str, definition_file: str,
                     description: str | None) -> None:
    """Create or update a pipeline from a definition JSON (checked first)."""
    try:
        data = json.loads(Path(definition_file).read_text())
    except ValueError as exc:
        raise ValidationError(f"{definition_file} is not JSON: {exc}") from None
    record = client.upsert_pipeline(workspace(ctx), name, data, description=description)
    click.echo(f"pipeline {record.name} version {record.version}")


@pipelines.command("delete")
@click.argument("name")
@click.pass_context
def pipelines_delete(ctx: click.Context, name: str) -> None:
    """Delete a pipeline and its executions' records (their jobs and artifacts stay);
    refused while an execution runs."""
    client.delete_pipeline(workspace(ctx), name)
    click.echo(f"pipeline {name} deleted")


@pipelines.command("start")
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A pipeline parameter's value (repeatable); others take their default.")
@click.option("--display-name", help="A display name for the execution.")
@click.option("--parallelism", type=click.IntRange(1, 256),
              help="Steps running at once (default: the CPU count, at most 8).")
@click.option("--wait", is_flag=True, help="Wait for the execution to end (exit 1 unless "
              "it Succeeded).")
@click.pass_context
def pipelines_start(ctx: click.Context, name: str, params: tuple[str, ...],
                    display_name: str | None, parallelism: int | None, wait: bool) -> None:
    """Start an execution of a pipeline; prints its id."""
    ws = workspace(ctx)
    execution = client.start_pipeline(ws, name, _parse_params(params),
                                      display_name=display_name, parallelism=parallelism)
    click.echo(execution.execution_id)
    if wait:
        _wait(ws, execution.execution_id)


@pipelines.command("executions")
@click.argument("name")
@json_option
@click.pass_context
def pipelines_executions(ctx: click.Context, name: str, as_json: bool) -> None:
    """A pipeline's executions, newest first."""
    rows = [_execution_row(r) for r in client.list_executions(workspace(ctx), name)]
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["EXECUTION", "STATUS", "VERSION", "STARTED", "ENDED", "FAILURE"], [
        [r["PipelineExecutionArn"], r["PipelineExecutionStatus"], r["PipelineVersion"],
         fmt_time(r["StartTime"]), fmt_time(r["EndTime"]), fmt(r["FailureReason"])]
        for r in rows]))


@pipelines.command("steps")
@click.argument("execution")
@json_option
@click.pass_context
def pipelines_steps(ctx: click.Context, execution: str, as_json: bool) -> None:
    """An execution's steps: status, attempt, job, cache hit, outcome, times, reason."""
    steps = client.PipelineExecution(workspace(ctx), execution).list_steps()
    if as_json:
        echo_json(steps)
        return
    rows = []
    for s in steps:
        detail = s["Metadata"].get("Condition", {}).get("Outcome")
        detail = f"outcome {detail}" if detail else None
        if "CacheHitResult" in s:
            detail = f"cache hit ({s['CacheHitResult']['SourcePipelineExecutionArn']})"
        rows.append([s["StepName"], s["StepType"], s["StepStatus"], s["AttemptCount"],
                     fmt(s["JobName"]), fmt(detail), fmt_time(s["StartTime"]),
                     fmt_time(s["EndTime"]), fmt(s.get("FailureReason"))])
    click.echo(table(["STEP", "TYPE", "STATUS", "ATTEMPT", "JOB", "DETAIL", "STARTED",
                      "ENDED", "FAILURE"], rows))


@pipelines.command("stop")
@click.argument("execution")
@click.pass_context
def pipelines_stop(ctx: click.Context, execution: str) -> None:
    """Stop an execution: its running steps' jobs stop, it ends Stopped."""
    record = client.stop_execution(workspace(ctx), execution)
    click.echo(f"pipeline execution {execution} {record.status}")


@pipelines.command("retry")
@click.argument("execution")
@click.option("--wait", is_flag=True, help="Wait for the execution to end (exit 1 unless "
              "it Succeeded).")
@click.pass_context
def pipelines_retry(ctx: click.Context, execution: str, wait: bool) -> None:
    """Run a Failed or Stopped execution's failed and stopped steps again (Succeeded steps
    are kept)."""
    ws = workspace(ctx)
    client.retry_execution(ws, execution)
    click.echo(f"pipeline execution {execution} retrying")
    if wait:
        _wait(ws, execution)


@pipelines.command("resume")
@click.argument("execution")
@click.option("--wait", is_flag=True, help="Wait for the execution to end (exit 1 unless "
              "it Succeeded).")
@click.pass_context
def pipelines_resume(ctx: click.Context, execution: str, wait: bool) -> None:
    """Start the driver of an execution whose driver died again; it goes on from the
    stored steps without re-running finished ones."""
    ws = workspace(ctx)
    client.resume_execution(ws, execution)
    click.echo(f"pipeline execution {execution} resumed")
    if wait:
        _wait(ws, execution)


@pipelines.command("wait")
@click.argument("execution")
@click.pass_context
def pipelines_wait(ctx: click.Context, execution: str) -> None:
    """Wait for an execution to end (exit 1 unless it Succeeded)."""
    _wait(workspace(ctx), execution)


COMMANDS = [pipelines]
