"""The HTTP app of ``mlyard server`` (Starlette): routes, lifespan and error handlers.

The routes live in :mod:`mlyard.server.routes`, one module per resource:

- data plane: ``POST /endpoints/{name}/invocations`` (SageMaker Runtime wire format);
- control plane: endpoint configs, endpoints, weights, metrics, scaling policies and
  activities, A/B reports under ``/api/endpoint-configs`` and ``/api/endpoints``;
- read-only: jobs (with logs and metrics) under ``/api/jobs``, models under ``/api/models``,
  completed analyses (with their reports) under ``/api/analyses``;
- ``/ping``, Prometheus ``/metrics`` and ``/openapi.json`` (the document of all of them).

Errors are JSON ``{"ErrorCode": ..., "Message": ...}`` from one table
(:mod:`mlyard.server.errors`) with the status of :data:`mlyard.errors.HTTP_STATUS`.

Every request first passes :class:`mlyard.server.guard.AccessGuard` (Host allow-list,
cross-origin refusal, bearer tokens, JSON-only control bodies). Control-plane bodies are
limited to ``control_body_bytes`` (1 MiB by default, or the invocation limit if lower),
invocation bodies to ``MLYARD_MAX_BODY_BYTES``; both are counted while streamed.

The lifespan restores the stored endpoints, runs the autoscale loop every
``autoscale_interval`` seconds and the replica monitor every ``monitor_interval`` seconds,
and on shutdown stops every replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.guard import AccessGuard, AccessPolicy, TokenVerifier
from mlyard.server.limits import CONTROL_BODY_BYTES
from mlyard.server.readers import JobReader, ModelReader
from mlyard.server.routes import (
    analysis,
    endpoints,
    experiments,
    invocations,
    jobs,
    lineage,
    models,
    pipelines,
    registry,
    system,
)
from mlyard.serving.manager import EndpointManager
from mlyard.serving.token_store import TokenStore


def api_routes(manager: EndpointManager,
               control_body_bytes: int = CONTROL_BODY_BYTES) -> list[BaseRoute]:
    """Every route of the app over ``manager`` (and the workspace it serves); control
    bodies up to ``control_body_bytes`` (and never above the invocation limit)."""
    max_body = manager.options.max_body_bytes
    routes: list[BaseRoute] = [
        *invocations.routes(manager, max_body),
        *endpoints.routes(manager, min(control_body_bytes, max_body)),
        *jobs.routes(JobReader(manager.ws)),
        *models.routes(ModelReader(manager.ws)),
        *analysis.routes(manager.ws),
        *pipelines.routes(manager.ws),
        *registry.routes(manager.ws, manager),
        *lineage.routes(manager.ws),
        *experiments.routes(manager.ws),
    ]
    routes += system.routes(manager.metrics, lambda: len(manager.list_endpoints()),
                            lambda: routes)
    return routes


def _lifespan(manager: EndpointManager, on_stop: Callable[[], None] | None) -> Callable[
        [Starlette], contextlib.AbstractAsyncContextManager[None]]:
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

    return lifespan


def build_app(manager: EndpointManager, on_stop: Callable[[], None] | None = None, *,
              policy: AccessPolicy | None = None,
              control_body_bytes: int = CONTROL_BODY_BYTES) -> Starlette:
    """The Starlette app over ``manager``; ``on_stop`` runs after shutdown closed every
    endpoint's replicas. ``policy`` says who may call it (default: a loopback server,
    tokens optional); tokens are checked against the workspace's token store."""
    tokens = TokenStore.of(manager.ws.store)
    guard = Middleware(AccessGuard, policy=policy or AccessPolicy.for_bind("127.0.0.1"),
                       verifier=TokenVerifier(tokens.list_tokens))
    return Starlette(routes=api_routes(manager, control_body_bytes),
                     lifespan=_lifespan(manager, on_stop),
                     exception_handlers=EXCEPTION_HANDLERS, middleware=[guard])
