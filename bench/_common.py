"""Helpers shared by the benches (run as ``python bench/<name>.py``, so this folder is on
``sys.path``)."""

from __future__ import annotations

import contextlib
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """CPU count and model of this machine, for the JSON line every bench prints."""
    model = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {"cpu_count": os.cpu_count(), "usable_cpus": usable, "processor": model,
            "platform": platform.platform(), "python": platform.python_version()}


def reviews_data_present(path: Path) -> bool:
    """True if the reviews CSV exists; otherwise says on stderr where to get it."""
    if path.is_file():
        return True
    import sys

    from mlyard.datasets.reviews import DATASET_HELP

    print(f"data file {path} not found. {DATASET_HELP}", file=sys.stderr)
    return False
