"""Executors start job processes: every job is one command, ``mlyard job run <name>``.

``local`` (default) starts it as a detached local process; ``ray`` runs the same command as
a Ray task on a local or remote Ray cluster (extra ``ray``).
"""

from __future__ import annotations

from mlyard.config import Settings
from mlyard.core.executors.base import Executor, job_command
from mlyard.core.executors.local import LocalProcessExecutor
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import ValidationError

EXECUTORS = ("local", "ray")


def make_executor(settings: Settings, store: MetadataStore) -> Executor:
    """The executor ``settings.executor`` names."""
    if settings.executor == "local":
        return LocalProcessExecutor(settings, store)
    if settings.executor == "ray":
        from mlyard.core.executors.ray_executor import RayExecutor

        return RayExecutor(settings, store)
    raise ValidationError(
        f"unknown executor {settings.executor!r}; choose one of {', '.join(EXECUTORS)}"
    )


__all__ = ["EXECUTORS", "Executor", "LocalProcessExecutor", "job_command", "make_executor"]
