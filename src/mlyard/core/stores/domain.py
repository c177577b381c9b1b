"""The base class of every metadata-store domain interface.

The metadata store is split by domain (jobs, models, catalog tables, endpoints, tuning
trials, rule statuses, ...). Each domain is a small abstract interface that subclasses
:class:`StoreDomain`; implementations are found through :mod:`mlyard.core.stores.registry`
and composed into the workspace's :class:`~mlyard.core.stores.base.MetadataStore`.
A capability reaches its domain with a precise type through the interface itself::

    trials = TrialStore.of(ws.store)      # typed as TrialStore
"""

from __future__ import annotations

from abc import ABC
from typing import Protocol, Self

from mlyard.errors import WorkspaceError


class DomainHolder(Protocol):
    """What holds store domains: the composite
    :class:`~mlyard.core.stores.base.MetadataStore`."""

    def domain(self, interface: type[StoreDomain]) -> StoreDomain:
        """The one domain implementation that is an instance of ``interface``."""
        ...


class StoreDomain(ABC):  # noqa: B024 - a marker base; domain interfaces add abstract methods
    """One domain of the metadata store (a group of tables and the methods over them)."""

    @classmethod
    def of(cls, store: DomainHolder) -> Self:
        """The implementation of this interface that ``store`` holds.

        Raises :class:`~mlyard.errors.WorkspaceError` if the store has none (the domain's
        package is not installed or not registered)."""
        found = store.domain(cls)
        if not isinstance(found, cls):  # pragma: no cover - domain() checks the type
            raise WorkspaceError(f"{type(found).__name__} does not implement {cls.__name__}")
        return found

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what this domain holds on its own (the shared database is closed by the
        composite store)."""
