"""Typed specs of endpoints (pydantic), with SageMaker's names where they fit.

- :class:`EndpointConfig`: production variants (model, initial weight, replica count), an
  optional shadow variant, data capture.
- :class:`DeploymentConfig`: how an endpoint moves to a new config (blue/green traffic
  shifting: all at once, canary, linear) and the alarms that roll it back.
- :class:`TargetTrackingPolicy`: autoscaling of one variant's replicas.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from mlyard.core.specs import Spec
from mlyard.serving.capture import DataCaptureConfig

NAME_RE = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
#: Replica processes a variant may have (per machine; SageMaker's instance count).
MAX_REPLICAS = 16


def _check_name(kind: str, value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(f"invalid {kind} name {value!r}: 1-63 letters, digits and hyphens")
    return value


class _Spec(Spec):
    """Endpoint specs are SageMaker API payloads: errors name fields by their PascalCase
    names (the names the request used)."""

    model_config = ConfigDict(loc_by_alias=True)


class _Variant(_Spec):
    """What every variant has: a name, a registered model and a replica count."""

    variant_name: str = Field(alias="VariantName")
    model_name: str = Field(alias="ModelName")
    initial_replica_count: int = Field(default=1, ge=1, le=MAX_REPLICAS,
                                       alias="InitialInstanceCount")

    @field_validator("variant_name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name("variant", v)


class ProductionVariant(_Variant):
    """A model behind an endpoint with a traffic weight and a replica count."""

    initial_weight: float = Field(default=1.0, ge=0.0, le=1e6, alias="InitialVariantWeight")


class ShadowVariant(_Variant):
    """A model that receives a sampled copy of live traffic; its answers are recorded and
    compared with the live variant's, never returned."""

    sampling_percentage: float = Field(default=10.0, gt=0.0, le=100.0,
                                       alias="SamplingPercentage")


class EndpointConfig(_Spec):
    """Production variants (1-10), an optional shadow variant and data capture."""

    name: str = Field(alias="EndpointConfigName")
    production_variants: list[ProductionVariant] = Field(alias="ProductionVariants",
                                                         min_length=1, max_length=10)
    shadow_variant: ShadowVariant | None = Field(default=None, alias="ShadowProductionVariant")
    data_capture: DataCaptureConfig = Field(default_factory=DataCaptureConfig,
                                            alias="DataCaptureConfig")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name("endpoint config", v)

    @model_validator(mode="after")
    def _variants(self) -> EndpointConfig:
        names = [v.variant_name for v in self.production_variants]
        if self.shadow_variant is not None:
            names.append(self.shadow_variant.variant_name)
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique, got {names}")
        if sum(v.initial_weight for v in self.production_variants) <= 0:
            raise ValueError("at least one production variant needs a weight above 0")
        return self


class TrafficRoutingConfig(_Spec):
    """Blue/green traffic shifting: ``AllAtOnce``, ``Canary`` (``canary_percent`` for one
    bake period, then the rest) or ``Linear`` (steps of ``linear_step_percent``)."""

    type: Literal["AllAtOnce", "Canary", "Linear"] = Field(default="AllAtOnce", alias="Type")
    canary_percent: float = Field(default=10.0, gt=0.0, lt=100.0, alias="CanarySize")
    linear_step_percent: float = Field(default=25.0, gt=0.0, lt=100.0, alias="LinearStepSize")
    wait_seconds: float = Field(default=60.0, ge=0.0, le=86400.0,
                                alias="WaitIntervalInSeconds")

    def steps(self) -> list[float]:
        """The green fleet's traffic fraction after each step (the last is 1.0)."""
        if self.type == "AllAtOnce":
            return [1.0]
        if self.type == "Canary":
            return [self.canary_percent / 100.0, 1.0]
        out: list[float] = []
        share = 0.0
        while share < 1.0 - 1e-9:
            share = min(1.0, share + self.linear_step_percent / 100.0)
            out.append(round(share, 6))
        return out


class AutoRollbackConfig(_Spec):
    """Alarms on the new fleet's traffic while it bakes; any alarm rolls the update back.
    ``max_error_rate`` is the share of 5xx/model errors; ``max_p99_latency_ms`` the p99 of
    model plus overhead latency. ``min_invocations`` requests are needed before an alarm
    may fire."""

    max_error_rate: float | None = Field(default=None, ge=0.0, le=1.0, alias="MaxErrorRate")
    max_p99_latency_ms: float | None = Field(default=None, gt=0.0, alias="MaxP99LatencyMs")
    min_invocations: int = Field(default=5, ge=1, alias="MinInvocations")


class DeploymentConfig(_Spec):
    """How an endpoint update shifts traffic, what rolls it back, and how long the old
    fleet stays up after the shift (``termination_wait_seconds``)."""

    traffic_routing: TrafficRoutingConfig = Field(default_factory=TrafficRoutingConfig,
                                                  alias="TrafficRoutingConfiguration")
    auto_rollback: AutoRollbackConfig = Field(default_factory=AutoRollbackConfig,
                                              alias="AutoRollbackConfiguration")
    termination_wait_seconds: float = Field(default=0.0, ge=0.0, le=3600.0,
                                            alias="TerminationWaitInSeconds")


class TargetTrackingPolicy(_Spec):
    """Target tracking on ``InvocationsPerReplica`` (SageMaker's
    ``SageMakerVariantInvocationsPerInstance``: invocations per replica per minute) or
    ``ConcurrencyPerReplica`` (requests in flight per replica), with bounds and cooldowns.
    ``evaluation_seconds`` is the window the metric is averaged over (60 as CloudWatch;
    smaller in tests)."""

    metric: Literal["InvocationsPerReplica", "ConcurrencyPerReplica"] = Field(
        default="InvocationsPerReplica", alias="PredefinedMetricType")
    target_value: float = Field(gt=0.0, alias="TargetValue")
    min_replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS, alias="MinCapacity")
    max_replicas: int = Field(default=2, ge=1, le=MAX_REPLICAS, alias="MaxCapacity")
    scale_out_cooldown: float = Field(default=60.0, ge=0.0, alias="ScaleOutCooldown")
    scale_in_cooldown: float = Field(default=300.0, ge=0.0, alias="ScaleInCooldown")
    evaluation_seconds: float = Field(default=60.0, gt=0.0, le=3600.0,
                                      alias="EvaluationSeconds")

    @model_validator(mode="after")
    def _bounds(self) -> TargetTrackingPolicy:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"MinCapacity {self.min_replicas} is above MaxCapacity "
                             f"{self.max_replicas}")
        return self
