"""Built-in algorithms and the registry that finds them by name.

Built-ins are listed in :data:`BUILTINS`; third-party packages add algorithms through the
``mlyard.algorithms`` entry-point group (``name = "package.module:AlgorithmClass"``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from mlyard.algorithms.base import Algorithm, MetricDefinition, TrainingContext
from mlyard.errors import ValidationError

BUILTINS: dict[str, str] = {
    "blazingtext": "mlyard.algorithms.blazingtext:BlazingText",
    "bert": "mlyard.algorithms.bert:Bert",
}


def _import(target: str) -> type[Algorithm]:
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Algorithm)):
        raise ValidationError(f"{target} is not an Algorithm subclass")
    return cls


def available_algorithms() -> dict[str, str]:
    """Name -> import target of every algorithm mlyard can find."""
    found = dict(BUILTINS)
    for ep in entry_points(group="mlyard.algorithms"):
        found.setdefault(ep.name, ep.value)
    return found


def get_algorithm(name: str) -> Algorithm:
    """An instance of the algorithm called ``name`` (case-insensitive)."""
    known = available_algorithms()
    target = known.get(name.lower())
    if target is None:
        raise ValidationError(
            f"unknown algorithm {name!r}; available: {', '.join(sorted(known))}"
        )
    return _import(target)()


__all__ = [
    "BUILTINS",
    "Algorithm",
    "MetricDefinition",
    "TrainingContext",
    "available_algorithms",
    "get_algorithm",
]
