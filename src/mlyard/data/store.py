"""The catalog's store domain: table registrations (``database.name`` -> files + format).

Reach it with ``TableStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.data.store_sql.SqlTableStore` (registered as store domain ``catalog``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.stores.domain import StoreDomain


@dataclass(frozen=True)
class TableRecord:
    """A catalog table: files at ``location`` in a ``format`` (csv, parquet, jsonl)."""

    database: str
    name: str
    location: str
    format: str
    created_at: float
    options: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def qualified_name(self) -> str:
        """``database.name``."""
        return f"{self.database}.{self.name}"


class TableStore(StoreDomain):
    """Catalog tables (the Glue Data Catalog role)."""

    @abstractmethod
    def put_table(self, table: TableRecord, replace: bool = False) -> TableRecord:
        """Register a table; ConflictError if it exists and ``replace`` is false."""

    @abstractmethod
    def get_table(self, database: str, name: str) -> TableRecord:
        """One table; NotFoundError if none."""

    @abstractmethod
    def list_tables(self, database: str | None = None) -> list[TableRecord]:
        """Tables sorted by database and name."""

    @abstractmethod
    def delete_table(self, database: str, name: str) -> None:
        """Remove a table's registration (its files stay)."""
