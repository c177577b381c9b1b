"""The part of a running endpoint that the metadata store keeps across server restarts.

An endpoint record's ``state`` holds the live weights and replica counts of its production
variants (``weights``, ``replicas``), its scaling policies (``autoscaling``) and its last
blue/green deployment (``deployment``). The manager, the autoscaler and the deployment all
write it back through :func:`runtime_state`, so the keys are spelled in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlyard.serving.runtime import EndpointRuntime


def runtime_state(rt: EndpointRuntime, base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (the stored state) with the blue fleet's current weights and replica
    counts."""
    state = dict(base)
    state["weights"] = {n: v.weight for n, v in rt.blue.variants.items()}
    state["replicas"] = {n: v.pool.replicas for n, v in rt.blue.variants.items()}
    return state
