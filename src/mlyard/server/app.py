"""The HTTP app of ``mlyard server`` (Starlette).

Data plane (SageMaker Runtime wire format)::

    POST /endpoints/{name}/invocations      Content-Type / Accept,
         X-Amzn-SageMaker-Target-Variant (pin a variant), X-Amzn-SageMaker-Inference-Id
         -> body, X-Amzn-Invoked-Production-Variant, X-Mlyard-Event-Id (for ground truth)

Control plane (JSON, SageMaker API names)::

    POST   /api/endpoint-configs                    CreateEndpointConfig
    GET    /api/endpoint-configs[/{name}]
    POST   /api/endpoints                           CreateEndpoint
    GET    /api/endpoints[/{name}]                  ListEndpoints / DescribeEndpoint
    PUT    /api/endpoints/{name}                    UpdateEndpoint (blue/green)
    DELETE /api/endpoints/{name}                    DeleteEndpoint
    POST   /api/endpoints/{name}/weights            UpdateEndpointWeightsAndCapacities
    GET    /api/endpoints/{name}/metrics            ?metric=&variant=&period=&stat=&start=&end=
    PUT    /api/endpoints/{name}/variants/{v}/scaling-policy   (DELETE removes it)
    GET    /api/endpoints/{name}/scaling-activities
    POST   /api/endpoints/{name}/ab-report          {GroundTruth: {eventId: label}}
    GET    /metrics                                 Prometheus text format
    GET    /ping                                    health

Errors are JSON ``{"ErrorCode": ..., "Message": ...}`` with the status from
:data:`mlyard.errors.HTTP_STATUS` (400 validation, 404 unknown, 409 state, 413 too large,
415 media type, 424 model error, 503 overloaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mlyard.errors import MlyardError, PayloadTooLarge, ValidationError, http_status
from mlyard.serving.manager import EndpointManager

TARGET_VARIANT = "x-amzn-sagemaker-target-variant"
INFERENCE_ID = "x-amzn-sagemaker-inference-id"
INVOKED_VARIANT = "X-Amzn-Invoked-Production-Variant"
EVENT_ID = "X-Mlyard-Event-Id"


def error_response(exc: Exception) -> JSONResponse:
    """The JSON error body and status for ``exc``."""
    if isinstance(exc, MlyardError):
        # x-amzn-ErrorType lets AWS SDKs (boto3) raise the matching error class
        return JSONResponse({"ErrorCode": exc.code, "Message": exc.message},
                            status_code=http_status(exc),
                            headers={"x-amzn-ErrorType": exc.code})
    return JSONResponse({"ErrorCode": "InternalFailure", "Message": f"{type(exc).__name__}: "
                         f"{exc}"}, status_code=500)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ValidationError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object")
    return data


def build_app(manager: EndpointManager,
              on_stop: Callable[[], None] | None = None) -> Starlette:
    """The Starlette app over ``manager``; ``on_stop`` runs after shutdown closed every
    endpoint's replicas."""
    max_body = manager.options.max_body_bytes

    async def invoke(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            length = request.headers.get("content-length")
            if length is not None and int(length) > max_body:
                raise PayloadTooLarge(f"request body of {length} bytes is above the "
                                      f"{max_body}-byte limit")
            body = await request.body()
            if len(body) > max_body:
                raise PayloadTooLarge(f"request body is above the {max_body}-byte limit")
            given = request.headers
            result, variant, event_id = await manager.invoke(
                name, body, given.get("content-type", "application/json"),
                given.get("accept", "application/json"), given.get(TARGET_VARIANT),
                given.get(INFERENCE_ID))
        except Exception as exc:
            return error_response(exc)
        headers = {"content-type": result.content_type, INVOKED_VARIANT: variant,
                   EVENT_ID: event_id}
        if result.status >= 400:  # a replica's error JSON; name it for AWS SDKs too
            with contextlib.suppress(ValueError, TypeError, KeyError):
                headers["x-amzn-ErrorType"] = str(json.loads(result.body)["ErrorCode"])
        return Response(result.body, status_code=result.status, headers=headers)

    def api(handler: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)
        return wrapped

    async def create_config(request: Request) -> Response:
        config = manager.create_endpoint_config(await _json(request))
        return JSONResponse(config.model_dump(mode="json", by_alias=True), status_code=201)

    async def list_configs(request: Request) -> Response:
        return JSONResponse([{"EndpointConfigName": c.name, "CreationTime": c.created_at}
                             for c in manager.ws.store.list_endpoint_configs()])

    async def get_config(request: Request) -> Response:
        rec = manager.ws.store.get_endpoint_config(request.path_params["name"])
        return JSONResponse(rec.spec)

    async def create_endpoint(request: Request) -> Response:
        data = await _json(request)
        name, config = data.get("EndpointName"), data.get("EndpointConfigName")
        if not isinstance(name, str) or not isinstance(config, str):
            raise ValidationError("EndpointName and EndpointConfigName are required strings")
        await manager.create_endpoint(name, config)
        return JSONResponse(manager.describe(name), status_code=201)

    async def list_endpoints(request: Request) -> Response:
        return JSONResponse([{"EndpointName": e.name, "EndpointStatus": e.status.value,
                              "EndpointConfigName": e.config_name,
                              "CreationTime": e.created_at}
                             for e in manager.ws.store.list_endpoints()])

    async def describe(request: Request) -> Response:
        return JSONResponse(manager.describe(request.path_params["name"]))

    async def update(request: Request) -> Response:
        data = await _json(request)
        config = data.get("EndpointConfigName")
        if not isinstance(config, str):
            raise ValidationError("EndpointConfigName is required")
        await manager.update_endpoint(request.path_params["name"], config,
                                      data.get("DeploymentConfig"))
        return JSONResponse(manager.describe(request.path_params["name"]))

    async def delete(request: Request) -> Response:
        await manager.delete_endpoint(request.path_params["name"])
        return Response(status_code=204)

    async def weights(request: Request) -> Response:
        data = await _json(request)
        desired = data.get("DesiredWeightsAndCapacities")
        if not isinstance(desired, list) or not all(isinstance(d, dict) for d in desired):
            raise ValidationError("DesiredWeightsAndCapacities must be a list of objects")
        await manager.update_weights_and_capacities(request.path_params["name"], desired)
        return JSONResponse(manager.describe(request.path_params["name"]))

    async def metrics(request: Request) -> Response:
        name = request.path_params["name"]
        manager.ws.store.get_endpoint(name)
        q = request.query_params
        try:
            period = float(q.get("period", "60"))
            start = float(q["start"]) if "start" in q else None
            end = float(q["end"]) if "end" in q else None
        except ValueError:
            raise ValidationError("period, start and end must be numbers") from None
        if start is not None and start < 0:
            start = time.time() + start
        points = manager.metrics.query(name, q.get("metric", "Invocations"),
                                       variant=q.get("variant"), period=period,
                                       stat=q.get("stat", "Sum"), start=start, end=end)
        return JSONResponse({"Label": q.get("metric", "Invocations"), "Datapoints": [
            {"Timestamp": p.timestamp, "Value": p.value, "SampleCount": p.sample_count}
            for p in points]})

    async def put_policy(request: Request) -> Response:
        policy = manager.put_scaling_policy(request.path_params["name"],
                                            request.path_params["variant"],
                                            await _json(request))
        return JSONResponse(policy.model_dump(mode="json", by_alias=True))

    async def delete_policy(request: Request) -> Response:
        manager.delete_scaling_policy(request.path_params["name"],
                                      request.path_params["variant"])
        return Response(status_code=204)

    async def activities(request: Request) -> Response:
        name = request.path_params["name"]
        manager.ws.store.get_endpoint(name)
        return JSONResponse([a.__dict__ for a in manager.ws.store.list_scaling_activities(name)])

    async def ab_report(request: Request) -> Response:
        from mlyard.serving.abreport import ab_report as build_report
        from mlyard.serving.capture import read_capture

        name = request.path_params["name"]
        data = await _json(request)
        truth = data.get("GroundTruth")
        if truth is not None and not isinstance(truth, dict):
            raise ValidationError("GroundTruth must be an object {eventId: label}")
        desc = manager.describe(name)
        variants = [v["VariantName"] for v in desc["ProductionVariants"]]
        if "ShadowProductionVariant" in desc:
            variants.append(desc["ShadowProductionVariant"]["VariantName"])
        captures = list(read_capture(manager.capture_root, name)) if truth else []
        report = build_report(manager.metrics, name, variants, captures=captures,
                              ground_truth={str(k): str(v) for k, v in (truth or {}).items()})
        if request.query_params.get("format") == "html":
            return Response(report.to_html(), media_type="text/html")
        return JSONResponse(report.to_dict())

    async def prometheus(request: Request) -> Response:
        return PlainTextResponse(manager.metrics.prometheus(),
                                 media_type="text/plain; version=0.0.4")

    async def ping(request: Request) -> Response:
        return JSONResponse({"status": "ok", "endpoints": len(manager.ws.store.list_endpoints())})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await manager.restore()

        async def autoscaler() -> None:
            while True:
                await asyncio.sleep(manager.options.autoscale_interval)
                with contextlib.suppress(Exception):
                    await manager.autoscale_once()

        async def monitor() -> None:
            while True:
                with contextlib.suppress(Exception):
                    manager.sample_system_metrics()
                await asyncio.sleep(manager.options.monitor_interval)

        tasks = [asyncio.create_task(autoscaler()), asyncio.create_task(monitor())]
        # Everything alive now (modules, app, restored endpoints) lives as long as the
        # server: keep it out of the collector, whose full passes over ~10^5 objects
        # otherwise stall requests for tens of milliseconds under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await manager.close()
            if on_stop is not None:
                on_stop()

    routes = [
        Route("/endpoints/{name}/invocations", invoke, methods=["POST"]),
        Route("/api/endpoint-configs", api(create_config), methods=["POST"]),
        Route("/api/endpoint-configs", api(list_configs), methods=["GET"]),
        Route("/api/endpoint-configs/{name}", api(get_config), methods=["GET"]),
        Route("/api/endpoints", api(create_endpoint), methods=["POST"]),
        Route("/api/endpoints", api(list_endpoints), methods=["GET"]),
        Route("/api/endpoints/{name}", api(describe), methods=["GET"]),
        Route("/api/endpoints/{name}", api(update), methods=["PUT"]),
        Route("/api/endpoints/{name}", api(delete), methods=["DELETE"]),
        Route("/api/endpoints/{name}/weights", api(weights), methods=["POST"]),
        Route("/api/endpoints/{name}/metrics", api(metrics), methods=["GET"]),
        Route("/api/endpoints/{name}/variants/{variant}/scaling-policy", api(put_policy),
              methods=["PUT"]),
        Route("/api/endpoints/{name}/variants/{variant}/scaling-policy", api(delete_policy),
              methods=["DELETE"]),
        Route("/api/endpoints/{name}/scaling-activities", api(activities), methods=["GET"]),
        Route("/api/endpoints/{name}/ab-report", api(ab_report), methods=["POST"]),
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/ping", ping, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
