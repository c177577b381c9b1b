"""Reading an analysis' input into a DataFrame, and writing one back.

An input is a DataFrame, a CSV/TSV, Parquet or JSON Lines file (or a folder of them, read
as one table), or a catalog table written ``table:NAME`` (``table:db.NAME``). Errors name
the input: a missing file, an empty file, an unknown format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mlyard.errors import DataError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from mlyard.core.workspace import Workspace

TABLE_PREFIX = "table:"
_READERS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".parquet": "parquet",
            ".pq": "parquet", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


def file_format(path: Path) -> str:
    """``csv``, ``tsv``, ``parquet`` or ``jsonl`` from a file's suffix."""
    fmt = _READERS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(f"cannot tell the format of {path}: use a .csv, .tsv, .parquet "
                              "or .jsonl file")
    return fmt


def _read_file(path: Path) -> pd.DataFrame:
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty")
    try:
        if fmt == "csv":
            return pd.read_csv(path)
        if fmt == "tsv":
            return pd.read_csv(path, sep="\t")
        if fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_json(path, lines=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    except (ValueError, pd.errors.ParserError, OSError) as exc:
        raise DataError(f"cannot read {path} as {fmt}: {exc}") from None


def read_table(ws: Workspace, name: str) -> pd.DataFrame:
    """A catalog table's rows (``name`` or ``database.name``)."""
    from mlyard.data.catalog import Catalog

    catalog = Catalog(ws)
    record = catalog.table(name)
    con = catalog.connect(record.database)
    try:
        return con.sql(f'SELECT * FROM "{record.database}"."{record.name}"').df()
    finally:
        con.close()


def read_frame(source: str | Path | pd.DataFrame, *, ws: Workspace | None = None,
               what: str = "data") -> pd.DataFrame:
    """``source`` as a DataFrame (see the module doc); refuses an empty table."""
    if isinstance(source, pd.DataFrame):
        frame = source
    elif isinstance(source, str) and source.startswith(TABLE_PREFIX):
        if ws is None:
            raise ValidationError(f"{what}: a catalog table needs a workspace")
        frame = read_table(ws, source[len(TABLE_PREFIX):])
    else:
        path = Path(source).expanduser()
        if not path.exists():
            raise NotFoundError(f"{what}: {path} does not exist")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in _READERS)
            if not files:
                raise DataError(f"{what}: folder {path} holds no .csv, .parquet or .jsonl file")
            frame = pd.concat([_read_file(p) for p in files], ignore_index=True)
        else:
            frame = _read_file(path)
    if frame.empty or len(frame.columns) == 0:
        raise DataError(f"{what} has no rows" if len(frame.columns) else f"{what} is empty")
    return frame


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` to ``path`` in the format of its suffix (CSV without the index)."""
    fmt = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "tsv"):
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


def check_columns(frame: pd.DataFrame, columns: list[str] | tuple[str, ...], what: str) -> None:
    """A ValidationError naming each of ``columns`` that ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(f"{what}: column(s) {missing} not in the data; it has "
                              f"{[str(c) for c in frame.columns]}")
