"""The endpoints control plane (JSON, SageMaker's API names)::

    POST   /api/endpoint-configs                    CreateEndpointConfig
    GET    /api/endpoint-configs                    ListEndpointConfigs
    GET    /api/endpoint-configs/{name}             DescribeEndpointConfig
    POST   /api/endpoints                           CreateEndpoint
    GET    /api/endpoints                           ListEndpoints
    GET    /api/endpoints/{name}                    DescribeEndpoint
    PUT    /api/endpoints/{name}                    UpdateEndpoint (blue/green)
    DELETE /api/endpoints/{name}                    DeleteEndpoint
    POST   /api/endpoints/{name}/weights            UpdateEndpointWeightsAndCapacities
    GET    /api/endpoints/{name}/metrics            ?metric=&variant=&period=&stat=&start=&end=
    PUT    /api/endpoints/{name}/variants/{variant}/scaling-policy   (DELETE removes it)
    GET    /api/endpoints/{name}/scaling-activities
    POST   /api/endpoints/{name}/ab-report          {GroundTruth: {eventId: label}}

Handlers parse the request (:mod:`mlyard.server.wire`), call one method of the
:class:`~mlyard.serving.manager.EndpointManager` and write its answer; the manager validates
everything else and raises the errors the app answers.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.errors import ValidationError
from mlyard.server.openapi import (
    ApiRoute,
    Operation,
    Param,
    Reply,
    json_body,
    json_reply,
)
from mlyard.server.wire import json_response, query_float, query_str, read_json_object
from mlyard.serving.endpoint_specs import DeploymentConfig, EndpointConfig, TargetTrackingPolicy
from mlyard.serving.manager import EndpointManager
from mlyard.serving.metrics import STATS
from mlyard.serving.store import EndpointStatus

TAG = "endpoints"
NUMBER = {"type": "number"}
TEXT = {"type": "string"}
_CONFIG_IN = EndpointConfig.model_json_schema(by_alias=True)
_CONFIG_OUT = EndpointConfig.model_json_schema(by_alias=True, mode="serialization")
_POLICY_IN = TargetTrackingPolicy.model_json_schema(by_alias=True)
_POLICY_OUT = TargetTrackingPolicy.model_json_schema(by_alias=True, mode="serialization")
_DEPLOYMENT_IN = DeploymentConfig.model_json_schema(by_alias=True)
_STATUS = {"type": "string", "enum": [s.value for s in EndpointStatus]}
_VARIANT = {
    "type": "object",
    "properties": {"VariantName": TEXT, "ModelName": TEXT, "CurrentWeight": NUMBER,
                   "CurrentInstanceCount": {"type": "integer"},
                   "HealthyInstanceCount": {"type": "integer"},
                   "Replicas": {"type": "array", "items": {"type": "object"}}},
}
_DESCRIPTION = {
    "type": "object",
    "required": ["EndpointName", "EndpointConfigName", "EndpointStatus",
                 "ProductionVariants"],
    "properties": {
        "EndpointName": TEXT, "EndpointConfigName": TEXT, "EndpointStatus": _STATUS,
        "FailureReason": {"type": ["string", "null"]}, "CreationTime": NUMBER,
        "LastModifiedTime": NUMBER, "ProductionVariants": {"type": "array", "items": _VARIANT},
        "AutoScaling": {"type": "object", "description": "Scaling policy per variant"},
        "LastDeployment": {"type": ["object", "null"]},
        "ShadowProductionVariant": {"type": "object"},
        "PendingDeployment": {"type": "object"},
        "DeploymentProgress": {
            "type": "object", "description": "A running update: Phase, Step, Steps, "
            "TrafficFraction, BakeSecondsLeft, the new fleet's Invocations, "
            "Invocation4XXErrors, Invocation5XXErrors and InFlight requests so far"},
    },
}
_WEIGHTS = {
    "type": "object",
    "required": ["DesiredWeightsAndCapacities"],
    "properties": {"DesiredWeightsAndCapacities": {
        "type": "array", "minItems": 1,
        "items": {"type": "object", "required": ["VariantName"], "properties": {
            "VariantName": TEXT, "DesiredWeight": {"type": "number", "minimum": 0},
            "DesiredInstanceCount": {"type": "integer", "minimum": 1, "maximum": 16}}}}},
}
_STAT_PATTERN = r"^(Sum|Average|Minimum|Maximum|SampleCount|p(\d{1,2}(\.\d+)?|100(\.0+)?))$"
_METRIC_PARAMS = (
    Param("metric", "query", {"type": "string", "maxLength": 256, "default": "Invocations"},
          "Invocations, Invocation4XXErrors, Invocation5XXErrors, ModelLatency, "
          "OverheadLatency, CPUUtilization, ..."),
    Param("variant", "query", {"type": "string", "maxLength": 256},
          "One variant (all of them when absent)"),
    Param("period", "query", {"type": "number", "minimum": 0.001, "maximum": 1e9,
                              "default": 60}, "Seconds per datapoint"),
    Param("stat", "query", {"type": "string", "pattern": _STAT_PATTERN, "default": "Sum"},
          f"{', '.join(STATS[:5])} or a percentile pNN / pNN.N"),
    Param("start", "query", NUMBER,
          "Epoch seconds; a negative value counts back from now"),
    Param("end", "query", NUMBER, "Epoch seconds"),
)
_DATAPOINTS = {
    "type": "object", "required": ["Label", "Datapoints"],
    "properties": {"Label": TEXT, "Datapoints": {"type": "array", "items": {
        "type": "object", "properties": {"Timestamp": NUMBER, "Value": {"type": ["number",
                                                                                  "null"]},
                                         "SampleCount": {"type": "integer"}}}}},
}
_ACTIVITY = {
    "type": "object",
    "properties": {"endpoint": TEXT, "variant": TEXT, "timestamp": NUMBER,
                   "from_replicas": {"type": "integer"}, "to_replicas": {"type": "integer"},
                   "cause": TEXT, "status": TEXT},
}
_GROUND_TRUTH = {
    "type": "object",
    "properties": {"GroundTruth": {
        "type": ["object", "null"], "additionalProperties": {"type": "string"},
        "description": "True label per event id (X-Mlyard-Event-Id of the invocation)"}},
}
_NO_CONTENT = {204: Reply()}


class EndpointRoutes:
    """The control plane's handlers over one manager."""

    def __init__(self, manager: EndpointManager, max_body: int) -> None:
        self.manager = manager
        self.max_body = max_body

    async def _json(self, request: Request) -> dict[str, Any]:
        return await read_json_object(request, self.max_body)

    # -- endpoint configs -------------------------------------------------------------
    async def create_config(self, request: Request) -> Response:
        config = self.manager.create_endpoint_config(await self._json(request))
        return json_response(config.model_dump(mode="json", by_alias=True), 201)

    async def list_configs(self, request: Request) -> Response:
        return json_response([{"EndpointConfigName": c.name, "CreationTime": c.created_at}
                              for c in self.manager.list_endpoint_configs()])

    async def get_config(self, request: Request) -> Response:
        return json_response(self.manager.endpoint_config(request.path_params["name"]))

    # -- endpoints ----------------------------------------------------------------------
    async def create_endpoint(self, request: Request) -> Response:
        data = await self._json(request)
        name, config = data.get("EndpointName"), data.get("EndpointConfigName")
        if not isinstance(name, str) or not isinstance(config, str):
            raise ValidationError("EndpointName and EndpointConfigName are required strings")
        await self.manager.create_endpoint(name, config)
        return json_response(self.manager.describe(name), 201)

    async def list_endpoints(self, request: Request) -> Response:
        return json_response([{"EndpointName": e.name, "EndpointStatus": e.status.value,
                               "EndpointConfigName": e.config_name,
                               "CreationTime": e.created_at}
                              for e in self.manager.list_endpoints()])

    async def describe(self, request: Request) -> Response:
        return json_response(self.manager.describe(request.path_params["name"]))

    async def update(self, request: Request) -> Response:
        name = request.path_params["name"]
        data = await self._json(request)
        config = data.get("EndpointConfigName")
        if not isinstance(config, str):
            raise ValidationError("EndpointConfigName is required")
        await self.manager.update_endpoint(name, config, data.get("DeploymentConfig"))
        return json_response(self.manager.describe(name))

    async def delete(self, request: Request) -> Response:
        await self.manager.delete_endpoint(request.path_params["name"])
        return Response(status_code=204)

    async def weights(self, request: Request) -> Response:
        name = request.path_params["name"]
        data = await self._json(request)
        desired = data.get("DesiredWeightsAndCapacities")
        if not isinstance(desired, list) or not all(isinstance(d, dict) for d in desired):
            raise ValidationError("DesiredWeightsAndCapacities must be a list of objects")
        await self.manager.update_weights_and_capacities(name, desired)
        return json_response(self.manager.describe(name))

    async def metrics(self, request: Request) -> Response:
        q = request.query_params
        metric = query_str(q, "metric", "Invocations")
        period = query_float(q, "period", 60.0, minimum=0.001, maximum=1e9)
        start = query_float(q, "start", None)
        end = query_float(q, "end", None)
        if start is not None and start < 0:
            start = time.time() + start
        points = self.manager.endpoint_metrics(
            request.path_params["name"], metric, variant=query_str(q, "variant"),
            period=period, stat=query_str(q, "stat", "Sum"),
            start=start, end=end)
        return json_response({"Label": metric, "Datapoints": [
            {"Timestamp": p.timestamp, "Value": p.value, "SampleCount": p.sample_count}
            for p in points]})

    # -- autoscaling --------------------------------------------------------------------
    async def put_policy(self, request: Request) -> Response:
        policy = self.manager.put_scaling_policy(request.path_params["name"],
                                                 request.path_params["variant"],
                                                 await self._json(request))
        return json_response(policy.model_dump(mode="json", by_alias=True))

    async def delete_policy(self, request: Request) -> Response:
        self.manager.delete_scaling_policy(request.path_params["name"],
                                           request.path_params["variant"])
        return Response(status_code=204)

    async def activities(self, request: Request) -> Response:
        return json_response([a.__dict__ for a in
                              self.manager.scaling_activities(request.path_params["name"])])

    # -- A/B report ---------------------------------------------------------------------
    async def ab_report(self, request: Request) -> Response:
        truth = (await self._json(request)).get("GroundTruth")
        if truth is not None and not isinstance(truth, dict):
            raise ValidationError("GroundTruth must be an object {eventId: label}")
        report = self.manager.ab_report(request.path_params["name"],
                                        {str(k): str(v) for k, v in (truth or {}).items()})
        if request.query_params.get("format") == "html":
            return Response(report.to_html(), media_type="text/html")
        return json_response(report.to_dict())


def routes(manager: EndpointManager, max_body: int) -> list[ApiRoute]:
    """The control-plane routes of ``manager``'s endpoint configs and endpoints; JSON bodies
    above ``max_body`` bytes are refused (413)."""
    h = EndpointRoutes(manager, max_body)
    one = "/api/endpoints/{name}"
    policy = f"{one}/variants/{{variant}}/scaling-policy"
    return [
        ApiRoute("/api/endpoint-configs", h.create_config, method="POST", operation=Operation(
            "CreateEndpointConfig", "Create an endpoint config (its models must exist)", TAG,
            body=json_body(_CONFIG_IN),
            replies={201: json_reply(_CONFIG_OUT, "The stored config")},
            errors=(400, 404, 409, 413))),
        ApiRoute("/api/endpoint-configs", h.list_configs, method="GET", operation=Operation(
            "ListEndpointConfigs", "List endpoint configs, newest first", TAG,
            replies={200: json_reply({"type": "array", "items": {
                "type": "object", "properties": {"EndpointConfigName": TEXT,
                                                 "CreationTime": NUMBER}}})})),
        ApiRoute("/api/endpoint-configs/{name}", h.get_config, method="GET",
                 operation=Operation(
                     "DescribeEndpointConfig", "An endpoint config as it was created", TAG,
                     replies={200: json_reply(_CONFIG_OUT)}, errors=(404,))),
        ApiRoute("/api/endpoints", h.create_endpoint, method="POST", operation=Operation(
            "CreateEndpoint", "Create an endpoint; its replicas start in the background "
            "(EndpointStatus Creating, then InService or Failed)", TAG,
            body=json_body({"type": "object",
                            "required": ["EndpointName", "EndpointConfigName"],
                            "properties": {"EndpointName": TEXT, "EndpointConfigName": TEXT}}),
            replies={201: json_reply(_DESCRIPTION)}, errors=(400, 404, 409, 413))),
        ApiRoute("/api/endpoints", h.list_endpoints, method="GET", operation=Operation(
            "ListEndpoints", "List endpoints, newest first", TAG,
            replies={200: json_reply({"type": "array", "items": {
                "type": "object", "properties": {
                    "EndpointName": TEXT, "EndpointStatus": _STATUS,
                    "EndpointConfigName": TEXT, "CreationTime": NUMBER}}})})),
        ApiRoute(one, h.describe, method="GET", operation=Operation(
            "DescribeEndpoint", "An endpoint with live replica counts and health", TAG,
            replies={200: json_reply(_DESCRIPTION)}, errors=(404,))),
        ApiRoute(one, h.update, method="PUT", operation=Operation(
            "UpdateEndpoint", "Move an InService endpoint to another config (blue/green "
            "traffic shifting; alarms roll back)", TAG,
            body=json_body({"type": "object", "required": ["EndpointConfigName"],
                            "properties": {"EndpointConfigName": TEXT,
                                           "DeploymentConfig": _DEPLOYMENT_IN}}),
            replies={200: json_reply(_DESCRIPTION, "The endpoint, now Updating")},
            errors=(400, 404, 409, 413))),
        ApiRoute(one, h.delete, method="DELETE", operation=Operation(
            "DeleteEndpoint", "Drain and stop every replica, forget the endpoint", TAG,
            replies=_NO_CONTENT, errors=(404,))),
        ApiRoute(f"{one}/weights", h.weights, method="POST", operation=Operation(
            "UpdateEndpointWeightsAndCapacities", "New weights and/or replica counts per "
            "variant, applied live (all validated first)", TAG, body=json_body(_WEIGHTS),
            replies={200: json_reply(_DESCRIPTION)}, errors=(400, 404, 409, 413))),
        ApiRoute(f"{one}/metrics", h.metrics, method="GET", operation=Operation(
            "GetMetricStatistics", "A statistic of one metric per period (CloudWatch-like)",
            TAG, params=_METRIC_PARAMS, replies={200: json_reply(_DATAPOINTS)},
            errors=(400, 404))),
        ApiRoute(policy, h.put_policy, method="PUT", operation=Operation(
            "PutScalingPolicy", "Set a variant's target-tracking scaling policy", TAG,
            body=json_body(_POLICY_IN), replies={200: json_reply(_POLICY_OUT)},
            errors=(400, 404, 413))),
        ApiRoute(policy, h.delete_policy, method="DELETE", operation=Operation(
            "DeleteScalingPolicy", "Remove a variant's scaling policy", TAG,
            replies=_NO_CONTENT, errors=(404,))),
        ApiRoute(f"{one}/scaling-activities", h.activities, method="GET",
                 operation=Operation(
                     "DescribeScalingActivities", "An endpoint's scaling history, oldest "
                     "first", TAG, replies={200: json_reply({"type": "array",
                                                             "items": _ACTIVITY})},
                     errors=(404,))),
        ApiRoute(f"{one}/ab-report", h.ab_report, method="POST", operation=Operation(
            "CreateABReport", "Compare the endpoint's variants: errors, latency and, with "
            "ground truth joined to captured requests, accuracy with significance tests",
            TAG, params=(Param("format", "query", {"type": "string", "maxLength": 16},
                               "html for an HTML page; JSON otherwise"),),
            body=json_body(_GROUND_TRUTH, required=False),
            replies={200: Reply("The report", {"application/json": {"type": "object"},
                                               "text/html": TEXT})},
            errors=(400, 404, 413))),
    ]
