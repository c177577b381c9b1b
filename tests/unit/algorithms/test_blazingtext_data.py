"""BlazingText (and bert, which reads channels the same way) under the one bad-row policy:
bad rows refused with file and line, or skipped and counted when the job asks; a
validation label unseen in training is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.algorithms.blazingtext import BlazingText
from mlyard.algorithms.blazingtext.data import read_channel
from mlyard.errors import DataError
from mlyard.models.datafiles import BadRows
from tests.unit.algorithms.test_blazingtext import FAST, make_ctx, make_examples, write_csv


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("utf8.csv", b"label,text\npos,good\nneg,caf\xe9 bad\n", r"utf8\.csv:3: not UTF-8 text"),
        ("utf8.txt", b"__label__pos good\n__label__neg \xff\xfe bad\n", r"utf8\.txt:2: not UTF-8"),
        (
            "ragged.csv",
            b"label,text\npos,good\nneg\n",
            r"ragged\.csv:3: 1 field\(s\), but the "
            r"header has 2",
        ),
        ("wide.csv", b"label,text\npos,good, very good\n", r"wide\.csv:2: 3 field\(s\)"),
    ],
)
def test_bad_rows_are_refused_with_file_and_line(
    tmp_path: Path, name: str, data: bytes, match: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=match):
        read_channel(path)


def test_bad_rows_are_skipped_and_counted_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"label,text\npos,good\nneg\nneg,caf\xe9\nx,a,b\n,empty label\nneg,bad\n")
    policy = BadRows(skip=True)
    raw = read_channel(path, bad_rows=policy)
    assert raw.labels == ["pos", "neg"] and raw.texts == ["good", "bad"]
    assert policy.count == 4
    summary = policy.summary()
    assert summary is not None and "skipped 4 bad row(s)" in summary


def test_an_empty_file_is_refused_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.csv: empty file"):
        read_channel(path, bad_rows=BadRows(skip=True))


def test_training_logs_the_skipped_rows(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", make_examples(60, 1))
    with open(train, "ab") as fh:
        fh.write(b"pos\nneg,caf\xe9 \xff\n")
    ctx = make_ctx(tmp_path, train)
    lines: list[str] = []
    ctx.log = lines.append
    with pytest.raises(DataError, match=r"train\.csv:62: 1 field"):
        BlazingText().train(ctx, BlazingText().resolve_hyperparameters(FAST))
    ctx.skip_bad_rows = True
    BlazingText().train(ctx, BlazingText().resolve_hyperparameters(FAST))
    assert any("warning: skipped 2 bad row(s)" in line for line in lines), lines


def test_a_validation_label_unseen_in_training_is_named(tmp_path: Path) -> None:
    train = write_csv(tmp_path / "train.csv", make_examples(60, 1))
    val = write_csv(tmp_path / "val.csv", [*make_examples(6, 2), ("foo", "some words")])
    with pytest.raises(
        DataError, match=r"validation label 'foo' does not occur in the training data"
    ):
        BlazingText().train(
            make_ctx(tmp_path, train, val), BlazingText().resolve_hyperparameters(FAST)
        )


ROW_PARTS = [b"label,text", b"__label__a x", b"pos,ok", b"1", b"a,b,c", b"\xff", b'"q', b"",
             b"\r", b",", b"__label__", b"caf\xc3\xa9"]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.lists(st.sampled_from(ROW_PARTS), max_size=10).map(
    b"\n".join), suffix=st.sampled_from([".csv", ".txt"]), skip=st.booleans())
def test_arbitrary_bytes_raise_nothing_but_data_error(tmp_path: Path, data: bytes, suffix: str,
                                                      skip: bool) -> None:
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    try:
        raw = read_channel(path, bad_rows=BadRows(skip=skip))
    except DataError:
        return
    assert len(raw.labels) == len(raw.texts) > 0
    assert all(label for label in raw.labels)
