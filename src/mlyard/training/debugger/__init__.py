"""Debugger (SageMaker Debugger equivalent): tensor statistics saved during training and
rules evaluated on them while the job runs.

* :class:`DebugHook` runs in the training process and appends statistics of losses,
  weights, gradients and labels to ``tensors-rank{rank}.jsonl`` (see :mod:`.records`).
* :class:`RuleRunner` runs in the job's main process, reads those files as they grow into a
  :class:`TensorTrace` and evaluates the configured rules (:data:`BUILTIN_RULES`), reporting
  ``RuleEvaluationStatus`` updates and optionally stopping the job.
* :class:`DebuggerConfig` / :class:`RuleConfig` configure both; :func:`hook_env` passes the
  hook settings to the training process.

Importing this package does not import torch.
"""

from __future__ import annotations

from mlyard.training.debugger.config import STOP_TRAINING, DebuggerConfig, RuleConfig, hook_env
from mlyard.training.debugger.hook import DebugHook
from mlyard.training.debugger.records import (
    COLLECTIONS,
    ENV_VAR,
    MODES,
    TensorRecord,
    decode_line,
    encode_record,
    trace_file,
    trace_files,
)
from mlyard.training.debugger.rules import (
    BUILTIN_RULES,
    ClassImbalance,
    ExplodingTensor,
    LossNotDecreasing,
    Overfit,
    Overtraining,
    PoorWeightInitialization,
    Rule,
    RuleFinding,
    VanishingGradient,
)
from mlyard.training.debugger.runner import RuleRunner, evaluate_rules
from mlyard.training.debugger.stats import label_counts, tensor_stats, tensor_stats_many
from mlyard.training.debugger.trace import TensorTrace, TraceReader

__all__ = [
    "BUILTIN_RULES",
    "COLLECTIONS",
    "ENV_VAR",
    "MODES",
    "STOP_TRAINING",
    "ClassImbalance",
    "DebugHook",
    "DebuggerConfig",
    "ExplodingTensor",
    "LossNotDecreasing",
    "Overfit",
    "Overtraining",
    "PoorWeightInitialization",
    "Rule",
    "RuleConfig",
    "RuleFinding",
    "RuleRunner",
    "TensorRecord",
    "TensorTrace",
    "TraceReader",
    "VanishingGradient",
    "decode_line",
    "encode_record",
    "evaluate_rules",
    "hook_env",
    "label_counts",
    "tensor_stats",
    "tensor_stats_many",
    "trace_file",
    "trace_files",
]
