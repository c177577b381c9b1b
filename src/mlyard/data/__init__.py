"""Data: the catalog of tables with SQL over them (the Glue + Athena role), and the
reviews dataset's course transform and splits."""

from mlyard.data.catalog import Catalog, QueryResult

__all__ = ["Catalog", "QueryResult"]
