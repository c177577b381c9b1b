"""Profiling of training jobs: SageMaker Debugger's profiler and its ProfilerReport.

Three parts, connected by files in one profile folder (see :mod:`.files`):

- :class:`SystemMonitor`, a thread in the job's main process, samples CPU, memory, process
  tree, disk, network and (through pynvml) GPU utilisation into ``system-metrics.jsonl``;
- :class:`StepProfiler`, in the training process (built-in trainer or a user's script, enabled
  by :func:`profiler_env`), times each step and its data loading and traces a few steps with
  torch.profiler;
- :func:`build_report` evaluates the 11 ProfilerReport rules (:data:`PROFILER_RULES`) and
  writes ``profiler-report.html`` and the rules' JSON output.

Importing this package does not import torch or matplotlib.
"""

from __future__ import annotations

from mlyard.training.profiler.config import ProfilerConfig, profiler_env
from mlyard.training.profiler.data import ProfileData
from mlyard.training.profiler.files import PROFILER_CONFIG_ENV
from mlyard.training.profiler.monitor import SystemMonitor
from mlyard.training.profiler.report import build_report
from mlyard.training.profiler.rules import PROFILER_RULES, ProfilerRule, ProfilerRuleResult
from mlyard.training.profiler.step import StepProfiler

__all__ = [
    "PROFILER_CONFIG_ENV",
    "PROFILER_RULES",
    "ProfileData",
    "ProfilerConfig",
    "ProfilerRule",
    "ProfilerRuleResult",
    "StepProfiler",
    "SystemMonitor",
    "build_report",
    "profiler_env",
]
