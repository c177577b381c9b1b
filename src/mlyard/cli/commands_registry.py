"""``mlyard registry ...``: model package groups, versions, approvals and deployment of
approved versions.

::

    mlyard registry groups [--json]                      groups create NAME [...]
    mlyard registry versions reviews [--status Approved] [--json]
    mlyard registry describe reviews/3 [--json]
    mlyard registry register reviews --model bt-1 [--metrics evaluation.json]
    mlyard registry approve reviews/3 --note "..."      reject reviews/2 --note "..."
    mlyard registry set-deploy-on-approval reviews ENDPOINT | --clear
    mlyard registry deploy reviews/3 --endpoint reviews [--force]

Deploying (``deploy``, and ``approve`` of a version whose group deploys on approval)
goes through the workspace's server, started in the background when none runs, as
``mlyard endpoints create`` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.registry import service
from mlyard.registry.store import ApprovalStatus, ModelPackageRecord, RegistryStore

STATUSES = [s.value for s in ApprovalStatus]


def _store(ctx: click.Context) -> RegistryStore:
    return RegistryStore.of(workspace(ctx).store)


def _accuracy(record: ModelPackageRecord) -> Any:
    """The version's headline metric, when its ModelQuality statistics have one."""
    content = (record.model_metrics.get("ModelQuality", {}).get("Statistics", {})
               .get("Content"))
    if not isinstance(content, dict):
        return None
    metrics = content.get("metrics", content)
    for name in ("accuracy", "f1", "auc", "mse", "rmse"):
        value = metrics.get(name) if isinstance(metrics, dict) else None
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, int | float):
            return f"{name}={fmt(float(value))}"
    return None


def _deploy(ctx: click.Context, record: ModelPackageRecord, endpoint: str,
            instance_count: int, bake_seconds: float | None = None) -> None:
    from mlyard.cli.waiting import goes_on
    from mlyard.sdk.registry import deploy_package

    with goes_on("endpoint", endpoint):
        plan = (None if bake_seconds is None else
                {"TrafficRoutingConfiguration": {"Type": "AllAtOnce",
                                                 "WaitIntervalInSeconds": bake_seconds}})
        predictor = deploy_package(workspace(ctx), record, endpoint,
                                   initial_instance_count=instance_count,
                                   deployment_config=plan)
    predictor.close()
    click.echo(f"deployed {record.arn} (model {record.model_name}) to endpoint {endpoint}")


@click.group()
def registry() -> None:
    """Model package groups and versions: register, approve, reject, deploy."""


@registry.group("groups", invoke_without_command=True)
@json_option
@click.pass_context
def groups(ctx: click.Context, as_json: bool) -> None:
    """List model package groups (or create/delete one: see the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    store = _store(ctx)
    records = store.list_groups()
    if as_json:
        echo_json([service.describe_group(g) for g in records])
        return
    rows = []
    for g in records:
        versions = store.list_versions(g.name)
        latest = versions[-1] if versions else None
        target = g.deploy_on_approval or {}
        rows.append((g.name, len(versions), latest.arn if latest else None,
                     latest.approval_status.value if latest else None,
                     target.get("EndpointName"), fmt_time(g.created_at)))
    click.echo(table(["group", "versions", "latest", "status", "deploy-on-approval",
                      "created"], rows))


@groups.command("create")
@click.argument("name")
@click.option("--description", help="What the group's models are for.")
@click.option("--deploy-on-approval", "endpoint", metavar="ENDPOINT",
              help="Deploy every version approved from now on to this endpoint.")
@click.option("--instance-count", type=int, default=1, show_default=True,
              help="Instances (replicas) of the endpoint deployed on approval.")
@click.pass_context
def groups_create(ctx: click.Context, name: str, description: str | None,
                  endpoint: str | None, instance_count: int) -> None:
    """Create an empty model package group."""
    target = service.deploy_target(endpoint, instance_count) if endpoint else None
    service.create_group(workspace(ctx), name, description=description,
                         deploy_on_approval=target)
    click.echo(f"created model package group {name}"
               + (f" (deploys approved versions to {endpoint})" if endpoint else ""))


@groups.command("delete")
@click.argument("name")
@click.pass_context
def groups_delete(ctx: click.Context, name: str) -> None:
    """Delete an empty model package group."""
    _store(ctx).delete_group(name)
    click.echo(f"deleted model package group {name}")


@registry.command("set-deploy-on-approval")
@click.argument("group")
@click.argument("endpoint", required=False)
@click.option("--instance-count", type=int, default=1, show_default=True,
              help="Instances (replicas) of the endpoint.")
@click.option("--clear", is_flag=True, help="Stop deploying on approval.")
@click.pass_context
def set_deploy_on_approval(ctx: click.Context, group: str, endpoint: str | None,
                           instance_count: int, clear: bool) -> None:
    """Deploy versions of GROUP approved from now on to ENDPOINT (or --clear)."""
    if clear == (endpoint is not None):
        raise click.UsageError("give either ENDPOINT or --clear")
    target = service.deploy_target(endpoint, instance_count) if endpoint else None
    _store(ctx).set_deploy_on_approval(group, target)
    click.echo(f"{group}: " + (f"approved versions deploy to {endpoint}" if endpoint
                               else "no deployment on approval"))


@registry.command("versions")
@click.argument("group")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False),
              help="Only versions with this approval status (any case).")
@json_option
@click.pass_context
def versions(ctx: click.Context, group: str, status: str | None, as_json: bool) -> None:
    """List the versions of GROUP, oldest first."""
    wanted = service.parse_status(status) if status else None
    records = _store(ctx).list_versions(group, wanted)
    if as_json:
        echo_json([service.describe_record(r) for r in records])
        return
    click.echo(table(["version", "status", "model", "metric", "by", "created"], [
        (r.arn, r.approval_status.value, r.model_name, _accuracy(r),
         r.history[-1].by if r.history else r.created_by, fmt_time(r.created_at))
        for r in records]))


@registry.command("describe")
@click.argument("package", metavar="GROUP/VERSION")
@json_option
@click.pass_context
def describe(ctx: click.Context, package: str, as_json: bool) -> None:
    """Show a version: model, metrics and the whole approval history."""
    desc = service.describe_model_package(workspace(ctx), package)
    if as_json:
        echo_json(desc)
        return
    for key in ("ModelPackageArn", "ModelApprovalStatus", "ModelName",
                "ModelPackageDescription", "CreatedBy"):
        click.echo(f"{key}: {fmt(desc.get(key))}")
    click.echo(f"CreationTime: {fmt_time(desc['CreationTime'])}")
    if "SourcePipelineExecution" in desc:
        click.echo(f"SourcePipelineExecution: {json.dumps(desc['SourcePipelineExecution'])}")
    if desc["ModelMetrics"]:
        click.echo("ModelMetrics: " + json.dumps(desc["ModelMetrics"], indent=2))
    click.echo("\nApprovalHistory:")
    click.echo(table(["time", "status", "by", "note"], [
        (fmt_time(h["Time"]), h["Status"], h["By"], h["Note"])
        for h in desc["ApprovalHistory"]]))


@registry.command("register")
@click.argument("group")
@click.option("--model", "model_name", required=True,
              help="A registered model (see `mlyard models list`).")
@click.option("--status", type=click.Choice(STATUSES, case_sensitive=False),
              default=ApprovalStatus.PENDING.value, show_default=True,
              help="The version's first approval status (any case).")
@click.option("--metrics", type=click.Path(dir_okay=False, path_type=Path),
              help="An evaluation.json stored as the version's ModelQuality statistics.")
@click.option("--description", help="What this version is.")
@click.option("--by", help="Who registers it (default: your login name).")
@click.pass_context
def register(ctx: click.Context, group: str, model_name: str, status: str,
             metrics: Path | None, description: str | None, by: str | None) -> None:
    """Register an existing model as the next version of GROUP (created if missing)."""
    model_metrics = None
    if metrics is not None:
        model_metrics = {"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": str(metrics.resolve())}}}
    record = service.register_model_version(
        workspace(ctx), group, model_name=model_name, approval_status=status,
        description=description, model_metrics=model_metrics, created_by=by)
    click.echo(f"registered {record.arn} ({record.approval_status.value})")


def _note_options(f: Any) -> Any:
    f = click.option("--by", help="Who decides (default: your login name).")(f)
    return click.option("--note", help="Why (kept in the approval history).")(f)


@registry.command("approve")
@click.argument("package", metavar="GROUP/VERSION")
@_note_options
@click.option("--no-deploy", is_flag=True,
              help="Do not deploy even if the group deploys on approval.")
@click.pass_context
def approve(ctx: click.Context, package: str, note: str | None, by: str | None,
            no_deploy: bool) -> None:
    """Approve a version (deploying it if its group deploys on approval)."""
    ws = workspace(ctx)
    record = service.approve(ws, package, by=by, note=note)
    click.echo(f"{record.arn} is Approved")
    target = RegistryStore.of(ws.store).get_group(record.group).deploy_on_approval
    if target and not no_deploy:
        _deploy(ctx, record, target["EndpointName"], int(target.get("InstanceCount", 1)))


@registry.command("reject")
@click.argument("package", metavar="GROUP/VERSION")
@_note_options
@click.pass_context
def reject(ctx: click.Context, package: str, note: str | None, by: str | None) -> None:
    """Reject a version (it no longer deploys unless forced)."""
    record = service.reject(workspace(ctx), package, by=by, note=note)
    click.echo(f"{record.arn} is Rejected")


@registry.command("deploy")
@click.argument("package", metavar="GROUP/VERSION")
@click.option("--endpoint", required=True,
              help="The endpoint to create, or to update blue/green if it exists.")
@click.option("--force", is_flag=True, help="Deploy even if the version is not Approved.")
@click.option("--instance-count", type=int, default=1, show_default=True,
              help="Instances (replicas) serving the version.")
@click.option("--bake-seconds", type=click.FloatRange(0, 86400),
              help="Updating an existing endpoint: seconds the new fleet serves all "
              "traffic before the old one goes (default: the server's, 60).")
@click.pass_context
def deploy(ctx: click.Context, package: str, endpoint: str, force: bool,
           instance_count: int, bake_seconds: float | None) -> None:
    """Deploy an approved version to an endpoint (created, or updated blue/green)."""
    service.deploy_target(endpoint, instance_count)
    record = service.deployable(workspace(ctx), package, force=force)
    _deploy(ctx, record, endpoint, instance_count, bake_seconds)


COMMANDS = [registry]
