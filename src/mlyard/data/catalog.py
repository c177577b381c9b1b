"""A catalog of tables over files, queried with DuckDB SQL.

Tables are CSV, Parquet or JSON Lines files (or folders of them) registered by name in a
database (``default`` unless named). A query sees every registered table as a view:
``SELECT * FROM reviews`` (current database) or ``SELECT * FROM mydb.reviews``. Results come
back as pandas DataFrames and may be saved as query outputs (CSV + Parquet) in the artifact
store, each with an id, like Athena query executions.

CSV files are checked row by row when they are registered, under the one bad-row policy
(:mod:`mlyard.models.datafiles`): an empty file is refused, and so is a row that is not
UTF-8 or has another number of fields than the header (naming the file and line), unless
the caller opts in to skipping such rows; then the count is reported and the table is
registered over a clean copy holding only the good rows (``<home>/catalog/<db>.<name>/``),
so every query sees exactly those rows (DuckDB's own ``ignore_errors`` skips a bad row only
when a query reads the column that is bad in it). Without the check DuckDB's sniffer
turned a ragged file into one odd column and an empty one into ``column0``.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mlyard.core.workspace import Workspace
from mlyard.data.store import TableRecord, TableStore
from mlyard.errors import ConflictError, DataError, NotFoundError, SQLQueryError, ValidationError
from mlyard.models.datafiles import BadRows, CsvTable

FORMATS = ("csv", "parquet", "jsonl")
_SUFFIX_FORMAT = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
                  ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def _check_ident(kind: str, value: str) -> str:
    if not _IDENT.match(value):
        raise ValidationError(
            f"invalid {kind} name {value!r}: use letters, digits and underscores, "
            "not starting with a digit"
        )
    return value


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def infer_format(path: Path) -> str:
    """The table format for a file or folder, from file suffixes."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                  and not p.name.startswith("."))
    if not files:
        raise DataError(f"{path} holds no files")
    kinds = {_SUFFIX_FORMAT.get(p.suffix.lower()) for p in files}
    if len(kinds) != 1 or None in kinds:
        raise DataError(
            f"cannot infer one format for {path} from suffixes "
            f"{sorted({p.suffix for p in files})}; pass format= (csv, parquet, jsonl)"
        )
    return str(kinds.pop())


#: Delimiters DuckDB's sniffer may pick for a CSV file, told apart by the header line.
_DELIMITERS = (",", "\t", ";", "|")


def _csv_files(path: Path) -> list[Path]:
    """The files a CSV table at ``path`` reads (as :func:`_reader_sql`'s pattern does)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*.csv") if p.is_file())


def _delimiter(path: Path) -> str:
    """The delimiter of a CSV file: the candidate its first non-blank line holds most of."""
    try:
        with open(path, "rb") as fh:
            first = next((line for line in fh if line.strip()), b"")
    except OSError:
        return ","
    counts = {d: first.count(d.encode()) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def check_csv_rows(path: Path, bad_rows: BadRows) -> int:
    """Check every row of the CSV file or folder ``path`` under ``bad_rows``; the number
    of good data rows (:class:`DataError` for an empty file or a refused bad row)."""
    files = _csv_files(path)
    if not files:
        raise DataError(f"{path} holds no .csv files")
    return sum(sum(1 for _ in CsvTable(file, bad_rows, delimiter=_delimiter(file)))
               for file in files)


def write_clean_copy(path: Path, dest: Path) -> Path:
    """Copy the good rows of the CSV file or folder ``path`` into ``dest`` (the same
    relative names; bad rows left out, as :func:`check_csv_rows` with a skipping policy
    counts them); returns what to register: the file, or the folder."""
    import csv
    import shutil

    shutil.rmtree(dest, ignore_errors=True)
    files = _csv_files(path)
    for file in files:
        target = dest / (file.relative_to(path) if path.is_dir() else file.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        delimiter = _delimiter(file)
        table = CsvTable(file, BadRows(skip=True), delimiter=delimiter)
        with open(target, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter)
            writer.writerow(table.header)
            writer.writerows(row for _, row in table)
    return dest if path.is_dir() else dest / path.name


def _reader_sql(table: TableRecord) -> str:
    path = Path(table.location)
    pattern = str(path / "**" / "*") if path.is_dir() else str(path)
    if path.is_dir():
        suffix = {"csv": "*.csv", "parquet": "*.parquet", "jsonl": "*.json*"}[table.format]
        pattern = str(path / "**" / suffix)
    opts = "".join(f", {k}={_literal(v)}" for k, v in sorted(table.options.items()))
    if table.format == "csv":
        return f"read_csv_auto({_quote(pattern)}, header=true{opts})"
    if table.format == "parquet":
        return f"read_parquet({_quote(pattern)}{opts})"
    return f"read_json_auto({_quote(pattern)}, format='newline_delimited'{opts})"


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return _quote(str(value))


@dataclass(frozen=True)
class QueryResult:
    """A query's rows, and where they were saved when saved."""

    query_id: str
    sql: str
    frame: pd.DataFrame
    seconds: float
    output_uri: str | None = None


class Catalog:
    """Register tables and run SQL over them."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def register_table(self, name: str, location: str | Path, *, database: str = "default",
                       format: str | None = None, options: dict[str, Any] | None = None,
                       description: str = "", replace: bool = False,
                       bad_rows: BadRows | None = None) -> TableRecord:
        """Register files at ``location`` as ``database.name``; checks DuckDB can read them.

        CSV rows are checked under ``bad_rows`` (default: refuse bad rows; see the module
        doc); with a skipping policy its count says how many rows the table leaves out."""
        _check_ident("table", name)
        _check_ident("database", database)
        path = Path(location).expanduser().resolve()
        if not path.exists():
            raise NotFoundError(f"cannot register {database}.{name}: {location} does not exist")
        fmt = (format or infer_format(path)).lower()
        if fmt not in FORMATS:
            raise ValidationError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")
        location_path = path
        if fmt == "csv":
            policy = bad_rows if bad_rows is not None else BadRows()
            check_csv_rows(path, policy)
            if policy.count:
                if not replace:
                    try:  # the copy must not overwrite the copy of the table registered
                        self.table(name, database)
                        raise ConflictError(f"table {database}.{name} already exists")
                    except NotFoundError:
                        pass
                location_path = write_clean_copy(
                    path, self.ws.settings.home / "catalog" / f"{database}.{name}")
                description = description or (
                    f"the good rows of {path} ({policy.count} bad row(s) left out)")
        record = TableRecord(database=database, name=name, location=str(location_path),
                             format=fmt, created_at=time.time(), options=dict(options or {}),
                             description=description)
        try:
            duckdb.connect().sql(f"DESCRIBE SELECT * FROM {_reader_sql(record)}").fetchall()
        except duckdb.Error as exc:
            raise DataError(f"cannot read {location} as {fmt}: {exc}") from None
        return TableStore.of(self.ws.store).put_table(record, replace=replace)

    def tables(self, database: str | None = None) -> list[TableRecord]:
        """Registered tables."""
        return TableStore.of(self.ws.store).list_tables(database)

    def table(self, name: str, database: str = "default") -> TableRecord:
        """One registered table (``name`` may be ``database.name``)."""
        if "." in name:
            database, name = name.split(".", 1)
        return TableStore.of(self.ws.store).get_table(database, name)

    def drop_table(self, name: str, database: str = "default") -> None:
        """Unregister a table; its files stay."""
        if "." in name:
            database, name = name.split(".", 1)
        TableStore.of(self.ws.store).delete_table(database, name)

    def connect(self, database: str = "default") -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with every table as a view, ``database`` current."""
        con = duckdb.connect()
        tables = self.tables()
        for db in sorted({t.database for t in tables} | {database}):
            if db != "main":
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
        for table in tables:
            con.execute(
                f'CREATE VIEW "{table.database}"."{table.name}" AS '
                f"SELECT * FROM {_reader_sql(table)}"
            )
        con.execute(f'SET schema = {_quote(database)}')
        return con

    def sql(self, query: str, *, database: str = "default", save: bool = False) -> QueryResult:
        """Run ``query``; with ``save`` the result is stored under ``queries/<id>/``."""
        if not query.strip():
            raise SQLQueryError("empty SQL query")
        query_id = uuid.uuid4().hex[:12]
        start = time.perf_counter()
        con = self.connect(database)
        try:
            relation = con.sql(query)
            frame = relation.df() if relation is not None else pd.DataFrame()
        except duckdb.Error as exc:
            raise SQLQueryError(f"SQL error: {exc}") from None
        finally:
            con.close()
        seconds = time.perf_counter() - start
        output_uri = None
        if save:
            output_uri = self.save_frame(frame, "queries", query_id)
            self.ws.artifacts.write_bytes(
                self.ws.artifacts.uri("queries", query_id, "query.sql"), query.encode())
        return QueryResult(query_id, query, frame, seconds, output_uri)

    def save_frame(self, frame: pd.DataFrame, *parts: str) -> str:
        """Write ``frame`` as ``result.csv`` and ``result.parquet`` under ``parts``; returns
        the folder URI."""
        folder = self.ws.artifacts.uri(*parts)
        local = self.ws.artifacts.local_path(folder)
        staging = (local.parent if local else self.ws.cache_dir) / f".{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        frame.to_csv(staging / "result.csv", index=False)
        frame.to_parquet(staging / "result.parquet", index=False)
        self.ws.artifacts.upload(staging, folder)
        for path in sorted(staging.iterdir()):
            path.unlink()
        staging.rmdir()
        return folder

    def create_table_as(self, name: str, query: str, *, database: str = "default",
                        replace: bool = False) -> TableRecord:
        """``CREATE TABLE name AS query``: the result saved as Parquet and registered."""
        _check_ident("table", name)
        if not replace and any(t.name == name for t in self.tables(database)):
            raise ConflictError(f"table {database}.{name} already exists")
        result = self.sql(query, database=database)
        folder = self.save_frame(result.frame, "tables", database, name)
        local = self.ws.artifacts.local_path(folder)
        if local is None:
            raise ValidationError("create_table_as needs a local artifact root")
        return self.register_table(name, local / "result.parquet", database=database,
                                   format="parquet", replace=replace,
                                   description=f"created from: {query}")
