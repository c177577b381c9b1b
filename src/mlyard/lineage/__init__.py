"""Lineage: what every job, model, endpoint, registry version and pipeline execution came
from and led to, as SageMaker ML Lineage Tracking models it (artifacts, actions, contexts
and trial components linked by typed associations).

The graph is derived from the other stores by :func:`mlyard.lineage.collect.sync` (run
before each query), and users add their own entities with :func:`add_artifact` and
:func:`add_association`. :func:`mlyard.lineage.query.lineage` walks it upstream or
downstream; :mod:`mlyard.lineage.html` draws it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["add_artifact", "add_association", "lineage"]


def __getattr__(name: str) -> Any:
    """Load the user functions on first use (the store domain imports this package)."""
    if name in ("add_artifact", "add_association"):
        from mlyard.lineage import user

        return getattr(user, name)
    if name == "lineage":
        from mlyard.lineage.query import lineage

        return lineage
    raise AttributeError(f"module 'mlyard.lineage' has no attribute {name!r}")
