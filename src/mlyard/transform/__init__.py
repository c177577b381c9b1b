"""Batch transform: a job kind that runs a registered model over a file or folder
(:mod:`mlyard.transform.engine`: records, mini-batches, parallel parts, resumable).

Names are imported lazily so that importing the spec does not load the engine's workers.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "TransformOptions": "mlyard.transform.engine",
    "TransformResult": "mlyard.transform.engine",
    "run_transform": "mlyard.transform.engine",
    "TransformJobSpec": "mlyard.transform.spec",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlyard.transform' has no attribute {name!r}")


__all__ = ["TransformJobSpec", "TransformOptions", "TransformResult", "run_transform"]
