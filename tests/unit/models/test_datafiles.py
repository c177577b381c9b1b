"""The one bad-row policy: refused with file and line, or skipped and counted on request."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.errors import DataError
from mlyard.models.datafiles import BadRows, CsvTable, check_csv, text_lines


def _write(tmp_path: Path, data: bytes, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_good_csv_rows_with_their_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, b'\xef\xbb\xbflabel,text\n\npos,"two\nlines"\nneg,bad\n')
    table = CsvTable(path, BadRows())
    assert table.header == ["label", "text"]
    assert list(table) == [(3, ["pos", "two\nlines"]), (5, ["neg", "bad"])]


@pytest.mark.parametrize(("data", "where", "what"), [
    (b"label,text\npos,ok\nneg\n", ":3: ", "1 field(s), but the header has 2"),
    (b"label,text\npos,ok\nneg,a,b\n", ":3: ", "3 field(s), but the header has 2"),
    (b"label,text\npos,ok\nneg,caf\xe9\n", ":3: ", "not UTF-8 text (byte 0xe9 at column 8)"),
    (b"label,text\npos," + b"x" * 200_000 + b"\n", ":2: ", "malformed CSV: field larger"),
    # an unclosed quote would swallow every later line into one field
    (b'label,text\npos,ok\nneg,"bad fit\npos,love it\n', ":3: ",
     "malformed CSV: unexpected end of data"),
    (b'label,text\npos,"ok"x\n', ":2: ", "malformed CSV: "),
])
def test_a_bad_row_is_refused_with_file_and_line(tmp_path: Path, data: bytes, where: str,
                                                 what: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(DataError) as info:
        check_csv(path, BadRows())
    assert f"{path}{where}{what}" in str(info.value)
    assert "--skip-bad-rows" in str(info.value)


def test_bad_rows_are_skipped_and_counted_on_request(tmp_path: Path) -> None:
    path = _write(tmp_path, b"label,text\npos,ok\nneg\nx,caf\xe9\nneg,a,b\nmid,fine\n")
    policy = BadRows(skip=True)
    assert [row for _, row in CsvTable(path, policy)] == [["pos", "ok"], ["mid", "fine"]]
    assert policy.count == 3
    summary = policy.summary()
    assert summary is not None and summary.startswith("warning: skipped 3 bad row(s): ")
    assert f"{path}:3:" in summary and f"{path}:4:" in summary and f"{path}:5:" in summary
    assert BadRows(skip=True).summary() is None


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused_even_when_skipping(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, data)
    for skip in (False, True):
        with pytest.raises(DataError, match=r"the file is empty \(no header row\)"):
            CsvTable(path, BadRows(skip=skip))


def test_text_lines_skip_undecodable_lines_when_asked(tmp_path: Path) -> None:
    path = _write(tmp_path, b"one\n\xff\xfe\nthree", "t.txt")
    with pytest.raises(DataError, match=r"t.txt:2: not UTF-8 text"):
        list(text_lines(path, BadRows()))
    policy = BadRows(skip=True)
    assert list(text_lines(path, policy)) == [(1, "one\n"), (3, "three")]
    assert policy.count == 1


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        list(text_lines(tmp_path / "nope.csv", BadRows()))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.lists(
    st.sampled_from([b"a,b", b"1,2", b"1", b"1,2,3", b'"x', b"\xff", b"\x00", b"", b'"a,b"',
                     b"\r", b"\xef\xbb\xbf", b"caf\xc3\xa9,2"]), max_size=12).map(b"\n".join),
       skip=st.booleans())
def test_arbitrary_bytes_raise_nothing_but_data_error(tmp_path: Path, data: bytes,
                                                      skip: bool) -> None:
    path = _write(tmp_path, data)
    policy = BadRows(skip=skip)
    try:
        table = CsvTable(path, policy)
        rows = list(table)
    except DataError:
        return
    assert all(len(row) == len(table.header) for _, row in rows)
    if not skip:
        assert policy.count == 0
