"""Endpoint specs, routing proportions, autoscaling decisions and traffic-shift plans."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError as PydanticError

from mlyard.serving.autoscaling import ScalerState, decide, desired_replicas
from mlyard.serving.endpoint_specs import (
    EndpointConfig,
    TargetTrackingPolicy,
    TrafficRoutingConfig,
)
from mlyard.serving.runtime import EndpointRuntime, Fleet, VariantRuntime


def _config(**weights: float) -> EndpointConfig:
    return EndpointConfig.model_validate({
        "EndpointConfigName": "cfg",
        "ProductionVariants": [{"VariantName": n, "ModelName": "m", "InitialVariantWeight": w}
                               for n, w in weights.items()]})


def _fleet(**weights: float) -> Fleet:
    variants = {n: VariantRuntime(n, "m", w, pool=None) for n, w in weights.items()}  # type: ignore[arg-type]
    return Fleet(_config(**{n: max(w, 0.0) or 1.0 for n, w in weights.items()}), variants)


def test_weighted_routing_within_two_percent() -> None:
    rt = EndpointRuntime("ep", _fleet(A=30, B=70), rng=random.Random(7))
    counts = Counter(rt.route(None)[0].name for _ in range(10_000))
    assert abs(counts["A"] / 10_000 - 0.30) < 0.02
    assert abs(counts["B"] / 10_000 - 0.70) < 0.02


def test_zero_weight_and_pinned_variant() -> None:
    fleet = _fleet(A=0, B=1)
    rt = EndpointRuntime("ep", fleet, rng=random.Random(1))
    assert {rt.route(None)[0].name for _ in range(200)} == {"B"}
    assert rt.route("A")[0].name == "A"
    with pytest.raises(Exception, match="no variant 'C'"):
        rt.route("C")


def test_green_fleet_share() -> None:
    rt = EndpointRuntime("ep", _fleet(A=1), rng=random.Random(3))
    rt.green, rt.green_fraction = _fleet(A=1), 0.25
    greens = sum(rt.route(None)[1] for _ in range(10_000))
    assert abs(greens / 10_000 - 0.25) < 0.02


@pytest.mark.parametrize("spec, message", [
    ({"ProductionVariants": []}, "at least 1"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "m",
                              "InitialVariantWeight": -1}]}, "greater than or equal"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "m",
                              "InitialVariantWeight": 0}]}, "weight above 0"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "m"},
                             {"VariantName": "A", "ModelName": "n"}]}, "unique"),
    ({"ProductionVariants": [{"VariantName": "A", "ModelName": "m",
                              "InitialInstanceCount": 99}]}, "less than or equal"),
    ({"ProductionVariants": [{"VariantName": "bad name", "ModelName": "m"}]}, "invalid variant"),
])
def test_bad_configs(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(PydanticError, match=message):
        EndpointConfig.model_validate({"EndpointConfigName": "cfg", **spec})


def test_traffic_steps() -> None:
    assert TrafficRoutingConfig().steps() == [1.0]
    assert TrafficRoutingConfig(Type="Canary", CanarySize=10).steps() == [0.1, 1.0]
    assert TrafficRoutingConfig(Type="Linear", LinearStepSize=30).steps() == [0.3, 0.6, 0.9, 1.0]


def test_course_lab_policy_scales_out_then_respects_cooldowns() -> None:
    # The course lab: target 2.0 invocations per instance per minute, 1..2, 60 s / 300 s.
    policy = TargetTrackingPolicy(TargetValue=2.0, MinCapacity=1, MaxCapacity=2,
                                  ScaleOutCooldown=60, ScaleInCooldown=300)
    state = ScalerState()
    assert desired_replicas(policy, 1, 30.0) == 2
    assert decide(policy, state, 1, 30.0, now=1000.0) == 2
    assert decide(policy, state, 2, 0.0, now=1100.0) is None      # scale-in cooldown
    assert decide(policy, state, 2, 0.0, now=1301.0) == 1
    assert decide(policy, state, 1, 30.0, now=1302.0) == 2        # out cooldown since 1000
    assert decide(policy, state, 2, 30.0, now=1303.0) is None     # already at max
    with pytest.raises(PydanticError, match="above MaxCapacity"):
        TargetTrackingPolicy(TargetValue=1, MinCapacity=3, MaxCapacity=2)
