"""Blue/green deployments: moving a live endpoint to another config without downtime.

:meth:`EndpointManager.update_endpoint <mlyard.serving.manager.EndpointManager.update_endpoint>`
validates the request, marks the endpoint ``Updating`` and runs
:meth:`BlueGreenDeployment.run` as a background task, which:

1. starts the new config's fleet (*green*) beside the live one (*blue*);
2. shifts traffic to it in the plan's steps (all at once, canary, linear), baking each step
   for ``WaitIntervalInSeconds`` while checking the alarms of ``AutoRollbackConfiguration``
   (error rate and p99 latency of the green fleet, from its own metric series
   :func:`green_key`) every ``MLYARD_ALARM_INTERVAL`` seconds. Every outcome of a request
   to the green fleet counts, 503s from its pool included (a replica that dies on every
   request fails each request only after the pool tried several replicas, seconds later),
   so after each bake the step also waits for the outcome of every request it sent to
   the green fleet (at most ``settle_timeout`` seconds; requests still unanswered then
   roll back) and judges the alarms once more. Whatever the configured alarms, a green
   fleet that failed every one of at least ``MinInvocations`` requests with a 5xx is
   rolled back (it would take the endpoint down); 4xx answers (the client's bad input)
   never count against it;
3. on an alarm rolls back (``RollingBack``, green drained and stopped, the endpoint back
   ``InService`` on its old config with the reason recorded); otherwise makes green the
   blue fleet, stores the new config and, after ``TerminationWaitInSeconds``, drains and
   stops the old fleet.

The deployment's progress is written to the endpoint's stored ``state["deployment"]``
(status ``InProgress`` / ``Completed`` / ``RolledBack`` / ``Failed`` / ``Interrupted``,
steps with their times), which ``DescribeEndpoint`` shows as ``LastDeployment``. While it
runs, :meth:`BlueGreenDeployment.progress` gives its live state (phase, step, seconds left
in the bake, the green fleet's invocations and errors so far, requests still in flight),
which ``DescribeEndpoint`` shows as ``DeploymentProgress`` and ``mlyard endpoints update``
prints while it waits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mlyard.serving.endpoint_specs import DeploymentConfig, EndpointConfig
from mlyard.serving.endpoint_state import runtime_state
from mlyard.serving.metrics import (
    INVOCATION_4XX_ERRORS,
    INVOCATION_5XX_ERRORS,
    INVOCATIONS,
    MetricsRecorder,
)
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
    (epoch seconds), or None while it does not (or has served too few requests to judge).

    Errors are the green fleet's 5xx answers (model errors and the pool's 503s); its 4xx
    answers (the client's bad input) count as invocations only. Whatever the plan, a fleet
    that failed every one of at least ``MinInvocations`` requests is an alarm."""
    rules = plan.auto_rollback
    key = green_key(endpoint)
    window = max(1.0, time.time() - since)
    calls = metrics.latest(key, INVOCATIONS, window=window, stat="Sum") or 0.0
    if calls < rules.min_invocations:
        return None
    errors = metrics.latest(key, INVOCATION_5XX_ERRORS, window=window, stat="Sum") or 0.0
    if rules.max_error_rate is not None and errors / calls > rules.max_error_rate:
        return (f"error rate {errors / calls:.3f} of the new fleet is above "
                f"{rules.max_error_rate} ({errors:.0f} of {calls:.0f} requests failed)")
    if errors >= calls:
        return (f"every one of the {calls:.0f} requests sent to the new fleet failed "
                "(5xx)")
    if rules.max_p99_latency_ms is not None:
        model = metrics.latest(key, "ModelLatency", window=window, stat="p99") or 0.0
        overhead = metrics.latest(key, "OverheadLatency", window=window, stat="p99") or 0.0
        p99_ms = (model + overhead) / 1000.0
        if p99_ms > rules.max_p99_latency_ms:
            return (f"p99 latency {p99_ms:.1f} ms of the new fleet is above "
                    f"{rules.max_p99_latency_ms} ms")
    return None


#: Phases of a running deployment, as :meth:`BlueGreenDeployment.progress` names them.
STARTING, BAKING, SETTLING, ROLLING_BACK = ("StartingNewFleet", "Baking",
                                            "WaitingForOutcomes", "RollingBack")


@dataclass
class _Progress:
    """The live state of one running deployment."""

    phase: str
    steps: int
    step: int = 0
    fraction: float = 0.0
    bake_ends: float = 0.0  # time.monotonic()
    fleet: Fleet | None = None


class DeploymentHost(Protocol):
    """What a deployment needs from the endpoint manager."""

    def live_runtime(self, name: str) -> EndpointRuntime:
        """The endpoint's runtime; ConflictError if it has no running replicas."""
        ...

    async def start_fleet(self, name: str, config: EndpointConfig) -> Fleet:
        """Start the replicas of every production variant of ``config``."""
        ...


class BlueGreenDeployment:
    """Runs blue/green deployments of the endpoints of one manager. ``settle_timeout``:
    seconds a step waits after its bake for the outcome of the requests it sent to the new
    fleet (60, SageMaker's invocation timeout); requests still unanswered then are an
    alarm."""

    def __init__(self, host: DeploymentHost, store: EndpointStore, metrics: MetricsRecorder,
                 alarm_interval: float, settle_timeout: float = 60.0) -> None:
        self.host = host
        self.store = store
        self.metrics = metrics
        self.alarm_interval = alarm_interval
        self.settle_timeout = settle_timeout
        self._progress: dict[str, _Progress] = {}

    def progress(self, name: str) -> dict[str, Any] | None:
        """The live state of ``name``'s running deployment (None when none runs):
        ``Phase`` (StartingNewFleet, Baking, WaitingForOutcomes, RollingBack), ``Step`` of
        ``Steps``, ``TrafficFraction``, ``BakeSecondsLeft``, and the new fleet's
        ``Invocations``, ``Invocation4XXErrors``, ``Invocation5XXErrors`` so far and
        ``InFlight`` requests."""
        p = self._progress.get(name)
        if p is None:
            return None
        key = green_key(name)

        def total(metric: str) -> int:
            return round(self.metrics.aggregate(key, metric, stat="Sum") or 0.0)

        in_flight = 0
        if p.fleet is not None:
            in_flight = sum(v.outstanding.total for v in p.fleet.variants.values())
        left = max(0.0, p.bake_ends - time.monotonic()) if p.phase == BAKING else 0.0
        return {"Phase": p.phase, "Step": p.step, "Steps": p.steps,
                "TrafficFraction": p.fraction, "BakeSecondsLeft": round(left, 1),
                "Invocations": total(INVOCATIONS),
                "Invocation4XXErrors": total(INVOCATION_4XX_ERRORS),
                "Invocation5XXErrors": total(INVOCATION_5XX_ERRORS),
                "InFlight": in_flight}

    async def run(self, name: str, config: EndpointConfig, plan: DeploymentConfig) -> None:
        """Move ``name`` to ``config`` following ``plan``; a failure leaves the endpoint
        InService on its old config with the deployment marked Failed."""
        self._progress[name] = _Progress(STARTING, len(plan.traffic_routing.steps()))
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
        finally:
            self._progress.pop(name, None)

    async def _bake(self, name: str, plan: DeploymentConfig, green: Fleet, since: float,
                    progress: _Progress) -> str | None:
        """Bake one step: check the alarms until the bake time is over, then wait for the
        outcome of every request sent to ``green`` so far and check them once more. Returns
        the alarm, or None."""
        progress.phase = BAKING
        progress.bake_ends = time.monotonic() + plan.traffic_routing.wait_seconds
        while True:
            alarm = alarm_reason(self.metrics, name, plan, since)
            if alarm is not None:
                return alarm
            if time.monotonic() >= progress.bake_ends:
                break
            await asyncio.sleep(self.alarm_interval)
        progress.phase = SETTLING
        cuts = [(v.outstanding, v.outstanding.cut()) for v in green.variants.values()]
        deadline = time.monotonic() + self.settle_timeout
        while True:
            waiting = sum(o.before(epoch) for o, epoch in cuts)
            alarm = alarm_reason(self.metrics, name, plan, since)
            if alarm is not None or waiting == 0:
                return alarm
            if time.monotonic() >= deadline:
                return (f"{waiting} requests sent to the new fleet were still unanswered "
                        f"{self.settle_timeout:g} s after the step's bake")
            await asyncio.sleep(self.alarm_interval)

    async def _shift(self, name: str, config: EndpointConfig, plan: DeploymentConfig) -> None:
        rt = self.host.live_runtime(name)
        self.metrics.forget(green_key(name))
        steps: list[dict[str, Any]] = []
        progress = self._progress.setdefault(
            name, _Progress(STARTING, len(plan.traffic_routing.steps())))

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
        progress.fleet = green
        alarm: str | None = None
        since = time.time()
        for number, fraction in enumerate(plan.traffic_routing.steps(), start=1):
            rt.green_fraction = fraction
            progress.step, progress.fraction = number, fraction
            steps.append({"fraction": fraction, "at": time.time()})
            save()
            alarm = await self._bake(name, plan, green, since, progress)
            if alarm is not None:
                break
        if alarm is not None:
            progress.phase = ROLLING_BACK
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
        self._progress.pop(name, None)
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
