"""The profiler settings of a job (SageMaker's ``ProfilerConfig`` + ``ProfilerReport`` rules)
and the environment that passes them to the training process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mlyard.training.profiler.files import PROFILER_CONFIG_ENV
from mlyard.training.profiler.rules import PROFILER_RULES


def _known() -> str:
    return ", ".join(PROFILER_RULES)


class ProfilerConfig(BaseModel):
    """What to profile and which rules the report evaluates.

    - ``system_interval_ms``: system sampling interval (SageMaker's
      ``system_monitor_interval_millis``), 100..60000 ms;
    - ``framework_start_step`` / ``framework_num_steps``: the steps traced with torch.profiler
      (``num_steps`` 0: no tracing; step timing stays on);
    - ``rules``: rule names, all 11 of ProfilerReport by default;
    - ``rule_parameters``: rule name -> parameter overrides, e.g.
      ``{"StepOutlier": {"stddev": 2}}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    system_interval_ms: int = Field(default=500, ge=100, le=60_000)
    framework_start_step: int = Field(default=5, ge=1)
    framework_num_steps: int = Field(default=3, ge=0)
    rules: list[str] = Field(default_factory=lambda: list(PROFILER_RULES))
    rule_parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        for name in rules:
            if name not in PROFILER_RULES:
                raise ValueError(f"unknown profiler rule {name!r}; known rules: {_known()}")
        duplicates = sorted({n for n in rules if rules.count(n) > 1})
        if duplicates:
            raise ValueError(f"profiler rules listed twice: {', '.join(duplicates)}")
        return rules

    @field_validator("rule_parameters")
    @classmethod
    def _known_parameters(cls, parameters: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, overrides in parameters.items():
            rule = PROFILER_RULES.get(name)
            if rule is None:
                raise ValueError(
                    f"rule_parameters names unknown profiler rule {name!r}; known rules: {_known()}"
                )
            rule.check_parameters(overrides)
        return parameters

    @property
    def system_interval_seconds(self) -> float:
        """The sampling interval in seconds, for :class:`SystemMonitor`."""
        return self.system_interval_ms / 1000.0

    def parameters_of(self, rule: str) -> dict[str, Any]:
        """The overrides configured for ``rule`` (empty when none)."""
        return dict(self.rule_parameters.get(rule, {}))


def profiler_env(config: ProfilerConfig, out_dir: Path) -> dict[str, str]:
    """The variables that enable :meth:`StepProfiler.from_env` in the training process."""
    payload = {
        "out_dir": str(Path(out_dir)),
        "framework_start_step": config.framework_start_step,
        "framework_num_steps": config.framework_num_steps,
    }
    return {PROFILER_CONFIG_ENV: json.dumps(payload)}
