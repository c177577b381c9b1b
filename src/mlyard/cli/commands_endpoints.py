"""``mlyard server`` and ``mlyard endpoints ...``: real-time endpoints."""

from __future__ import annotations

import errno
import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.cli.waiting import goes_on
from mlyard.errors import ValidationError
from mlyard.models.content_types import JSON
from mlyard.sdk.endpoints import new_config_name
from mlyard.serving.client import EndpointsClient

#: Commands that start the workspace's server when none runs (they need one to act); every
#: other command (list, describe, metrics, scaling-activities, report, ...) only connects
#: to a running server and otherwise says how to start one.
STARTS_SERVER = frozenset({"create", "update", "update-weights", "autoscale", "delete",
                           "invoke"})


def _client(ctx: click.Context) -> EndpointsClient:
    """A client of the workspace's server (token from MLYARD_TOKEN); only the commands in
    :data:`STARTS_SERVER` start a server when none runs."""
    from mlyard.server.run import connect_server, ensure_server

    settings = workspace(ctx).settings
    start = ctx.command.name in STARTS_SERVER
    return EndpointsClient(ensure_server(settings) if start else connect_server(settings))


#: Variant option keys that mean SageMaker's ``InitialInstanceCount`` (replicas): the first
#: is the documented one, the others are accepted aliases.
INSTANCE_KEYS = ("instance-count", "instances", "replicas")
VARIANT_METAVAR = "NAME=MODEL[:weight=W][:instance-count=N]"
SHADOW_METAVAR = "NAME=MODEL[:sampling=PCT][:instance-count=N]"


def parse_variant(text: str, *, shadow: bool = False) -> dict[str, Any]:
    """``A=bt-1:weight=50:instance-count=1`` (shadow: ``S=bt-2:sampling=10:instance-count=1``;
    ``replicas=N`` and ``instances=N`` are accepted for ``instance-count=N``)."""
    name, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or not name or not parts[0]:
        raise ValidationError(f"expected {SHADOW_METAVAR if shadow else VARIANT_METAVAR}, "
                              f"got {text!r}")
    out: dict[str, Any] = {"VariantName": name, "ModelName": parts[0]}
    keys = {"sampling": "SamplingPercentage"} if shadow else {"weight": "InitialVariantWeight"}
    keys.update(dict.fromkeys(INSTANCE_KEYS, "InitialInstanceCount"))
    for option in parts[1:]:
        key, sep, value = option.partition("=")
        if key not in keys or not sep:
            shown = [next(iter(keys)), INSTANCE_KEYS[0]]
            raise ValidationError(f"unknown variant option {option!r} in {text!r}; "
                                  f"use {', '.join(k + '=...' for k in shown)}")
        try:
            out[keys[key]] = int(value) if key in INSTANCE_KEYS else float(value)
        except ValueError:
            raise ValidationError(f"{key} must be a number in {text!r}") from None
    return out


def _wait(client: EndpointsClient, name: str) -> dict[str, Any]:
    from mlyard.sdk.endpoints import wait_for_endpoint

    with goes_on("endpoint", name):
        return wait_for_endpoint(client, name)


def _read_body(body: str) -> bytes:
    """``--body``'s bytes: the text itself, or the file named after ``@`` (read before any
    server is contacted, so a wrong name leaves nothing started)."""
    if not body.startswith("@"):
        return body.encode()
    try:
        return Path(body[1:]).read_bytes()
    except OSError as exc:
        raise ValidationError(f"--body {body}: cannot read {body[1:]!r}: "
                              f"{exc.strerror or exc}") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind (127.0.0.1 unless told otherwise).")
@click.option("--port", default=8080, show_default=True, help="Port (0: a free port).")
@click.pass_context
def server(ctx: click.Context, host: str, port: int) -> None:
    """Run the server that hosts endpoints (restores every stored endpoint)."""
    from mlyard.server.run import serve

    try:
        serve(workspace(ctx).settings, host=host, port=port)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        why = {errno.EADDRINUSE: "the address is in use (another server? pick another "
                                 "--port, or --port 0 for a free one)",
               errno.EADDRNOTAVAIL: "that address is not one of this machine's",
               errno.EACCES: "permission denied (ports below 1024 need privileges)"}
        raise ValidationError(f"cannot listen on {host}:{port}: {why[exc.errno]}") from None


@click.group()
def endpoints() -> None:
    """Create, invoke, shift traffic on, autoscale and report on real-time endpoints."""


@endpoints.command("create")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, required=True,
              metavar=VARIANT_METAVAR, help="A production variant.")
@click.option("--shadow", metavar=SHADOW_METAVAR,
              help="A shadow variant receiving a sampled copy of traffic.")
@click.option("--capture", type=float, metavar="PCT",
              help="Capture this percentage of requests and responses (data capture).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait until the endpoint is InService.")
@click.pass_context
def endpoints_create(ctx: click.Context, name: str, variants: tuple[str, ...],
                     shadow: str | None, capture: float | None, wait: bool) -> None:
    """Create endpoint NAME with production variants (an endpoint config is made too)."""
    client = _client(ctx)
    spec: dict[str, Any] = {"EndpointConfigName": new_config_name(name),
                            "ProductionVariants": [parse_variant(v) for v in variants]}
    if shadow:
        spec["ShadowProductionVariant"] = parse_variant(shadow, shadow=True)
    if capture is not None:
        spec["DataCaptureConfig"] = {"enabled": True, "sampling_percentage": capture}
    client.create_endpoint_config(spec)
    client.create_endpoint(name, spec["EndpointConfigName"])
    desc = _wait(client, name) if wait else client.describe_endpoint(name)
    click.echo(f"endpoint {name} {desc['EndpointStatus']} at {client.url}/endpoints/{name}"
               "/invocations")


@endpoints.command("list")
@json_option
@click.pass_context
def endpoints_list(ctx: click.Context, as_json: bool) -> None:
    """List endpoints."""
    rows = _client(ctx).list_endpoints()
    if as_json:
        echo_json(rows)
        return
    click.echo(table(["name", "status", "config", "created"],
                     [(e["EndpointName"], e["EndpointStatus"], e["EndpointConfigName"],
                       fmt_time(e["CreationTime"])) for e in rows]))


@endpoints.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (describe always does; accepted like on every command).")
@click.pass_context
def endpoints_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """Print an endpoint's description as JSON."""
    click.echo(json.dumps(_client(ctx).describe_endpoint(name), indent=2))


@endpoints.command("delete")
@click.argument("name")
@click.pass_context
def endpoints_delete(ctx: click.Context, name: str) -> None:
    """Drain and delete an endpoint."""
    _client(ctx).delete_endpoint(name)
    click.echo(f"deleted {name}")


@endpoints.command("invoke")
@click.argument("name")
@click.option("--body", required=True, help="Request body (use @FILE to read a file).")
@click.option("--content-type", default=JSON, show_default=True,
              help="Media type of the body (JSON, JSON Lines, CSV, text, NPY).")
@click.option("--accept", default=JSON, show_default=True,
              help="Media type wanted for the answer.")
@click.option("--target-variant", help="Send to this variant (X-Amzn-SageMaker-Target-Variant).")
@click.pass_context
def endpoints_invoke(ctx: click.Context, name: str, body: str, content_type: str, accept: str,
                     target_variant: str | None) -> None:
    """Invoke an endpoint (SageMaker InvokeEndpoint) and print the answer."""
    data = _read_body(body)
    out, headers = _client(ctx).invoke(name, data, content_type=content_type, accept=accept,
                                       target_variant=target_variant)
    click.echo(out.decode(errors="replace"))
    click.echo(f"variant: {headers.get('x-amzn-invoked-production-variant')}  "
               f"event: {headers.get('x-mlyard-event-id')}", err=True)


@endpoints.command("update-weights")
@click.argument("name")
@click.argument("weights", nargs=-1, metavar="VARIANT=WEIGHT...")
@click.option("--instance-count", "instance_counts", multiple=True, metavar="VARIANT=N",
              help="New instance (replica) count of a variant.")
@click.option("--replicas", multiple=True, metavar="VARIANT=N", hidden=True,
              help="Alias of --instance-count.")
@click.pass_context
def endpoints_update_weights(ctx: click.Context, name: str, weights: tuple[str, ...],
                             instance_counts: tuple[str, ...],
                             replicas: tuple[str, ...]) -> None:
    """Change variant weights and/or instance (replica) counts live."""
    from mlyard.core.params import parse_assignments

    desired: dict[str, dict[str, Any]] = {}
    try:
        for key, value in parse_assignments(weights).items():
            desired.setdefault(key, {"VariantName": key})["DesiredWeight"] = float(value)
        for key, value in parse_assignments((*instance_counts, *replicas)).items():
            desired.setdefault(key, {"VariantName": key})["DesiredInstanceCount"] = int(value)
    except ValueError as exc:
        raise ValidationError(f"weights and instance counts must be numbers: {exc}") from None
    desc = _client(ctx).update_weights_and_capacities(name, list(desired.values()))
    click.echo(table(["variant", "weight", "instances"],
                     [(v["VariantName"], v["CurrentWeight"], v["CurrentInstanceCount"])
                      for v in desc["ProductionVariants"]]))


@endpoints.command("update")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, required=True,
              metavar=VARIANT_METAVAR, help="A variant of the new config.")
@click.option("--traffic", default="all", show_default=True, metavar="all|canary:PCT|linear:PCT",
              help="Blue/green traffic shifting.")
@click.option("--wait-seconds", default=60.0, show_default=True, help="Bake time per step.")
@click.option("--max-error-rate", type=float, help="Roll back above this 5xx share.")
@click.option("--max-p99-ms", type=float, help="Roll back above this p99 latency.")
@click.option("--termination-wait", default=0.0, show_default=True,
              help="Seconds the old fleet stays up after the shift.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait until the deployment ends (completed or rolled back).")
@click.pass_context
def endpoints_update(ctx: click.Context, name: str, variants: tuple[str, ...], traffic: str,
                     wait_seconds: float, max_error_rate: float | None,
                     max_p99_ms: float | None, termination_wait: float, wait: bool) -> None:
    """Move an endpoint to new variants with blue/green traffic shifting and rollback.

    While it waits, shows the deployment's phase, the time left in the bake and the new
    fleet's invocations and errors so far; exits 1 when the update does not complete (rolled
    back, failed or interrupted), the endpoint staying on its old config."""
    kind, _, pct = traffic.partition(":")
    routing: dict[str, Any] = {"WaitIntervalInSeconds": wait_seconds}
    try:
        if kind == "all":
            routing["Type"] = "AllAtOnce"
        elif kind == "canary":
            routing.update(Type="Canary", CanarySize=float(pct))
        elif kind == "linear":
            routing.update(Type="Linear", LinearStepSize=float(pct))
        else:
            raise ValueError(kind)
    except ValueError:
        raise ValidationError(f"--traffic must be all, canary:PCT or linear:PCT, "
                              f"got {traffic!r}") from None
    rollback: dict[str, Any] = {}
    if max_error_rate is not None:
        rollback["MaxErrorRate"] = max_error_rate
    if max_p99_ms is not None:
        rollback["MaxP99LatencyMs"] = max_p99_ms
    client = _client(ctx)
    config: dict[str, Any] = {"EndpointConfigName": new_config_name(name),
              "ProductionVariants": [parse_variant(v) for v in variants]}
    client.create_endpoint_config(config)
    client.update_endpoint(name, config["EndpointConfigName"], {
        "TrafficRoutingConfiguration": routing, "AutoRollbackConfiguration": rollback,
        "TerminationWaitInSeconds": termination_wait})
    with goes_on("endpoint", name):
        desc = client.describe_endpoint(name)
        if wait:
            desc = _watch_update(client, name, desc)
    deployment = desc.get("LastDeployment") or {}
    status = deployment.get("status", "InProgress")
    click.echo(f"endpoint {name} {desc['EndpointStatus']}; deployment {status}"
               + (f": {deployment['reason']}" if deployment.get("reason") else ""))
    if wait and status != "Completed":
        what = {"RolledBack": "was rolled back", "Failed": "failed",
                "Interrupted": "was interrupted"}.get(status, f"ended {status}")
        click.echo(f"error: the update of endpoint {name} {what}; it still serves config "
                   f"{desc['EndpointConfigName']}", err=True)
        sys.exit(1)


#: Seconds between two looks at an updating endpoint, and between two progress lines that
#: say nothing new (a new phase or step is shown at once).
_POLL_SECONDS = 0.5
_PROGRESS_EVERY = 5.0


def update_progress(desc: dict[str, Any]) -> tuple[str, str]:
    """What an updating endpoint's ``DeploymentProgress`` says, as ``(stage, line)``:
    ``stage`` changes with the phase and step, ``line`` is the text to show."""
    p = desc.get("DeploymentProgress")
    if not p:
        status = str(desc.get("EndpointStatus", "Updating"))
        return status, f"{status}..."
    phase = str(p.get("Phase", ""))
    stage = f"{phase} {p.get('Step')}"
    words = {"StartingNewFleet": "starting the new fleet", "Baking": "baking",
             "WaitingForOutcomes": "waiting for the outcome of requests sent to the new fleet",
             "RollingBack": "rolling back"}
    line = words.get(phase, phase)
    if p.get("Step"):
        line = (f"step {p['Step']}/{p['Steps']} ({float(p['TrafficFraction']) * 100:g}% of "
                f"traffic to the new fleet): {line}")
        if phase == "Baking":
            line += f", {float(p['BakeSecondsLeft']):.0f} s left"
        line += (f"; new fleet so far: {p['Invocations']} invocations, "
                 f"{p['Invocation5XXErrors']} 5xx, {p['Invocation4XXErrors']} 4xx, "
                 f"{p['InFlight']} in flight")
    return stage, line


def _watch_update(client: EndpointsClient, name: str, desc: dict[str, Any]) -> dict[str, Any]:
    """Wait while the endpoint is Updating or RollingBack, showing the deployment's
    progress on stderr (a line when its phase or step changes, else every few seconds);
    returns the final description."""
    shown_stage, shown_at = "", 0.0
    while desc["EndpointStatus"] in ("Updating", "RollingBack"):
        stage, line = update_progress(desc)
        now = time.monotonic()
        if stage != shown_stage or now - shown_at >= _PROGRESS_EVERY:
            click.echo(f"{name}: {line}", err=True)
            shown_stage, shown_at = stage, now
        time.sleep(_POLL_SECONDS)
        desc = client.describe_endpoint(name)
    return desc


@endpoints.command("metrics")
@click.argument("name")
@click.option("--metric", default="Invocations", show_default=True,
              help="Invocations, InvocationsPerReplica, ModelLatency, OverheadLatency, "
                   "Invocation4XXErrors, Invocation5XXErrors, ...")
@click.option("--variant", help="One variant (default: all).")
@click.option("--period", default=60.0, show_default=True, help="Seconds per datapoint.")
@click.option("--stat", default="Sum", show_default=True,
              help="Sum, Average, Minimum, Maximum, SampleCount, p50, p90, p99.")
@click.option("--since", default=3600.0, show_default=True, help="Seconds back from now.")
@click.pass_context
def endpoints_metrics(ctx: click.Context, name: str, metric: str, variant: str | None,
                      period: float, stat: str, since: float) -> None:
    """Query an endpoint metric (CloudWatch-style period and statistic)."""
    points = _client(ctx).metrics(name, metric, variant=variant, period=period, stat=stat,
                                  start=time.time() - since)
    click.echo(table(["time", f"{metric} ({stat})", "samples"],
                     [(fmt_time(p["Timestamp"]), fmt(p["Value"]), p["SampleCount"])
                      for p in points]))


@endpoints.command("autoscale")
@click.argument("name")
@click.option("--variant", required=True, help="The variant to scale.")
@click.option("--target", type=float, help="Target value of the metric.")
@click.option("--metric", type=click.Choice(["InvocationsPerReplica", "ConcurrencyPerReplica"],
                                            case_sensitive=False),
              default="InvocationsPerReplica", show_default=True,
              help="The metric tracked (per instance).")
@click.option("--min", "min_capacity", default=1, show_default=True,
              help="Fewest instances.")
@click.option("--max", "max_capacity", default=2, show_default=True,
              help="Most instances.")
@click.option("--scale-out-cooldown", default=60.0, show_default=True,
              help="Seconds after a scale-out before the next one.")
@click.option("--scale-in-cooldown", default=300.0, show_default=True,
              help="Seconds after a scaling activity before a scale-in.")
@click.option("--evaluation-seconds", default=60.0, show_default=True,
              help="Seconds of metrics each evaluation looks at.")
@click.option("--delete", is_flag=True, help="Remove the variant's policy.")
@click.pass_context
def endpoints_autoscale(ctx: click.Context, name: str, variant: str, target: float | None,
                        metric: str, min_capacity: int, max_capacity: int,
                        scale_out_cooldown: float, scale_in_cooldown: float,
                        evaluation_seconds: float, delete: bool) -> None:
    """Set (or --delete) target-tracking autoscaling of a variant."""
    client = _client(ctx)
    if delete:
        client.delete_scaling_policy(name, variant)
        click.echo(f"removed the scaling policy of {name}/{variant}")
        return
    if target is None:
        raise ValidationError("--target is required (or --delete)")
    policy = client.put_scaling_policy(name, variant, {
        "PredefinedMetricType": metric, "TargetValue": target, "MinCapacity": min_capacity,
        "MaxCapacity": max_capacity, "ScaleOutCooldown": scale_out_cooldown,
        "ScaleInCooldown": scale_in_cooldown, "EvaluationSeconds": evaluation_seconds})
    click.echo(json.dumps(policy, indent=2))


@endpoints.command("scaling-activities")
@click.argument("name")
@click.pass_context
def endpoints_activities(ctx: click.Context, name: str) -> None:
    """An endpoint's history of replica-count changes."""
    rows = _client(ctx).scaling_activities(name)
    click.echo(table(["time", "variant", "from", "to", "status", "cause"],
                     [(fmt_time(a["timestamp"]), a["variant"], a["from_replicas"],
                       a["to_replicas"], a["status"], a["cause"]) for a in rows]))


@endpoints.command("report")
@click.argument("name")
@click.option("--ground-truth", type=click.Path(exists=True, dir_okay=False),
              help="JSON Lines {eventId, label} or CSV eventId,label of captured requests.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False),
              help="Also write the HTML report here.")
@click.pass_context
def endpoints_report(ctx: click.Context, name: str, ground_truth: str | None,
                     html_path: str | None) -> None:
    """A/B report: per-variant latency and errors; accuracy with a significance test and
    a recommended winner when ground truth is given."""
    from mlyard.serving.abreport import load_ground_truth

    truth = load_ground_truth(Path(ground_truth)) if ground_truth else None
    client = _client(ctx)
    report = client.ab_report(name, truth)
    click.echo(json.dumps(report, indent=2))
    if html_path:
        Path(html_path).write_text(client.ab_report(name, truth, html=True))
        click.echo(f"report: {html_path}", err=True)
