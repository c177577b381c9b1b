"""Executors start job processes: every job is one command, ``mlyard job run <name>``.

``local`` (default) starts it as a detached local process; ``ray`` runs the same command as
a Ray task on a local or remote Ray cluster (extra ``ray``). Executors are found like job
kinds and algorithms: :data:`BUILTIN_EXECUTORS` plus the ``mlyard.executors`` entry-point
group (``name = "package.module:ExecutorClass"``); ``MLYARD_EXECUTOR`` names the one a
workspace uses.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from mlyard.config import Settings
from mlyard.core.executors.base import Executor, job_command
from mlyard.core.executors.local import LocalProcessExecutor
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import ValidationError

#: Entry-point group through which installed packages add executors.
ENTRY_POINT_GROUP = "mlyard.executors"

#: The executors that ship with mlyard: name -> ``"module:Class"``.
BUILTIN_EXECUTORS: dict[str, str] = {
    "local": "mlyard.core.executors.local:LocalProcessExecutor",
    "ray": "mlyard.core.executors.ray_executor:RayExecutor",
}


def available_executors() -> dict[str, str]:
    """Name -> ``"module:Class"`` of every executor mlyard can find."""
    found = dict(BUILTIN_EXECUTORS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def make_executor(settings: Settings, store: MetadataStore) -> Executor:
    """The executor ``settings.executor`` names."""
    if settings.executor == "local":  # the default: no entry-point scan at start-up
        return LocalProcessExecutor(settings, store)
    known = available_executors()
    target = known.get(settings.executor)
    if target is None:
        raise ValidationError(
            f"unknown executor {settings.executor!r}; choose one of {', '.join(sorted(known))}"
        )
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise ValidationError(f"{target} is not an Executor subclass")
    executor: Executor = cls(settings, store)
    return executor

__all__ = ["BUILTIN_EXECUTORS", "Executor", "LocalProcessExecutor",
           "available_executors", "job_command", "make_executor"]
