"""The workspace's metadata store: every store domain over one database.

Jobs (with their logs and metrics) and models are core: :class:`MetadataStore` offers their
methods directly (``ws.store.get_job(...)``). Every other domain belongs to the capability
that uses it and is reached through its interface (defined in that capability's package),
typed precisely::

    TrialStore.of(ws.store).list_trials("my-tuning-job")   # a TrialStore

Every implementation must pass the conformance suites in :mod:`mlyard.testing.stores`
(and each domain's own suite).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping

from mlyard.core.stores.domain import StoreDomain
from mlyard.core.stores.jobs import JobStore
from mlyard.core.stores.models import ModelStore
from mlyard.errors import WorkspaceError


class MetadataStore(JobStore, ModelStore):
    """Where mlyard keeps everything but artifact bytes: the composition of all domains."""

    @abstractmethod
    def domains(self) -> Mapping[str, StoreDomain]:
        """Domain name -> the implementation this store holds."""

    def domain(self, interface: type[StoreDomain]) -> StoreDomain:
        """The one domain implementation that is an instance of ``interface``;
        :class:`~mlyard.errors.WorkspaceError` if none or several are. Prefer
        ``Interface.of(store)``, which is typed as the interface."""
        found = [d for d in self.domains().values() if isinstance(d, interface)]
        if len(found) != 1:
            names = sorted(n for n, d in self.domains().items() if isinstance(d, interface))
            raise WorkspaceError(
                f"the metadata store has {len(found)} implementations of "
                f"{interface.__name__} ({', '.join(names) or 'its package is not registered'})")
        return found[0]

    @abstractmethod
    def schema_versions(self) -> dict[str, int]:
        """Domain name -> the schema version the database is at."""
