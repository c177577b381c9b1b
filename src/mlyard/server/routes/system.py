"""Server-wide routes::

    GET /ping              health: {"status": "ok", "endpoints": <count>}
    GET /metrics           every endpoint's metrics in Prometheus' text format
    GET /openapi.json      the OpenAPI document of every route (built once, on first call)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute

from mlyard.server.openapi import ApiRoute, Operation, Reply, json_reply, openapi_document
from mlyard.serving.metrics import MetricsRecorder

TAG = "system"


class SystemRoutes:
    """Health, Prometheus metrics and the API's own description."""

    def __init__(self, metrics: MetricsRecorder, endpoint_count: Callable[[], int],
                 app_routes: Callable[[], Sequence[BaseRoute]]) -> None:
        self.metrics = metrics
        self.endpoint_count = endpoint_count
        self.app_routes = app_routes
        self._document: dict[str, Any] | None = None

    async def ping(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "endpoints": self.endpoint_count()})

    async def prometheus(self, request: Request) -> Response:
        return PlainTextResponse(self.metrics.prometheus(),
                                 media_type="text/plain; version=0.0.4")

    async def openapi(self, request: Request) -> Response:
        if self._document is None:
            self._document = openapi_document(self.app_routes())
        return JSONResponse(self._document)


def routes(metrics: MetricsRecorder, endpoint_count: Callable[[], int],
           app_routes: Callable[[], Sequence[BaseRoute]]) -> list[ApiRoute]:
    """``/ping`` (``endpoint_count`` endpoints stored), ``/metrics`` (of ``metrics``) and
    ``/openapi.json`` (describing ``app_routes()``, every route of the app)."""
    h = SystemRoutes(metrics, endpoint_count, app_routes)
    return [
        ApiRoute("/ping", h.ping, method="GET", operation=Operation(
            "Ping", "Health check", TAG, replies={200: json_reply({
                "type": "object", "required": ["status", "endpoints"],
                "properties": {"status": {"type": "string", "enum": ["ok"]},
                               "endpoints": {"type": "integer", "minimum": 0}}})})),
        ApiRoute("/metrics", h.prometheus, method="GET", operation=Operation(
            "PrometheusMetrics", "Every endpoint's metrics (Prometheus text format 0.0.4)",
            TAG, replies={200: Reply("Prometheus exposition",
                                     {"text/plain": {"type": "string"}})})),
        ApiRoute("/openapi.json", h.openapi, method="GET", operation=Operation(
            "OpenAPI", "This document (OpenAPI 3.1)", TAG,
            replies={200: json_reply({"type": "object", "required": ["openapi", "paths"]})})),
    ]
