"""Target-tracking autoscaling decisions (pure logic; the endpoint manager runs the loop).

Like SageMaker's target tracking on ``SageMakerVariantInvocationsPerInstance``: the desired
replica count is ``ceil(current * metric / target)``, clamped to the policy's bounds; a
scale-out waits ``scale_out_cooldown`` after the last scale-out, a scale-in waits
``scale_in_cooldown`` after the last scaling activity of either kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlyard.serving.endpoint_specs import TargetTrackingPolicy


@dataclass
class ScalerState:
    """When a variant last scaled out and in."""

    last_scale_out: float = -math.inf
    last_scale_in: float = -math.inf


def desired_replicas(policy: TargetTrackingPolicy, current: int, metric: float | None) -> int:
    """Replicas that bring ``metric`` (per replica) to the target, within bounds."""
    if metric is None:
        wanted = current
    else:
        wanted = math.ceil(current * metric / policy.target_value - 1e-9)
    return max(policy.min_replicas, min(policy.max_replicas, max(wanted, 1)))


def decide(policy: TargetTrackingPolicy, state: ScalerState, current: int,
           metric: float | None, now: float) -> int | None:
    """The new replica count if the variant should scale now, else None. Updates ``state``
    when it returns a count."""
    wanted = desired_replicas(policy, current, metric)
    if wanted > current and (current < policy.min_replicas
                             or now - state.last_scale_out >= policy.scale_out_cooldown):
        state.last_scale_out = now
        return wanted
    last_any = max(state.last_scale_out, state.last_scale_in)
    if wanted < current and (current > policy.max_replicas
                             or now - last_any >= policy.scale_in_cooldown):
        state.last_scale_in = now
        return wanted
    return None
