"""The autoscale loop of ``mlyard server``: target tracking applied to live endpoints.

:mod:`mlyard.serving.autoscaling` decides (pure logic); this module feeds it. Every
``MLYARD_AUTOSCALE_INTERVAL`` seconds the server calls :meth:`Autoscaler.run_once`, which,
for each InService endpoint and each variant with a stored policy, reads the policy's
metric from the :class:`~mlyard.serving.metrics.MetricsRecorder`, asks
:func:`~mlyard.serving.autoscaling.decide` for a replica count and has the endpoint manager
scale the variant (which records a scaling activity) and persist the new count.

The cooldown state of each (endpoint, variant) lives here, not in the store: a restarted
server starts with fresh cooldowns, as before this module was split out of the manager.
"""

from __future__ import annotations

import time
from typing import Protocol

from mlyard.serving.autoscaling import ScalerState, decide
from mlyard.serving.endpoint_specs import TargetTrackingPolicy
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.runtime import EndpointRuntime, VariantRuntime
from mlyard.serving.store import EndpointStatus, EndpointStore


class ScalingHost(Protocol):
    """What the autoscaler needs from the endpoint manager."""

    def live_runtimes(self) -> list[tuple[str, EndpointRuntime]]:
        """``(endpoint name, runtime)`` of every endpoint with running replicas."""
        ...

    async def scale_variant(self, name: str, variant: VariantRuntime, count: int,
                            cause: str) -> None:
        """Resize one variant's pool and record the scaling activity."""
        ...

    def save_runtime_state(self, name: str, rt: EndpointRuntime) -> None:
        """Persist the endpoint's current weights and replica counts."""
        ...


def policy_metric(metrics: MetricsRecorder, endpoint: str, variant: VariantRuntime,
                  policy: TargetTrackingPolicy) -> float | None:
    """The value of ``policy.metric`` per replica over the policy's evaluation window:
    invocations per replica per minute, or concurrent requests per replica (None when no
    sample was taken in the window)."""
    window = policy.evaluation_seconds
    replicas = max(1, variant.pool.replicas)
    if policy.metric == "InvocationsPerReplica":
        total = metrics.latest(endpoint, "Invocations", variant=variant.name, window=window,
                               stat="Sum")
        return 0.0 if total is None else total / replicas * (60.0 / window)
    avg = metrics.latest(endpoint, "ConcurrentRequests", variant=variant.name,
                         window=window, stat="Average")
    return None if avg is None else avg / replicas


class Autoscaler:
    """Applies every stored target-tracking policy of the live endpoints."""

    def __init__(self, host: ScalingHost, store: EndpointStore,
                 metrics: MetricsRecorder) -> None:
        self.host = host
        self.store = store
        self.metrics = metrics
        self._states: dict[tuple[str, str], ScalerState] = {}

    def reset(self, endpoint: str, variant: str) -> None:
        """Start a variant's cooldowns afresh (its policy was just put)."""
        self._states[(endpoint, variant)] = ScalerState()

    def forget(self, endpoint: str, variant: str | None = None) -> None:
        """Drop the cooldown state of one variant, or of every variant of ``endpoint``."""
        for key in [k for k in self._states
                    if k[0] == endpoint and (variant is None or k[1] == variant)]:
            del self._states[key]

    async def run_once(self, now: float | None = None) -> None:
        """One pass of every scaling policy (the server calls it every interval)."""
        now = time.time() if now is None else now
        for name, rt in self.host.live_runtimes():
            rec = self.store.get_endpoint(name)
            if rec.status is not EndpointStatus.IN_SERVICE:
                continue
            for vname, spec in rec.state.get("autoscaling", {}).items():
                variant = rt.blue.variants.get(vname)
                if variant is None:
                    continue
                policy = TargetTrackingPolicy.model_validate(spec)
                current = variant.pool.replicas
                metric = policy_metric(self.metrics, name, variant, policy)
                state = self._states.setdefault((name, vname), ScalerState())
                wanted = decide(policy, state, current, metric, now)
                if wanted is not None and wanted != current:
                    shown = "no data" if metric is None else f"{metric:.3f}"
                    cause = (f"target tracking: {policy.metric} {shown}, "
                             f"target {policy.target_value}")
                    await self.host.scale_variant(name, variant, wanted, cause)
                    self.host.save_runtime_state(name, rt)
