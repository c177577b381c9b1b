"""Grouped training settings for the SDK, and the one adapter from SageMaker's flat argument
names to them.

An :class:`~mlyard.sdk.estimator.Estimator` takes its settings in groups, the same groups a
:class:`~mlyard.training.spec.TrainingJobSpec` has (``resources``, ``checkpoint``, ``spot``,
``distribution``, ``debugger``, ``profiler``). Code written for the SageMaker Python SDK
passes flat keyword arguments instead (``instance_count=2``, ``checkpoint_s3_uri=...``,
``use_spot_instances=True``, ``max_wait=...``, ``rules=[...]``, ...):
:func:`training_settings` folds those into the groups, in one place, and refuses an argument
it does not know (listing the ones it does) or one given both ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.specs import ResourceConfig
from mlyard.errors import ValidationError, problem_text
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.profiler import ProfilerConfig
from mlyard.training.spec import CheckpointConfig, DistributionConfig, SpotConfig

#: SageMaker-style flat arguments -> the group (or top-level setting) they belong to.
FLAT_ARGUMENTS: dict[str, str] = {
    "instance_count": "resources", "num_threads": "resources", "device": "resources",
    "checkpoint_s3_uri": "checkpoint", "checkpoint_config": "checkpoint",
    "use_spot_instances": "spot", "max_wait": "spot", "spot_config": "spot",
    "rules": "debugger", "debugger_hook_config": "debugger",
    "profiler_config": "profiler",
    "max_run": "max_runtime_seconds", "image_uri": "image", "env": "environment",
}


@dataclass
class TrainingSettings:
    """The grouped settings of a training job (see the module docstring)."""

    resources: ResourceConfig = field(default_factory=ResourceConfig)
    checkpoint: CheckpointConfig | None = None
    use_spot: bool = False
    max_wait_seconds: int | None = None
    spot: SpotConfig = field(default_factory=SpotConfig)
    distribution: DistributionConfig | None = None
    debugger: DebuggerConfig | None = None
    profiler: ProfilerConfig | None = None
    max_runtime_seconds: int | None = None
    image: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


def distribution_config(distribution: DistributionConfig | Mapping[str, Any] | None
                        ) -> DistributionConfig | None:
    """A :class:`DistributionConfig` from mlyard's own form or SageMaker's PyTorch estimator
    forms (``{"torch_distributed": {"enabled": True}}``, ``{"pytorchddp": ...}``,
    ``{"fsdp": {"enabled": True}}``), with an optional ``processes_per_host``."""
    if distribution is None or isinstance(distribution, DistributionConfig):
        return distribution
    given = dict(distribution)
    per_host = int(given.pop("processes_per_host", 1))
    strategy = given.pop("strategy", None)
    for key in list(given):
        enabled = isinstance(given[key], Mapping) and given[key].get("enabled", True)
        if key in ("torch_distributed", "pytorchddp", "smdistributed") and enabled:
            strategy = strategy or "ddp"
        elif key == "fsdp" and enabled:
            strategy = "fsdp"
        else:
            raise ValidationError(
                f"distribution: unknown or disabled option {key!r}; use torch_distributed, "
                "pytorchddp, fsdp, strategy=ddp|fsdp and processes_per_host")
    return DistributionConfig(strategy=strategy or "ddp", processes_per_host=per_host)


def _model(value: Any, cls: type[Any], what: str) -> Any:
    """``value`` as ``cls`` (an instance, a mapping of its fields, or None)."""
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        try:
            return cls.model_validate(dict(value))
        except ValueError as exc:
            raise ValidationError(f"{what}: {problem_text(exc)}") from None
    raise ValidationError(f"{what} must be a {cls.__name__} or a mapping, not "
                          f"{type(value).__name__}")


def training_settings(*, resources: ResourceConfig | Mapping[str, Any] | None = None,
                      checkpoint: CheckpointConfig | Mapping[str, Any] | None = None,
                      spot: SpotConfig | Mapping[str, Any] | None = None,
                      distribution: DistributionConfig | Mapping[str, Any] | None = None,
                      debugger: DebuggerConfig | Mapping[str, Any] | None = None,
                      profiler: ProfilerConfig | Mapping[str, Any] | None = None,
                      max_wait_seconds: int | None = None,
                      max_runtime_seconds: int | None = None, image: str | None = None,
                      environment: Mapping[str, str] | None = None,
                      flat: Mapping[str, Any] | None = None) -> TrainingSettings:
    """The grouped settings from groups and SageMaker's flat arguments (``flat``).

    ``spot`` given (or ``use_spot_instances=True``) makes the job a managed spot job.
    """
    flat = dict(flat or {})
    unknown = sorted(set(flat) - set(FLAT_ARGUMENTS))
    if unknown:
        raise ValidationError(
            f"unknown argument(s) {', '.join(unknown)}; SageMaker-style arguments accepted: "
            f"{', '.join(sorted(FLAT_ARGUMENTS))}")
    groups = {"resources": resources, "checkpoint": checkpoint, "spot": spot,
              "distribution": distribution, "debugger": debugger, "profiler": profiler,
              "max_runtime_seconds": max_runtime_seconds, "image": image,
              "environment": environment}
    for name in flat:
        target = FLAT_ARGUMENTS[name]
        if groups.get(target) is not None:
            raise ValidationError(f"{name}= and {target}= both set the {target} settings; "
                                  "give one")
    res = _model(resources, ResourceConfig, "resources") or ResourceConfig()
    res_flat = {k: flat[k] for k in ("instance_count", "num_threads", "device") if k in flat}
    if res_flat:
        res = _model({**res.model_dump(), **res_flat}, ResourceConfig, "resources")
    ckpt = _model(checkpoint, CheckpointConfig, "checkpoint")
    if "checkpoint_config" in flat:
        ckpt = _model(flat["checkpoint_config"], CheckpointConfig, "checkpoint_config")
    if flat.get("checkpoint_s3_uri") is not None:
        base = ckpt or CheckpointConfig()
        ckpt = CheckpointConfig(**{**base.model_dump(), "uri": flat["checkpoint_s3_uri"]})
    spot_cfg = _model(spot, SpotConfig, "spot")
    if "spot_config" in flat:
        spot_cfg = _model(flat["spot_config"], SpotConfig, "spot_config")
    use_spot = bool(flat.get("use_spot_instances", False)) or spot is not None
    debug = _model(debugger, DebuggerConfig, "debugger")
    if "debugger_hook_config" in flat:
        debug = _model(flat["debugger_hook_config"], DebuggerConfig, "debugger_hook_config")
    rules = [r if isinstance(r, RuleConfig) else RuleConfig(name=r)
             for r in flat.get("rules") or []]
    if rules:
        base_hook = debug or DebuggerConfig()
        debug = DebuggerConfig(**{**base_hook.model_dump(), "rules": rules})
    prof = _model(profiler, ProfilerConfig, "profiler")
    if "profiler_config" in flat:
        prof = _model(flat["profiler_config"], ProfilerConfig, "profiler_config")
    env = dict(environment or flat.get("env") or {})
    return TrainingSettings(
        resources=res, checkpoint=ckpt, use_spot=use_spot,
        max_wait_seconds=flat.get("max_wait", max_wait_seconds),
        spot=spot_cfg or SpotConfig(), distribution=distribution_config(distribution),
        debugger=debug, profiler=prof,
        max_runtime_seconds=flat.get("max_run", max_runtime_seconds),
        image=flat.get("image_uri", image), environment=env)
