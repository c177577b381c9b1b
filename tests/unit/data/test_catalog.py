"""The catalog: registering CSV/Parquet/JSON Lines tables and querying them with SQL."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlyard.core.workspace import Workspace
from mlyard.data.catalog import Catalog
from mlyard.errors import ConflictError, DataError, NotFoundError, SQLQueryError, ValidationError
from mlyard.models.datafiles import BadRows


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    frame = pd.DataFrame({"sentiment": [1, 1, 0, -1], "review_body": ["a", "b", "c", "d"]})
    csv = tmp_path / "r.csv"
    frame.to_csv(csv, index=False)
    pq = tmp_path / "r.parquet"
    frame.to_parquet(pq)
    jl = tmp_path / "r.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")) + "\n")
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:2].to_csv(folder / "a.csv", index=False)
    frame.iloc[2:].to_csv(folder / "b.csv", index=False)
    return {"csv": csv, "parquet": pq, "jsonl": jl, "folder": folder}


def test_formats_and_sql(ws: Workspace, files: dict[str, Path]) -> None:
    cat = Catalog(ws)
    cat.register_table("r_csv", files["csv"])
    cat.register_table("r_pq", files["parquet"])
    cat.register_table("r_jl", files["jsonl"], database="other")
    cat.register_table("r_dir", files["folder"])
    assert cat.table("other.r_jl").format == "jsonl"
    for query in ("SELECT COUNT(*) AS n FROM r_csv", "SELECT COUNT(*) AS n FROM r_pq",
                  "SELECT COUNT(*) AS n FROM other.r_jl", "SELECT COUNT(*) AS n FROM r_dir"):
        assert int(cat.sql(query).frame["n"][0]) == 4, query
    counts = cat.sql("SELECT sentiment, COUNT(*) AS n FROM r_csv GROUP BY 1 ORDER BY 1").frame
    assert counts.to_dict("list") == {"sentiment": [-1, 0, 1], "n": [1, 1, 2]}
    assert int(cat.sql("SELECT COUNT(*) AS n FROM r_jl", database="other").frame["n"][0]) == 4


def test_saved_query_and_ctas(ws: Workspace, files: dict[str, Path]) -> None:
    cat = Catalog(ws)
    cat.register_table("r", files["csv"])
    res = cat.sql("SELECT * FROM r WHERE sentiment = 1", save=True)
    assert res.output_uri is not None
    local = ws.artifacts.local_path(res.output_uri)
    assert local is not None
    assert len(pd.read_parquet(local / "result.parquet")) == 2
    assert (local / "query.sql").read_text().startswith("SELECT")
    cat.create_table_as("pos", "SELECT * FROM r WHERE sentiment = 1")
    assert int(cat.sql("SELECT COUNT(*) AS n FROM pos").frame["n"][0]) == 2
    with pytest.raises(ConflictError, match=r"table default\.pos already exists"):
        cat.create_table_as("pos", "SELECT * FROM r")
    assert int(cat.sql("SELECT COUNT(*) AS n FROM pos").frame["n"][0]) == 2


def test_errors(ws: Workspace, files: dict[str, Path], tmp_path: Path) -> None:
    cat = Catalog(ws)
    with pytest.raises(NotFoundError, match="does not exist"):
        cat.register_table("x", tmp_path / "missing.csv")
    with pytest.raises(ValidationError, match="invalid table name"):
        cat.register_table("bad-name", files["csv"])
    odd = tmp_path / "x.weird"
    odd.write_text("a")
    with pytest.raises(DataError, match="cannot infer"):
        cat.register_table("x", odd)
    broken = tmp_path / "broken.parquet"
    broken.write_text("not parquet")
    with pytest.raises(DataError, match="cannot read"):
        cat.register_table("x", broken)
    cat.register_table("r", files["csv"])
    with pytest.raises(ConflictError, match=r"table default\.r already exists"):
        cat.register_table("r", files["parquet"])
    assert cat.table("r").format == "csv"
    with pytest.raises(SQLQueryError, match="SQL error"):
        cat.sql("SELEC nonsense")
    with pytest.raises(SQLQueryError, match="SQL error"):
        cat.sql("SELECT * FROM no_such_table")
    with pytest.raises(SQLQueryError, match="empty"):
        cat.sql("  ")
    cat.drop_table("r")
    with pytest.raises(NotFoundError, match=r"no table default\.r"):
        cat.drop_table("r")


# --- bad rows: the one policy of mlyard.models.datafiles ------------------------------------


def test_an_empty_csv_is_refused(ws: Workspace, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        Catalog(ws).register_table("e", empty)
    with pytest.raises(NotFoundError):
        Catalog(ws).table("e")  # nothing registered


@pytest.mark.parametrize(("data", "match"), [
    (b"a,b\n1,2\n3\n4,5\n", r"ragged\.csv:3: 1 field\(s\), but the header has 2"),
    (b"a,b\n1,2\n4,5,6\n", r"ragged\.csv:3: 3 field\(s\), but the header has 2"),
    (b"a,b\n1,2\n7,caf\xe9\n", r"ragged\.csv:3: not UTF-8 text"),
])
def test_a_bad_csv_row_is_refused_with_file_and_line(ws: Workspace, tmp_path: Path,
                                                     data: bytes, match: str) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(data)
    with pytest.raises(DataError, match=match):
        Catalog(ws).register_table("r", path)
    assert Catalog(ws).tables() == []


def test_bad_csv_rows_are_skipped_and_counted_on_request(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"a,b\n1,2\n3\n4,5,6\n7,caf\xe9\n8,9\n")
    policy = BadRows(skip=True)
    cat = Catalog(ws)
    rec = cat.register_table("r", path, bad_rows=policy)
    assert policy.count == 3
    frame = cat.sql("SELECT * FROM r ORDER BY a").frame
    assert list(frame.columns) == ["a", "b"]
    assert frame.values.tolist() == [[1, 2], [8, 9]]
    # every query sees the same rows, whatever columns it reads
    assert cat.sql("SELECT COUNT(*) AS n FROM r").frame["n"][0] == 2
    assert len(cat.sql("SELECT a FROM r").frame) == 2
    assert "3 bad row(s) left out" in rec.description and str(path) in rec.description
    assert path.read_bytes().startswith(b"a,b\n1,2\n3\n")  # the user's file is untouched
    with pytest.raises(ConflictError):
        cat.register_table("r", path, bad_rows=BadRows(skip=True))


def test_tab_and_semicolon_files_are_checked_by_their_delimiter(ws: Workspace,
                                                                tmp_path: Path) -> None:
    tsv = tmp_path / "t.tsv"
    tsv.write_text("a\tb\n1\tx, y\n")
    semi = tmp_path / "s.csv"
    semi.write_text("a;b\n1;x, y\n2\n")
    Catalog(ws).register_table("t", tsv)
    with pytest.raises(DataError, match=r"s\.csv:3: 1 field"):
        Catalog(ws).register_table("s", semi)
