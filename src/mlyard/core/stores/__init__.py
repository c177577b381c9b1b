"""Metadata stores: one interface (:class:`MetadataStore`), SQLAlchemy implementation."""

from mlyard.core.stores.base import MetadataStore
from mlyard.core.stores.sql import SCHEMA_VERSION, SqlAlchemyStore

__all__ = ["SCHEMA_VERSION", "MetadataStore", "SqlAlchemyStore"]
