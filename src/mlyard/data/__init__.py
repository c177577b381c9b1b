"""Data: the catalog of tables with SQL over them (the Glue + Athena role), and the
reviews dataset's course transform and splits.

``Catalog`` and ``QueryResult`` are loaded on first use (PEP 562), so that importing a
light submodule such as :mod:`mlyard.data.tokenize_reviews` does not load DuckDB and the workspace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlyard.data.catalog import Catalog, QueryResult

__all__ = ["Catalog", "QueryResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mlyard.data import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
