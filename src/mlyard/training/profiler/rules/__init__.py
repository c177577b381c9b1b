"""SageMaker's ProfilerReport rules, by name.

:data:`PROFILER_RULES` maps each rule name to its class; a rule is built with parameter
overrides (``PROFILER_RULES["StepOutlier"](stddev=2)``) and evaluated on a
:class:`~mlyard.training.profiler.data.ProfileData`.
"""

from __future__ import annotations

from mlyard.training.profiler.rules.base import (
    NO_DATA,
    NO_GPU,
    ProfilerRule,
    ProfilerRuleResult,
)
from mlyard.training.profiler.rules.framework import (
    Dataloader,
    MaxInitializationTime,
    OverallFrameworkMetrics,
    StepOutlier,
)
from mlyard.training.profiler.rules.system import (
    BatchSize,
    CPUBottleneck,
    GPUMemoryIncrease,
    IOBottleneck,
    LoadBalancing,
    LowGPUUtilization,
    OverallSystemUsage,
)

PROFILER_RULES: dict[str, type[ProfilerRule]] = {
    rule.name: rule
    for rule in (
        BatchSize,
        CPUBottleneck,
        Dataloader,
        GPUMemoryIncrease,
        IOBottleneck,
        LoadBalancing,
        LowGPUUtilization,
        MaxInitializationTime,
        OverallFrameworkMetrics,
        OverallSystemUsage,
        StepOutlier,
    )
}
"""The 11 rules of SageMaker's ProfilerReport, in alphabetical order."""

__all__ = [
    "NO_DATA",
    "NO_GPU",
    "PROFILER_RULES",
    "BatchSize",
    "CPUBottleneck",
    "Dataloader",
    "GPUMemoryIncrease",
    "IOBottleneck",
    "LoadBalancing",
    "LowGPUUtilization",
    "MaxInitializationTime",
    "OverallFrameworkMetrics",
    "OverallSystemUsage",
    "ProfilerRule",
    "ProfilerRuleResult",
    "StepOutlier",
]
