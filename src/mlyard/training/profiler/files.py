"""Names of the files the profiler writes, and the environment variable that switches it on.

Layout of a profiler output folder (``out_dir``)::

    system-metrics.jsonl          one JSON line per SystemMonitor sample
    framework-rank{r}.jsonl       init / step / resources / trace / close records of rank r
    torch-trace-rank{r}.json      chrome trace of the traced steps (torch.profiler)
    framework-ops-rank{r}.json    top operators of the traced steps by self CPU time

and of a report folder (``report_dir``)::

    profiler-report.html
    profiler-output/summary.json
    profiler-output/rule-output/<RuleName>.json
"""

from __future__ import annotations

PROFILER_CONFIG_ENV = "MLYARD_PROFILER_CONFIG"
"""JSON ``{"out_dir", "framework_start_step", "framework_num_steps"}`` for the training process."""

SYSTEM_METRICS_FILE = "system-metrics.jsonl"
FRAMEWORK_GLOB = "framework-rank*.jsonl"
OPS_GLOB = "framework-ops-rank*.json"

REPORT_HTML = "profiler-report.html"
OUTPUT_DIR = "profiler-output"
RULE_OUTPUT_DIR = "rule-output"
SUMMARY_JSON = "summary.json"


def framework_file(rank: int) -> str:
    """The step records of ``rank``."""
    return f"framework-rank{rank}.jsonl"


def trace_file(rank: int) -> str:
    """The chrome trace (``chrome://tracing``, Perfetto) of ``rank``'s traced steps."""
    return f"torch-trace-rank{rank}.json"


def ops_file(rank: int) -> str:
    """The top operators of ``rank``'s traced steps."""
    return f"framework-ops-rank{rank}.json"


def rank_of(name: str, prefix: str) -> int | None:
    """The rank in a file name such as ``framework-rank3.jsonl`` (``prefix`` =
    ``"framework-rank"``), or None when the name does not carry one."""
    if not name.startswith(prefix):
        return None
    digits = name[len(prefix) :].split(".", 1)[0]
    return int(digits) if digits.isdigit() else None
