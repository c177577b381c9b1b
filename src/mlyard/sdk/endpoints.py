"""Endpoints from Python: ``Model.deploy`` -> :class:`Predictor`, endpoint configs with
production variants, weights and autoscaling (SageMaker's names)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.sdk.session import default_workspace
from mlyard.serving.client import EndpointsClient


def endpoints_client(workspace: Workspace | None = None,
                     token: str | None = None) -> EndpointsClient:
    """A client of the workspace's server, started in the background if none runs; it
    sends ``token`` (default: the ``MLYARD_TOKEN`` environment variable) as a bearer
    token."""
    from mlyard.server.run import ensure_server

    ws = workspace or default_workspace()
    return EndpointsClient(ensure_server(ws.settings), token=token)


def new_config_name(endpoint: str) -> str:
    """A fresh endpoint config name for ``endpoint`` (``<endpoint>-<timestamp>-<ms>``)."""
    return f"{endpoint[:40]}-{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1e3) % 1000}"


def production_variant(model_name: str, variant_name: str = "AllTraffic", *,
                       initial_weight: float = 1.0,
                       initial_instance_count: int = 1) -> dict[str, Any]:
    """One ``ProductionVariants`` entry (SageMaker's ``production_variant``)."""
    return {"VariantName": variant_name, "ModelName": model_name,
            "InitialVariantWeight": initial_weight, "InitialInstanceCount": initial_instance_count}


def wait_for_endpoint(client: EndpointsClient, name: str, timeout: float = 300.0,
                      settled: Sequence[str] = ("InService", "Failed")) -> dict[str, Any]:
    """Poll until the endpoint reaches one of ``settled``; raise if it Failed."""
    deadline = time.monotonic() + timeout
    while True:
        desc = client.describe_endpoint(name)
        if desc["EndpointStatus"] in settled:
            if desc["EndpointStatus"] == "Failed":
                raise ValidationError(f"endpoint {name!r} failed: {desc['FailureReason']}")
            return desc
        if time.monotonic() > deadline:
            raise TimeoutError(f"endpoint {name!r} still {desc['EndpointStatus']}")
        time.sleep(0.2)


def create_endpoint(name: str, variants: Sequence[dict[str, Any]], *,
                    shadow_variant: dict[str, Any] | None = None,
                    data_capture: dict[str, Any] | None = None, wait: bool = True,
                    workspace: Workspace | None = None) -> Predictor:
    """Create an endpoint config ``<name>-<timestamp>`` and an endpoint with it."""
    client = endpoints_client(workspace)
    config_name = new_config_name(name)
    spec: dict[str, Any] = {"EndpointConfigName": config_name,
                            "ProductionVariants": list(variants)}
    if shadow_variant is not None:
        spec["ShadowProductionVariant"] = shadow_variant
    if data_capture is not None:
        spec["DataCaptureConfig"] = data_capture
    client.create_endpoint_config(spec)
    client.create_endpoint(name, config_name)
    if wait:
        wait_for_endpoint(client, name)
    return Predictor(name, client=client)


class Predictor:
    """Invoke and manage one endpoint (SageMaker's ``Predictor``)."""

    def __init__(self, endpoint_name: str, *, client: EndpointsClient | None = None,
                 workspace: Workspace | None = None) -> None:
        self.endpoint_name = endpoint_name
        self.client = client or endpoints_client(workspace)
        self.last_variant: str | None = None
        self.last_event_id: str | None = None

    def predict(self, data: Any, *, target_variant: str | None = None,
                content_type: str = "application/json",
                accept: str = "application/json") -> Any:
        """Send ``data`` and return the decoded JSON answer (raw bytes for non-JSON accept
        types).

        With the JSON content type a list (or tuple) of instances is sent as
        ``{"instances": [...]}``, a ``str`` as one instance (``{"instances": [text]}``, as
        SageMaker's JSON serializer sends a string as one JSON value, never one instance per
        character) and a dict as the payload itself. ``bytes`` are always sent as they are
        (a body you serialized yourself), and so is a ``str`` for the other content types
        (a CSV row, a line of text).
        """
        if content_type == "application/json":
            if isinstance(data, list | tuple):
                data = {"instances": list(data)}
            elif isinstance(data, str):
                data = {"instances": [data]}
        body, headers = self.client.invoke(self.endpoint_name, data,
                                           content_type=content_type, accept=accept,
                                           target_variant=target_variant)
        self.last_variant = headers.get("x-amzn-invoked-production-variant")
        self.last_event_id = headers.get("x-mlyard-event-id")
        return json.loads(body) if accept == "application/json" else body

    def close(self) -> None:
        """Close the HTTP connections to the server (the endpoint keeps running)."""
        self.client.close()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return self.client.describe_endpoint(self.endpoint_name)

    def update_weights_and_capacities(self, desired: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """``[{"VariantName": "B", "DesiredWeight": 100, "DesiredInstanceCount": 2}]``."""
        return self.client.update_weights_and_capacities(self.endpoint_name, list(desired))

    def update_endpoint(self, variants: Sequence[dict[str, Any]], *,
                        deployment_config: dict[str, Any] | None = None,
                        wait: bool = True) -> dict[str, Any]:
        """Blue/green update to a new config with ``variants``."""
        config_name = new_config_name(self.endpoint_name)
        self.client.create_endpoint_config({"EndpointConfigName": config_name,
                                            "ProductionVariants": list(variants)})
        self.client.update_endpoint(self.endpoint_name, config_name, deployment_config)
        if not wait:
            return self.describe()
        return wait_for_endpoint(self.client, self.endpoint_name, settled=("InService",
                                                                           "Failed"))

    def put_scaling_policy(self, variant: str, *, target_value: float, min_capacity: int = 1,
                           max_capacity: int = 2, scale_out_cooldown: float = 60,
                           scale_in_cooldown: float = 300, evaluation_seconds: float = 60,
                           metric: str = "InvocationsPerReplica") -> dict[str, Any]:
        """Target tracking autoscaling of one variant."""
        return self.client.put_scaling_policy(self.endpoint_name, variant, {
            "PredefinedMetricType": metric, "TargetValue": target_value,
            "MinCapacity": min_capacity, "MaxCapacity": max_capacity,
            "ScaleOutCooldown": scale_out_cooldown, "ScaleInCooldown": scale_in_cooldown,
            "EvaluationSeconds": evaluation_seconds})

    def metrics(self, metric: str = "Invocations", **kw: Any) -> list[dict[str, Any]]:
        return self.client.metrics(self.endpoint_name, metric, **kw)

    def ab_report(self, ground_truth: dict[str, str] | None = None) -> dict[str, Any]:
        return self.client.ab_report(self.endpoint_name, ground_truth)  # type: ignore[no-any-return]

    def delete_endpoint(self) -> None:
        self.client.delete_endpoint(self.endpoint_name)
