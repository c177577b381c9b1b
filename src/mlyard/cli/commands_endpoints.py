"""``mlyard server`` and ``mlyard endpoints ...``: real-time endpoints."""

from __future__ import annotations

import errno
import json
import time
from pathlib import Path
from typing import Any

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import fmt, fmt_time, table
from mlyard.errors import ValidationError
from mlyard.models.content_types import JSON
from mlyard.sdk.endpoints import new_config_name
from mlyard.serving.client import EndpointsClient


def _client(ctx: click.Context) -> EndpointsClient:
    from mlyard.server.run import ensure_server

    return EndpointsClient(ensure_server(workspace(ctx).settings))


def parse_variant(text: str, *, shadow: bool = False) -> dict[str, Any]:
    """``A=bt-1:weight=50:replicas=1`` (shadow: ``S=bt-2:sampling=10:replicas=1``)."""
    name, sep, rest = text.partition("=")
    parts = rest.split(":")
    if not sep or not name or not parts[0]:
        raise ValidationError(f"expected VARIANT=MODEL[:weight=W][:replicas=N], got {text!r}")
    out: dict[str, Any] = {"VariantName": name, "ModelName": parts[0]}
    keys = {"replicas": "InitialInstanceCount"}
    keys.update({"sampling": "SamplingPercentage"} if shadow
                else {"weight": "InitialVariantWeight"})
    for option in parts[1:]:
        key, sep, value = option.partition("=")
        if key not in keys or not sep:
            raise ValidationError(f"unknown variant option {option!r} in {text!r}; "
                                  f"use {', '.join(k + '=...' for k in keys)}")
        try:
            out[keys[key]] = int(value) if key == "replicas" else float(value)
        except ValueError:
            raise ValidationError(f"{key} must be a number in {text!r}") from None
    return out


def _wait(client: EndpointsClient, name: str) -> dict[str, Any]:
    from mlyard.sdk.endpoints import wait_for_endpoint

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
              metavar="NAME=MODEL[:weight=W][:replicas=N]", help="A production variant.")
@click.option("--shadow", metavar="NAME=MODEL[:sampling=PCT][:replicas=N]",
              help="A shadow variant receiving a sampled copy of traffic.")
@click.option("--capture", type=float, metavar="PCT",
              help="Capture this percentage of requests and responses (data capture).")
@click.option("--wait/--no-wait", default=True, show_default=True)
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
@click.pass_context
def endpoints_list(ctx: click.Context) -> None:
    """List endpoints."""
    rows = _client(ctx).list_endpoints()
    click.echo(table(["name", "status", "config", "created"],
                     [(e["EndpointName"], e["EndpointStatus"], e["EndpointConfigName"],
                       fmt_time(e["CreationTime"])) for e in rows]))


@endpoints.command("describe")
@click.argument("name")
@click.pass_context
def endpoints_describe(ctx: click.Context, name: str) -> None:
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
@click.option("--content-type", default=JSON, show_default=True)
@click.option("--accept", default=JSON, show_default=True)
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
@click.option("--replicas", multiple=True, metavar="VARIANT=N", help="New replica count.")
@click.pass_context
def endpoints_update_weights(ctx: click.Context, name: str, weights: tuple[str, ...],
                             replicas: tuple[str, ...]) -> None:
    """Change variant weights and/or replica counts live."""
    from mlyard.core.params import parse_assignments

    desired: dict[str, dict[str, Any]] = {}
    try:
        for key, value in parse_assignments(weights).items():
            desired.setdefault(key, {"VariantName": key})["DesiredWeight"] = float(value)
        for key, value in parse_assignments(replicas).items():
            desired.setdefault(key, {"VariantName": key})["DesiredInstanceCount"] = int(value)
    except ValueError as exc:
        raise ValidationError(f"weights and replica counts must be numbers: {exc}") from None
    desc = _client(ctx).update_weights_and_capacities(name, list(desired.values()))
    click.echo(table(["variant", "weight", "replicas"],
                     [(v["VariantName"], v["CurrentWeight"], v["CurrentInstanceCount"])
                      for v in desc["ProductionVariants"]]))


@endpoints.command("update")
@click.argument("name")
@click.option("--variant", "variants", multiple=True, required=True,
              metavar="NAME=MODEL[:weight=W][:replicas=N]", help="A variant of the new config.")
@click.option("--traffic", default="all", show_default=True, metavar="all|canary:PCT|linear:PCT",
              help="Blue/green traffic shifting.")
@click.option("--wait-seconds", default=60.0, show_default=True, help="Bake time per step.")
@click.option("--max-error-rate", type=float, help="Roll back above this 5xx share.")
@click.option("--max-p99-ms", type=float, help="Roll back above this p99 latency.")
@click.option("--termination-wait", default=0.0, show_default=True,
              help="Seconds the old fleet stays up after the shift.")
@click.option("--wait/--no-wait", default=True, show_default=True)
@click.pass_context
def endpoints_update(ctx: click.Context, name: str, variants: tuple[str, ...], traffic: str,
                     wait_seconds: float, max_error_rate: float | None,
                     max_p99_ms: float | None, termination_wait: float, wait: bool) -> None:
    """Move an endpoint to new variants with blue/green traffic shifting and rollback."""
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
    desc = client.describe_endpoint(name)
    while wait and desc["EndpointStatus"] in ("Updating", "RollingBack"):
        time.sleep(0.5)
        desc = client.describe_endpoint(name)
    deployment = desc.get("LastDeployment") or {}
    click.echo(f"endpoint {name} {desc['EndpointStatus']}; deployment "
               f"{deployment.get('status', 'InProgress')}"
               + (f": {deployment['reason']}" if deployment.get("reason") else ""))


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
@click.option("--variant", required=True)
@click.option("--target", type=float, help="Target value of the metric.")
@click.option("--metric", type=click.Choice(["InvocationsPerReplica", "ConcurrencyPerReplica"]),
              default="InvocationsPerReplica", show_default=True)
@click.option("--min", "min_capacity", default=1, show_default=True)
@click.option("--max", "max_capacity", default=2, show_default=True)
@click.option("--scale-out-cooldown", default=60.0, show_default=True)
@click.option("--scale-in-cooldown", default=300.0, show_default=True)
@click.option("--evaluation-seconds", default=60.0, show_default=True)
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
