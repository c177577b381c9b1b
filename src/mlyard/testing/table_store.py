"""Conformance suite of the catalog's store domain (:class:`mlyard.data.store.TableStore`)."""

from __future__ import annotations

import time
from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.data.store import TableRecord, TableStore
from mlyard.errors import ConflictError, NotFoundError
from mlyard.testing.stores import StoreSuite, run_together


class TableStoreConformance(StoreSuite):
    """Catalog table registrations."""

    @pytest.fixture
    def tables(self, store: MetadataStore) -> TableStore:
        return TableStore.of(store)

    def test_tables(self, tables: TableStore) -> None:
        rec = TableRecord("db", "t", "/data/t.csv", "csv", time.time(), {"delim": ","})
        tables.put_table(rec)
        with pytest.raises(ConflictError):
            tables.put_table(rec)
        tables.put_table(TableRecord("db", "t", "/data/t2.csv", "csv", time.time()), replace=True)
        assert tables.get_table("db", "t").location == "/data/t2.csv"
        tables.put_table(TableRecord("a", "z", "/z", "parquet", time.time()))
        assert [t.qualified_name for t in tables.list_tables()] == ["a.z", "db.t"]
        assert [t.qualified_name for t in tables.list_tables("db")] == ["db.t"]
        tables.delete_table("db", "t")
        with pytest.raises(NotFoundError):
            tables.get_table("db", "t")
        with pytest.raises(NotFoundError):
            tables.delete_table("db", "t")

    def test_record_round_trip(self, tables: TableStore) -> None:
        rec = TableRecord("sales", "orders", "/data/orders", "jsonl", 1_700_000_000.25,
                          {"header": True, "nested": {"k": [1, 2]}}, "Bestellungen – 2024")
        assert tables.put_table(rec) == rec
        assert tables.get_table("sales", "orders") == rec
        replaced = TableRecord("sales", "orders", "/data/v2", "parquet", 1_700_000_001.5)
        assert tables.put_table(replaced, replace=True) == replaced

    def test_replace_creates_and_races(self, tables: TableStore) -> None:
        results = run_together([
            partial(tables.put_table, TableRecord("db", "hot", f"/v{i}", "csv", float(i)),
                    replace=True)
            for i in range(6)])
        assert all(isinstance(r, TableRecord) for r in results), results
        assert tables.get_table("db", "hot").location in {f"/v{i}" for i in range(6)}
        results = run_together([
            partial(tables.put_table, TableRecord("db", "once", f"/v{i}", "csv", 0.0))
            for i in range(6)])
        assert sum(isinstance(r, TableRecord) for r in results) == 1
        assert sum(isinstance(r, ConflictError) for r in results) == 5
