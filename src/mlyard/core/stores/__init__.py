"""Metadata stores: small per-domain interfaces composed into one :class:`MetadataStore`.

- :class:`StoreDomain` (``domain.py``): the base of every domain interface; core's own
  domains are :class:`JobStore` (jobs, logs, metrics) and :class:`ModelStore`.
- :class:`SqlDatabase` and :class:`SqlDomain` (``database.py``): the shared engine, the
  transaction helper and the per-domain migration runner.
- :mod:`~mlyard.core.stores.registry`: domain name -> implementation (built-ins and the
  ``mlyard.stores`` entry-point group).
- :class:`SqlAlchemyStore` (``sql.py``): the composite the workspace opens from its URL.
"""

from mlyard.core.stores.base import MetadataStore
from mlyard.core.stores.database import SqlDatabase, SqlDomain
from mlyard.core.stores.domain import StoreDomain
from mlyard.core.stores.jobs import JobStore
from mlyard.core.stores.models import ModelStore
from mlyard.core.stores.registry import available_domains
from mlyard.core.stores.sql import SqlAlchemyStore

__all__ = [
    "JobStore",
    "MetadataStore",
    "ModelStore",
    "SqlAlchemyStore",
    "SqlDatabase",
    "SqlDomain",
    "StoreDomain",
    "available_domains",
]
