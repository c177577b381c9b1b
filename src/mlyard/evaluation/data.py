"""Read labelled text data for evaluation: CSV with a header, or fastText lines."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mlyard.errors import DataError

DEFAULT_LABEL_COLUMN = "label"
DEFAULT_TEXT_COLUMN = "text"
FASTTEXT_PREFIX = "__label__"


def _data_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such file or folder")
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise DataError(f"{path}: the folder holds no data files")
    return files


def _open(path: Path) -> TextIO:
    return path.open("r", encoding="utf-8-sig", newline="")


def _first_line(path: Path) -> str | None:
    """The first non-blank line of ``path`` (stripped), ``None`` when there is none."""
    try:
        with _open(path) as fh:
            for line in fh:
                if line.strip():
                    return line.strip()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return None


def _split(line: str) -> tuple[str, str]:
    """``(first token, rest)`` of a line, split at the first whitespace run."""
    parts = line.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _read_fasttext(path: Path) -> Iterator[tuple[str, str]]:
    with _open(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            head, rest = _split(line)
            if not head.startswith(FASTTEXT_PREFIX):
                raise DataError(
                    f"{path}, line {lineno}: expected '{FASTTEXT_PREFIX}<label> <text>', "
                    f"got {line[:60]!r}"
                )
            if _split(rest)[0].startswith(FASTTEXT_PREFIX):
                raise DataError(
                    f"{path}, line {lineno}: more than one label; multi-label data is not "
                    "supported for evaluation"
                )
            label = head[len(FASTTEXT_PREFIX) :]
            if not label:
                raise DataError(f"{path}, line {lineno}: empty label after '{FASTTEXT_PREFIX}'")
            if not rest:
                raise DataError(f"{path}, line {lineno}: label {label!r} has no text")
            yield rest, label


def _read_csv(path: Path, label_column: str, text_column: str) -> Iterator[tuple[str, str]]:
    with _open(path) as fh:
        reader = csv.reader(fh)
        try:
            header: list[str] | None = next((row for row in reader if row), None)
            if header is None:
                raise DataError(f"{path}: the file is empty")
            columns = [name.strip() for name in header]
            for column in (label_column, text_column):
                if column not in columns:
                    present = ", ".join(repr(c) for c in columns)
                    raise DataError(f"{path}: no column {column!r}; columns present: {present}")
            li, ti = columns.index(label_column), columns.index(text_column)
            rows = 0
            end = reader.line_num
            for row in reader:
                start, end = end + 1, reader.line_num
                if not row:
                    continue
                if len(row) != len(columns):
                    raise DataError(
                        f"{path}, line {start}: {len(row)} fields, but the header has "
                        f"{len(columns)} (is a field with a comma left unquoted?)"
                    )
                label, text = row[li].strip(), row[ti]
                for column, value in ((label_column, label), (text_column, text)):
                    if not value.strip():
                        raise DataError(
                            f"{path}, line {start}: empty {column!r}; drop or fill such rows "
                            "before evaluating"
                        )
                rows += 1
                yield text, label
        except csv.Error as exc:
            raise DataError(f"{path}, line {reader.line_num}: malformed CSV: {exc}") from None
        if rows == 0:
            raise DataError(f"{path}: the file has a header but no data rows")


def _read_file(
    path: Path, label_column: str | None, text_column: str | None
) -> Iterator[tuple[str, str]]:
    first = _first_line(path)
    if first is None:
        raise DataError(f"{path}: the file is empty")
    explicit = label_column is not None or text_column is not None
    if not explicit and path.suffix.lower() != ".csv" and first.startswith(FASTTEXT_PREFIX):
        return _read_fasttext(path)
    return _read_csv(path, label_column or DEFAULT_LABEL_COLUMN, text_column or DEFAULT_TEXT_COLUMN)


def load_labeled_data(
    path: Path, label_column: str | None = None, text_column: str | None = None
) -> tuple[list[str], list[str]]:
    """Read labelled texts from ``path`` and return ``(texts, labels)``.

    A file is read as CSV with a header whose ``label_column`` (default ``label``) and
    ``text_column`` (default ``text``) hold each row's label and text. When neither column
    is given, a file not named ``*.csv`` whose first line starts with ``__label__`` is read as
    fastText lines instead (``__label__<label> <text>``, one label per line). A folder is read
    file by file, all files inside it (recursively) in sorted order, skipping names starting
    with ``.`` or ``_`` (``.DS_Store``, ``_SUCCESS``).

    Labels are stripped; texts are kept as written. Raises :class:`DataError` for a missing
    path, an empty file or folder, a missing column (naming the columns present), a row with
    the wrong number of fields or an empty label or text (naming the file and line), and
    malformed fastText lines.
    """
    texts: list[str] = []
    labels: list[str] = []
    for file in _data_files(Path(path)):
        try:
            for text, label in _read_file(file, label_column, text_column):
                texts.append(text)
                labels.append(label)
        except UnicodeDecodeError as exc:
            raise DataError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return texts, labels
