"""Serving models: batch transform (:mod:`mlyard.serving.transform`) and real-time endpoints
(:mod:`mlyard.serving.manager`, replica processes in :mod:`mlyard.serving.pool`).

Names are imported lazily so that a replica process, which imports this package, does not
pay for the batch-transform modules at start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TransformOptions": "mlyard.serving.transform",
    "TransformResult": "mlyard.serving.transform",
    "run_transform": "mlyard.serving.transform",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlyard.serving' has no attribute {name!r}")


__all__ = ["TransformOptions", "TransformResult", "run_transform"]
