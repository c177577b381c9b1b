"""Blue/green deployments: moving a live endpoint to another config without downtime.

:meth:`EndpointManager.update_endpoint <mlyard.serving.manager.EndpointManager.update_endpoint>`
validates the request, marks the endpoint ``Updating`` and runs
:meth:`BlueGreenDeployment.run` as a background task, which:

1. starts the new config's fleet (*green*) beside the live one (*blue*);
2. shifts traffic to it in the plan's steps (all at once, canary, linear), baking each step
   for ``WaitIntervalInSeconds`` while checking the alarms of ``AutoRollbackConfiguration``
   (error rate and p99 latency of the green fleet, from its own metric series
   :func:`green_key`) every ``MLYARD_ALARM_INTERVAL`` seconds;
3. on an alarm rolls back (``RollingBack``, green drained and stopped, the endpoint back
   ``InService`` on its old config with the reason recorded); otherwise makes green the
   blue fleet, stores the new config and, after ``TerminationWaitInSeconds``, drains and
   stops the old fleet.

The deployment's progress is written to the endpoint's stored ``state["deployment"]``
(status ``InProgress`` / ``Completed`` / ``RolledBack`` / ``Failed`` / ``Interrupted``,
steps with their times), which ``DescribeEndpoint`` shows as ``LastDeployment``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mlyard.serving.endpoint_specs import DeploymentConfig, EndpointConfig
from mlyard.serving.endpoint_state import runtime_state
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.runtime import EndpointRuntime, Fleet
from mlyard.serving.store import EndpointStatus, EndpointStore


def green_key(endpoint: str) -> str:
    """The metrics key under which the green fleet's requests are also recorded (the alarms
    read it; it is forgotten when a deployment starts and when the endpoint is deleted)."""
    return f"{endpoint}/green"


def started_record(config_name: str, from_config: str,
                   plan: DeploymentConfig) -> dict[str, Any]:
    """The ``state["deployment"]`` of a deployment that just started."""
    return {"status": "InProgress", "target_config": config_name,
            "from_config": from_config, "started_at": time.time(),
            "plan": plan.model_dump(mode="json", by_alias=True), "steps": []}


def interrupted(state: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` with an in-progress deployment marked ``Interrupted`` (the server stopped
    during it, so its new fleet is gone and the endpoint stays on its old config)."""
    out = dict(state)
    deployment = out.get("deployment")
    if isinstance(deployment, dict) and deployment.get("status") == "InProgress":
        out["deployment"] = {**deployment, "status": "Interrupted",
                             "reason": "the server stopped during the update",
                             "ended_at": time.time()}
    return out


def alarm_reason(metrics: MetricsRecorder, endpoint: str, plan: DeploymentConfig,
                 since: float) -> str | None:
    """Why the green fleet of ``endpoint`` breaks the plan's rollback alarms since ``since``
    (epoch seconds), or None while it does not (or has served too few requests to judge)."""
    rules = plan.auto_rollback
    key = green_key(endpoint)
    window = max(1.0, time.time() - since)
    calls = metrics.latest(key, "Invocations", window=window, stat="Sum") or 0.0
    if calls < rules.min_invocations:
        return None
    if rules.max_error_rate is not None:
        errors = metrics.latest(key, "Invocation5XXErrors", window=window, stat="Sum") or 0.0
        if errors / calls > rules.max_error_rate:
            return (f"error rate {errors / calls:.3f} of the new fleet is above "
                    f"{rules.max_error_rate}")
    if rules.max_p99_latency_ms is not None:
        model = metrics.latest(key, "ModelLatency", window=window, stat="p99") or 0.0
        overhead = metrics.latest(key, "OverheadLatency", window=window, stat="p99") or 0.0
        p99_ms = (model + overhead) / 1000.0
        if p99_ms > rules.max_p99_latency_ms:
            return (f"p99 latency {p99_ms:.1f} ms of the new fleet is above "
                    f"{rules.max_p99_latency_ms} ms")
    return None


class DeploymentHost(Protocol):
    """What a deployment needs from the endpoint manager."""

    def live_runtime(self, name: str) -> EndpointRuntime:
        """The endpoint's runtime; ConflictError if it has no running replicas."""
        ...

    async def start_fleet(self, name: str, config: EndpointConfig) -> Fleet:
        """Start the replicas of every production variant of ``config``."""
        ...


class BlueGreenDeployment:
    """Runs blue/green deployments of the endpoints of one manager."""

    def __init__(self, host: DeploymentHost, store: EndpointStore, metrics: MetricsRecorder,
                 alarm_interval: float) -> None:
        self.host = host
        self.store = store
        self.metrics = metrics
        self.alarm_interval = alarm_interval

    async def run(self, name: str, config: EndpointConfig, plan: DeploymentConfig) -> None:
        """Move ``name`` to ``config`` following ``plan``; a failure leaves the endpoint
        InService on its old config with the deployment marked Failed."""
        try:
            await self._shift(name, config, plan)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            rt = self.host.live_runtime(name)
            green, rt.green, rt.green_fraction = rt.green, None, 0.0
            if green is not None:
                await asyncio.gather(*(p.close(drain=True) for p in green.pools()),
                                     return_exceptions=True)
            rec = self.store.get_endpoint(name)
            state = dict(rec.state)
            state["deployment"] = {**state.get("deployment", {}), "status": "Failed",
                                   "reason": f"{type(exc).__name__}: {exc}",
                                   "ended_at": time.time()}
            self.store.update_endpoint(
                name, status=EndpointStatus.IN_SERVICE, state=state,
                failure_reason=f"update to {config.name} failed: {exc}")

    async def _shift(self, name: str, config: EndpointConfig, plan: DeploymentConfig) -> None:
        rt = self.host.live_runtime(name)
        self.metrics.forget(green_key(name))
        steps: list[dict[str, Any]] = []

        def save(endpoint_status: EndpointStatus | None = None, **extra: Any) -> None:
            rec = self.store.get_endpoint(name)
            state = dict(rec.state)
            state["deployment"] = {**state.get("deployment", {}), "steps": steps, **extra}
            self.store.update_endpoint(name, status=endpoint_status, state=state)

        try:
            green = await self.host.start_fleet(name, config)
        except Exception as exc:
            save(EndpointStatus.IN_SERVICE, status="Failed", reason=f"new fleet did not "
                 f"start: {exc}")
            self.store.update_endpoint(name, failure_reason=f"update to {config.name} "
                                       f"failed: new fleet did not start: {exc}")
            return
        rt.green = green
        alarm: str | None = None
        since = time.time()
        for fraction in plan.traffic_routing.steps():
            rt.green_fraction = fraction
            steps.append({"fraction": fraction, "at": time.time()})
            save()
            bake_until = time.monotonic() + plan.traffic_routing.wait_seconds
            while True:
                alarm = alarm_reason(self.metrics, name, plan, since)
                if alarm is not None or time.monotonic() >= bake_until:
                    break
                await asyncio.sleep(self.alarm_interval)
            if alarm is not None:
                break
        if alarm is not None:
            await self._roll_back(name, config, rt, green, alarm, save)
            return
        old = rt.blue
        rt.blue, rt.green, rt.green_fraction = green, None, 0.0
        rec = self.store.get_endpoint(name)
        state = runtime_state(rt, rec.state)
        state["deployment"] = {**state.get("deployment", {}), "steps": steps,
                               "status": "Completed", "ended_at": time.time()}
        policies = state.get("autoscaling", {})
        state["autoscaling"] = {v: p for v, p in policies.items() if v in green.variants}
        self.store.update_endpoint(name, status=EndpointStatus.IN_SERVICE, state=state,
                                   config_name=config.name, clear_failure=True)
        await asyncio.sleep(plan.termination_wait_seconds)
        await asyncio.gather(*(p.close(drain=True) for p in old.pools()))

    async def _roll_back(self, name: str, config: EndpointConfig, rt: EndpointRuntime,
                         green: Fleet, alarm: str, save: Callable[..., None]) -> None:
        self.store.update_endpoint(name, status=EndpointStatus.ROLLING_BACK)
        rt.green_fraction = 0.0
        rt.green = None
        await asyncio.gather(*(p.close(drain=True) for p in green.pools()))
        save(EndpointStatus.IN_SERVICE, status="RolledBack", reason=alarm,
             ended_at=time.time())
        self.store.update_endpoint(name, failure_reason=f"update to {config.name} "
                                   f"rolled back: {alarm}")
