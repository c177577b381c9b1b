"""The endpoint manager: lifecycle, validation, invocation and persistence of every endpoint
a server hosts, in the metadata store.

Every change is validated completely before anything is touched, so a bad request changes
nothing. Long operations (starting replicas, deployments) run as asyncio tasks while the
endpoint shows ``Creating`` / ``Updating`` / ``RollingBack``; their outcome is written back
to the store, and ``restore()`` brings every stored endpoint back after a server restart.

The periodic work lives beside it: the autoscale loop in :mod:`mlyard.serving.autoscaler`,
replica gauges in :mod:`mlyard.serving.monitor`, blue/green traffic shifting with alarms
and rollback in :mod:`mlyard.serving.deployment`. The manager keeps its public methods
(``autoscale_once``, ``sample_system_metrics``, ``update_endpoint``, ...) and hands the work
to them. The read methods (``list_endpoints``, ``endpoint_config``, ``scaling_activities``,
``endpoint_metrics``, ``ab_report``, ...) are what the HTTP routes use, so nothing outside
reaches into the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.core.workspace import Workspace
from mlyard.errors import (
    ConflictError,
    DataError,
    MlyardError,
    NotFoundError,
    ValidationError,
    http_status,
    problem_text,
)
from mlyard.models.content_types import JSON
from mlyard.models.predictions import top_label
from mlyard.serving.autoscaler import Autoscaler
from mlyard.serving.capture import CaptureWriter
from mlyard.serving.deployment import (
    BlueGreenDeployment,
    green_key,
    interrupted,
    started_record,
)
from mlyard.serving.endpoint_specs import (
    MAX_REPLICAS,
    DeploymentConfig,
    EndpointConfig,
    TargetTrackingPolicy,
)
from mlyard.serving.endpoint_state import runtime_state
from mlyard.serving.metrics import (
    INVOCATIONS,
    INVOCATIONS_PER_REPLICA,
    METRICS,
    MODEL_LATENCY,
    OVERHEAD_LATENCY,
    SHADOW_AGREEMENT,
    Datapoint,
    MetricsRecorder,
    error_metric,
)
from mlyard.serving.monitor import ReplicaMonitor
from mlyard.serving.pool import InvokeResult, ReplicaPool
from mlyard.serving.runtime import EndpointRuntime, Fleet, VariantRuntime
from mlyard.serving.store import (
    EndpointConfigRecord,
    EndpointRecord,
    EndpointStatus,
    EndpointStore,
    ScalingActivity,
)

if TYPE_CHECKING:
    from mlyard.serving.abreport import ABReport

LIVE = (EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING, EndpointStatus.ROLLING_BACK)


@dataclass
class ServerOptions:
    """Tunables of a server; small values make tests fast."""

    max_body_bytes: int = 6 * 1024 * 1024
    autoscale_interval: float = 10.0
    monitor_interval: float = 5.0
    alarm_interval: float = 0.5
    replica_start_timeout: float = 120.0
    max_in_flight_per_replica: int = 64


@dataclass
class _Managed:
    runtime: EndpointRuntime | None = None
    task: asyncio.Task[None] | None = None


def _top_label(body: bytes) -> str | None:
    """The first prediction's top label of a JSON model response, or None if it has none."""
    try:
        return top_label(body, JSON)
    except DataError:
        return None


class EndpointManager:
    """All endpoints of one server process."""

    def __init__(self, ws: Workspace, metrics: MetricsRecorder,
                 options: ServerOptions | None = None) -> None:
        self.ws = ws
        self.endpoints = EndpointStore.of(ws.store)
        self.metrics = metrics
        self.options = options or ServerOptions()
        self.run_dir = ws.settings.home / "server" / "replicas"
        self.capture_root = ws.settings.home / "datacapture"
        self._eps: dict[str, _Managed] = {}
        self._lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []
        self.autoscaler = Autoscaler(self, self.endpoints, metrics)
        self.monitor = ReplicaMonitor(metrics)
        self.deployment = BlueGreenDeployment(self, self.endpoints, metrics,
                                              self.options.alarm_interval)

    # -- helpers ----------------------------------------------------------------------
    def _model_dir(self, model_name: str) -> Path:
        rec = self.ws.store.get_model(model_name)
        return self.ws.artifacts.materialize(rec.uri, self.ws.cache_dir)

    def _config(self, name: str) -> EndpointConfig:
        return EndpointConfig.model_validate(self.endpoints.get_endpoint_config(name).spec)

    def _check_models(self, config: EndpointConfig) -> None:
        from mlyard.models import read_manifest

        names = [v.model_name for v in config.production_variants]
        if config.shadow_variant is not None:
            names.append(config.shadow_variant.model_name)
        for model_name in names:
            read_manifest(self._model_dir(model_name))

    async def _pool(self, endpoint: str, variant: str, model_name: str,
                    replicas: int) -> ReplicaPool:
        pool = ReplicaPool(self._model_dir(model_name),
                           self.run_dir / endpoint / f"{variant}-{uuid.uuid4().hex[:6]}",
                           replicas, name=f"{endpoint}/{variant}",
                           max_in_flight_per_replica=self.options.max_in_flight_per_replica,
                           start_timeout=self.options.replica_start_timeout)
        started = time.monotonic()
        try:
            await pool.start()
        except BaseException:
            await pool.close(drain=False)
            raise
        self.metrics.record(endpoint, variant, "ModelSetupTime",
                            (time.monotonic() - started) * 1e6)
        return pool

    async def _fleet(self, endpoint: str, config: EndpointConfig,
                     state: Mapping[str, Any] | None = None) -> Fleet:
        weights = dict((state or {}).get("weights", {}))
        counts = dict((state or {}).get("replicas", {}))
        variants: dict[str, VariantRuntime] = {}
        try:
            for v in config.production_variants:
                replicas = int(counts.get(v.variant_name, v.initial_replica_count))
                pool = await self._pool(endpoint, v.variant_name, v.model_name, replicas)
                variants[v.variant_name] = VariantRuntime(
                    v.variant_name, v.model_name,
                    float(weights.get(v.variant_name, v.initial_weight)), pool)
        except BaseException:
            await asyncio.gather(*(x.pool.close(drain=False) for x in variants.values()))
            raise
        return Fleet(config, variants)

    async def _runtime(self, name: str, config: EndpointConfig,
                       state: Mapping[str, Any] | None) -> EndpointRuntime:
        fleet = await self._fleet(name, config, state)
        shadow = None
        if config.shadow_variant is not None:
            s = config.shadow_variant
            try:
                pool = await self._pool(name, s.variant_name, s.model_name,
                                        s.initial_replica_count)
            except BaseException:
                await asyncio.gather(*(p.close(drain=False) for p in fleet.pools()))
                raise
            shadow = VariantRuntime(s.variant_name, s.model_name, 0.0, pool, shadow=True,
                                    sampling=s.sampling_percentage / 100.0)
        capture = None
        if config.data_capture.enabled:
            capture = CaptureWriter(self.capture_root, name, config.data_capture)
        return EndpointRuntime(name, fleet, shadow=shadow, capture=capture)

    def _get(self, name: str) -> tuple[EndpointRecord, _Managed]:
        rec = self.endpoints.get_endpoint(name)
        return rec, self._eps.setdefault(name, _Managed())

    def live_runtime(self, name: str) -> EndpointRuntime:
        """The runtime of a live endpoint; ConflictError if it has no running replicas
        (NotFoundError if there is no such endpoint)."""
        managed = self._eps.get(name)
        if managed is None or managed.runtime is None:
            rec = self.endpoints.get_endpoint(name)
            raise ConflictError(f"endpoint {name!r} is {rec.status.value}, not InService")
        return managed.runtime

    def live_runtimes(self) -> list[tuple[str, EndpointRuntime]]:
        """``(name, runtime)`` of every endpoint with running replicas."""
        return [(name, managed.runtime) for name, managed in list(self._eps.items())
                if managed.runtime is not None]

    async def start_fleet(self, name: str, config: EndpointConfig) -> Fleet:
        """Start the production variants of ``config`` for endpoint ``name`` (a new fleet
        of a blue/green deployment)."""
        return await self._fleet(name, config)

    def save_runtime_state(self, name: str, rt: EndpointRuntime) -> None:
        """Store the endpoint's current weights and replica counts."""
        rec = self.endpoints.get_endpoint(name)
        self.endpoints.update_endpoint(name, state=runtime_state(rt, rec.state))

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.append(task)
        task.add_done_callback(lambda t: self._background.remove(t)
                               if t in self._background else None)
        return task

    # -- lifecycle ----------------------------------------------------------------------
    def create_endpoint_config(self, spec: Mapping[str, Any]) -> EndpointConfig:
        """Validate and store an endpoint config (its models must exist)."""
        try:
            config = EndpointConfig.model_validate(spec)
        except ValueError as exc:
            raise ValidationError(f"invalid endpoint config: {problem_text(exc)}") from None
        self._check_models(config)
        self.endpoints.create_endpoint_config(config.name,
                                             config.model_dump(mode="json", by_alias=True))
        return config

    async def create_endpoint(self, name: str, config_name: str) -> EndpointRecord:
        """Create an endpoint from a stored config; replicas start in the background."""
        from mlyard.core.specs import check_job_name

        check_job_name(name)
        config = self._config(config_name)
        self._check_models(config)
        rec = self.endpoints.create_endpoint(name, config_name, {})
        managed = self._eps.setdefault(name, _Managed())
        managed.task = self._spawn(self._bring_up(name, config, None))
        return rec

    async def _bring_up(self, name: str, config: EndpointConfig,
                        state: Mapping[str, Any] | None) -> None:
        try:
            rt = await self._runtime(name, config, state)
        except Exception as exc:
            self.endpoints.update_endpoint(name, status=EndpointStatus.FAILED,
                                          failure_reason=f"replicas did not start: {exc}")
            return
        managed = self._eps.setdefault(name, _Managed())
        managed.runtime = rt
        rec = self.endpoints.get_endpoint(name)
        self.endpoints.update_endpoint(name, status=EndpointStatus.IN_SERVICE,
                                      state=runtime_state(rt, rec.state), clear_failure=True)
        for v in rt.blue.variants.values():
            self.metrics.set_gauge(name, v.name, "Replicas", v.pool.replicas)

    async def restore(self) -> list[str]:
        """Start every stored endpoint that was live (or being created) when the server
        stopped, with its last weights and replica counts. Returns their names."""
        names = []
        for rec in self.endpoints.list_endpoints():
            if rec.status not in (*LIVE, EndpointStatus.CREATING):
                continue
            # a deployment's new fleet died with the old server: it stays on its config
            state = interrupted(rec.state)
            try:
                config = self._config(rec.config_name)
            except NotFoundError as exc:
                self.endpoints.update_endpoint(rec.name, status=EndpointStatus.FAILED,
                                              failure_reason=f"cannot restore: {exc}")
                continue
            self.endpoints.update_endpoint(rec.name, status=EndpointStatus.CREATING, state=state)
            managed = self._eps.setdefault(rec.name, _Managed())
            managed.task = self._spawn(self._bring_up(rec.name, config, state))
            names.append(rec.name)
        return names

    async def wait_until_settled(self, name: str, timeout: float = 120.0) -> EndpointRecord:
        """Wait until the endpoint is InService or Failed (tests, ``deploy(wait=True)``)."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.endpoints.get_endpoint(name)
            if rec.status in (EndpointStatus.IN_SERVICE, EndpointStatus.FAILED):
                return rec
            if time.monotonic() > deadline:
                raise TimeoutError(f"endpoint {name!r} still {rec.status.value}")
            await asyncio.sleep(0.1)

    async def delete_endpoint(self, name: str) -> None:
        """Stop routing, drain and stop every replica, forget the endpoint."""
        self.endpoints.get_endpoint(name)
        self.endpoints.update_endpoint(name, status=EndpointStatus.DELETING)
        managed = self._eps.pop(name, None)
        if managed is not None:
            if managed.task is not None and not managed.task.done():
                managed.task.cancel()
                with contextlib.suppress(BaseException):
                    await managed.task
            if managed.runtime is not None:
                rt = managed.runtime
                await asyncio.gather(*(p.close(drain=True) for p in rt.all_pools()))
                if rt.capture is not None:
                    rt.capture.close()
        self.endpoints.delete_endpoint(name)
        self.metrics.forget(name)
        self.metrics.forget(green_key(name))
        self.autoscaler.forget(name)
        self.monitor.forget(name)

    async def close(self) -> None:
        """Stop all replicas (endpoints stay stored, to be restored on the next start)."""
        for task in list(self._background):
            task.cancel()
        for managed in self._eps.values():
            rt = managed.runtime
            if rt is not None:
                await asyncio.gather(*(p.close(drain=False) for p in rt.all_pools()),
                                     return_exceptions=True)
                if rt.capture is not None:
                    rt.capture.close()
        self._eps.clear()

    # -- invocation (the hot path) ---------------------------------------------------------
    async def invoke(self, name: str, body: bytes, content_type: str, accept: str,
                     target: str | None,
                     inference_id: str | None) -> tuple[InvokeResult, str, str]:
        """Route one request; returns the result, the variant name and the event id.

        Every outcome counts in the chosen variant's metrics (and in the green fleet's own
        series during a deployment): an answer by its status, an error the pool raises
        (503 when no replica is healthy, the pool is overloaded or every replica tried died;
        500 for anything unexpected) as a 5xx with the time the request waited, before
        the error goes on to the client."""
        managed = self._eps.get(name)
        rt = managed.runtime if managed is not None else None
        if rt is None:
            rec = self.endpoints.get_endpoint(name)  # NotFoundError for unknown endpoints
            raise ConflictError(f"endpoint {name!r} is {rec.status.value}, not InService")
        variant, green = rt.route(target)
        epoch = variant.outstanding.begin() if green else 0
        started = time.perf_counter()
        try:
            result = await variant.pool.invoke(body, content_type, accept)
        except Exception as exc:
            status = http_status(exc) if isinstance(exc, MlyardError) else 500
            elapsed = time.perf_counter() - started
            self._record(name, variant, status, None, elapsed)
            if green:
                self._record(green_key(name), variant, status, None, elapsed)
            raise
        finally:
            if green:
                variant.outstanding.end(epoch)
        elapsed = time.perf_counter() - started
        event_id = uuid.uuid4().hex
        self._record(name, variant, result.status, result.model_seconds, elapsed)
        if green:
            self._record(green_key(name), variant, result.status, result.model_seconds,
                         elapsed)
        shadow = rt.shadow
        if shadow is not None and result.status == 200 and rt.rng.random() < shadow.sampling:
            self._spawn(self._shadow(name, shadow, body, content_type, accept, result))
        capture = rt.capture
        if capture is not None and capture.should_capture():
            capture.capture(variant=variant.name, event_id=event_id, inference_id=inference_id,
                            request_body=body, request_content_type=content_type,
                            response_body=result.body,
                            response_content_type=result.content_type,
                            inference_time=time.time())
        return result, variant.name, event_id

    def _record(self, key: str, variant: VariantRuntime, status: int,
                model_seconds: float | None, elapsed: float) -> None:
        """Count one request of ``variant`` under ``key``: its status class, and its model
        latency when a replica answered (``model_seconds``); the rest of ``elapsed`` is
        overhead (all of it when no replica answered)."""
        m = self.metrics
        v = variant.name
        m.record(key, v, INVOCATIONS, 1.0)
        m.record(key, v, INVOCATIONS_PER_REPLICA, 1.0 / max(1, variant.pool.replicas))
        if model_seconds is not None:
            m.record(key, v, MODEL_LATENCY, model_seconds * 1e6)
            m.record(key, v, OVERHEAD_LATENCY, max(0.0, elapsed - model_seconds) * 1e6)
        else:
            m.record(key, v, OVERHEAD_LATENCY, max(0.0, elapsed) * 1e6)
        if status >= 400:
            error = error_metric(status)
            if error is not None:
                m.record(key, v, error, 1.0)

    async def _shadow(self, name: str, shadow: VariantRuntime, body: bytes, content_type: str,
                      accept: str, live: InvokeResult) -> None:
        started = time.perf_counter()
        try:
            result = await shadow.pool.invoke(body, content_type, "application/json")
        except Exception as exc:
            status = http_status(exc) if isinstance(exc, MlyardError) else 500
            self._record(name, shadow, status, None, time.perf_counter() - started)
            return
        self._record(name, shadow, result.status, result.model_seconds,
                     time.perf_counter() - started)
        if result.status == 200 and accept.startswith("application/json"):
            live_label, shadow_label = _top_label(live.body), _top_label(result.body)
            if live_label is not None and shadow_label is not None:
                self.metrics.record(name, shadow.name, SHADOW_AGREEMENT,
                                    1.0 if live_label == shadow_label else 0.0)

    # -- weights and capacities ---------------------------------------------------------
    async def update_weights_and_capacities(
            self, name: str, desired: list[Mapping[str, Any]]) -> EndpointRecord:
        """SageMaker's UpdateEndpointWeightsAndCapacities: new weights and/or replica counts
        per variant, applied live. Everything is validated before anything changes."""
        rec = self.endpoints.get_endpoint(name)
        if rec.status is not EndpointStatus.IN_SERVICE:
            raise ConflictError(f"endpoint {name!r} is {rec.status.value}, not InService")
        rt = self.live_runtime(name)
        if not desired:
            raise ValidationError("DesiredWeightsAndCapacities is empty")
        weights = {n: v.weight for n, v in rt.blue.variants.items()}
        counts: dict[str, int] = {}
        for item in desired:
            vname = item.get("VariantName")
            if vname not in rt.blue.variants:
                raise ValidationError(f"endpoint {name!r} has no variant {vname!r}; "
                                      f"variants: {sorted(rt.blue.variants)}")
            if "DesiredWeight" in item:
                weight = item["DesiredWeight"]
                if not isinstance(weight, (int, float)) or isinstance(weight, bool) \
                        or not math.isfinite(weight) or weight < 0:
                    raise ValidationError(f"DesiredWeight of {vname} must be a number >= 0, "
                                          f"got {weight!r}")
                weights[vname] = float(weight)
            if "DesiredInstanceCount" in item:
                count = item["DesiredInstanceCount"]
                if not isinstance(count, int) or isinstance(count, bool) \
                        or not 1 <= count <= MAX_REPLICAS:
                    raise ValidationError(f"DesiredInstanceCount of {vname} must be an "
                                          f"integer in 1..{MAX_REPLICAS}, got {count!r}")
                counts[vname] = count
        if sum(weights.values()) <= 0:
            raise ValidationError("at least one variant must keep a weight above 0")
        self.endpoints.update_endpoint(name, status=EndpointStatus.UPDATING)
        try:
            for vname, count in counts.items():
                await self.scale_variant(name, rt.blue.variants[vname], count,
                                         "UpdateEndpointWeightsAndCapacities")
            for vname, weight in weights.items():
                rt.blue.variants[vname].weight = weight
            rt.blue.reweigh()
        finally:
            rec = self.endpoints.get_endpoint(name)
            self.endpoints.update_endpoint(name, status=EndpointStatus.IN_SERVICE,
                                          state=runtime_state(rt, rec.state))
        return self.endpoints.get_endpoint(name)

    async def scale_variant(self, name: str, variant: VariantRuntime, count: int,
                            cause: str) -> None:
        """Resize one variant's pool to ``count`` replicas and record the scaling activity
        (also when it fails)."""
        before = variant.pool.replicas
        if before == count:
            return
        status = "Successful"
        try:
            await variant.pool.scale(count)
        except Exception as exc:
            status = f"Failed: {exc}"
            raise
        finally:
            self.endpoints.add_scaling_activity(ScalingActivity(
                name, variant.name, time.time(), before, count, cause, status))
            self.metrics.set_gauge(name, variant.name, "Replicas", variant.pool.replicas)

    # -- autoscaling ---------------------------------------------------------------------
    def put_scaling_policy(self, name: str, variant: str,
                           spec: Mapping[str, Any]) -> TargetTrackingPolicy:
        """Register a target-tracking policy for one variant (stored with the endpoint)."""
        rec = self.endpoints.get_endpoint(name)
        config = self._config(rec.config_name)
        if variant not in {v.variant_name for v in config.production_variants}:
            raise ValidationError(f"endpoint {name!r} has no variant {variant!r}")
        try:
            policy = TargetTrackingPolicy.model_validate(spec)
        except ValueError as exc:
            raise ValidationError(f"invalid scaling policy: {problem_text(exc)}") from None
        state = dict(rec.state)
        policies = dict(state.get("autoscaling", {}))
        policies[variant] = policy.model_dump(mode="json", by_alias=True)
        state["autoscaling"] = policies
        self.endpoints.update_endpoint(name, state=state)
        self.autoscaler.reset(name, variant)
        return policy

    def delete_scaling_policy(self, name: str, variant: str) -> None:
        """Remove a variant's scaling policy."""
        rec = self.endpoints.get_endpoint(name)
        state = dict(rec.state)
        policies = dict(state.get("autoscaling", {}))
        if policies.pop(variant, None) is None:
            raise NotFoundError(f"endpoint {name!r} variant {variant!r} has no scaling policy")
        state["autoscaling"] = policies
        self.endpoints.update_endpoint(name, state=state)
        self.autoscaler.forget(name, variant)

    async def autoscale_once(self, now: float | None = None) -> None:
        """One pass of every scaling policy (the server calls it every interval)."""
        await self.autoscaler.run_once(now)

    def sample_system_metrics(self) -> None:
        """Record per-variant replica gauges (the server calls it every few seconds):
        ``CPUUtilization``, ``MemoryUtilization``, ``ConcurrentRequests``, ``Replicas``
        (see :mod:`mlyard.serving.monitor`)."""
        self.monitor.sample(self.live_runtimes())

    # -- blue/green updates ----------------------------------------------------------------
    async def update_endpoint(self, name: str, config_name: str,
                              deployment: Mapping[str, Any] | None = None) -> EndpointRecord:
        """Move an endpoint to another config with blue/green traffic shifting; alarms on
        the new fleet roll the update back (:mod:`mlyard.serving.deployment`). Returns
        once the request is validated and the endpoint is Updating."""
        rec, managed = self._get(name)
        if rec.status is not EndpointStatus.IN_SERVICE:
            raise ConflictError(f"endpoint {name!r} is {rec.status.value}, not InService")
        if rec.config_name == config_name:
            raise ValidationError(f"endpoint {name!r} already uses config {config_name!r}")
        config = self._config(config_name)
        self._check_models(config)
        try:
            plan = DeploymentConfig.model_validate(deployment or {})
        except ValueError as exc:
            raise ValidationError(f"invalid deployment config: {problem_text(exc)}") from None
        self.live_runtime(name)
        state = dict(rec.state)
        state["deployment"] = started_record(config_name, rec.config_name, plan)
        rec = self.endpoints.update_endpoint(name, status=EndpointStatus.UPDATING, state=state)
        managed.task = self._spawn(self.deployment.run(name, config, plan))
        return rec

    # -- reads -------------------------------------------------------------------------
    def list_endpoint_configs(self) -> list[EndpointConfigRecord]:
        """Stored endpoint configs, newest first."""
        return self.endpoints.list_endpoint_configs()

    def endpoint_config(self, name: str) -> dict[str, Any]:
        """A stored endpoint config as it was created (SageMaker's names); NotFoundError if
        none."""
        return self.endpoints.get_endpoint_config(name).spec

    def list_endpoints(self) -> list[EndpointRecord]:
        """Stored endpoints, newest first."""
        return self.endpoints.list_endpoints()

    def scaling_activities(self, name: str) -> list[ScalingActivity]:
        """An endpoint's scaling history, oldest first; NotFoundError if no such endpoint."""
        self.endpoints.get_endpoint(name)
        return self.endpoints.list_scaling_activities(name)

    def endpoint_metrics(self, name: str, metric: str, *, variant: str | None = None,
                         period: float = 60.0, stat: str = "Sum", start: float | None = None,
                         end: float | None = None) -> list[Datapoint]:
        """``stat`` of ``metric`` per ``period`` seconds (see
        :meth:`MetricsRecorder.query <mlyard.serving.metrics.MetricsRecorder.query>`);
        NotFoundError if no such endpoint, and for a variant or metric name it does not
        know (naming the known ones). A known metric without data yet gives no points."""
        rec = self.endpoints.get_endpoint(name)
        if variant is not None:
            known = self.variant_names(rec.name, rec.config_name)
            if variant not in known:
                raise NotFoundError(f"endpoint {name!r} has no variant {variant!r}; its "
                                    f"variants: {', '.join(known) or '(none)'}")
        metrics = sorted(set(METRICS) | set(self.metrics.metric_names(name)))
        if metric not in metrics:
            raise NotFoundError(f"unknown metric {metric!r} for endpoint {name!r}; known "
                                f"metrics: {', '.join(metrics)}")
        return self.metrics.query(name, metric, variant=variant, period=period, stat=stat,
                                  start=start, end=end)

    def variant_names(self, name: str, config_name: str) -> list[str]:
        """Variants of endpoint ``name``: its config's production and shadow variants, the
        live ones (a deployment's new fleet included) and any with retained metrics."""
        names = set(self.metrics.variants(name))
        with contextlib.suppress(NotFoundError, ValueError):
            config = self._config(config_name)
            names.update(v.variant_name for v in config.production_variants)
            if config.shadow_variant is not None:
                names.add(config.shadow_variant.variant_name)
        managed = self._eps.get(name)
        rt = managed.runtime if managed is not None else None
        if rt is not None:
            names.update(rt.blue.variants)
            if rt.green is not None:
                names.update(rt.green.variants)
            if rt.shadow is not None:
                names.add(rt.shadow.name)
        return sorted(names)

    def ab_report(self, name: str, ground_truth: Mapping[str, str] | None = None) -> ABReport:
        """The A/B report of a live endpoint's variants (and shadow); with ``ground_truth``
        (event id -> label) accuracy comes from the captured requests too."""
        from mlyard.serving.abreport import ab_report
        from mlyard.serving.capture import read_capture

        desc = self.describe(name)
        variants = [v["VariantName"] for v in desc["ProductionVariants"]]
        if "ShadowProductionVariant" in desc:
            variants.append(desc["ShadowProductionVariant"]["VariantName"])
        captures = list(read_capture(self.capture_root, name)) if ground_truth else []
        return ab_report(self.metrics, name, variants, captures=captures,
                         ground_truth=dict(ground_truth or {}))

    # -- descriptions ------------------------------------------------------------------
    def describe(self, name: str) -> dict[str, Any]:
        """SageMaker's DescribeEndpoint, plus live replica counts and health."""
        rec = self.endpoints.get_endpoint(name)
        managed = self._eps.get(name)
        rt = managed.runtime if managed is not None else None
        variants = []
        if rt is not None:
            for v in rt.blue.variants.values():
                variants.append({"VariantName": v.name, "ModelName": v.model_name,
                                 "CurrentWeight": v.weight,
                                 "CurrentInstanceCount": v.pool.replicas,
                                 "HealthyInstanceCount": v.pool.healthy,
                                 "Replicas": [dataclasses.asdict(r) for r in v.pool.stats()]})
        out: dict[str, Any] = {
            "EndpointName": rec.name, "EndpointConfigName": rec.config_name,
            "EndpointStatus": rec.status.value, "FailureReason": rec.failure_reason,
            "CreationTime": rec.created_at, "LastModifiedTime": rec.updated_at,
            "ProductionVariants": variants,
            "AutoScaling": rec.state.get("autoscaling", {}),
            "LastDeployment": rec.state.get("deployment"),
        }
        if rt is not None and rt.shadow is not None:
            s = rt.shadow
            out["ShadowProductionVariant"] = {
                "VariantName": s.name, "ModelName": s.model_name,
                "SamplingPercentage": s.sampling * 100,
                "CurrentInstanceCount": s.pool.replicas}
        if rt is not None and rt.green is not None:
            out["PendingDeployment"] = {"TrafficFraction": rt.green_fraction,
                                        "Variants": sorted(rt.green.variants)}
        progress = self.deployment.progress(name)
        if progress is not None:
            out["DeploymentProgress"] = progress
        return out
