"""Read labelled text data for evaluation: CSV with a header, or fastText lines, under the
one bad-row policy of :mod:`mlyard.models.datafiles` (as training reads its channels)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mlyard.errors import DataError
from mlyard.models.datafiles import BadRows, CsvTable, first_text_line, text_lines

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


def _split(line: str) -> tuple[str, str]:
    """``(first token, rest)`` of a line, split at the first whitespace run."""
    parts = line.strip().split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _read_fasttext(path: Path, policy: BadRows) -> Iterator[tuple[str, str]]:
    for lineno, raw in text_lines(path, policy):
        line = raw.strip()
        if not line:
            continue
        head, rest = _split(line)
        if not head.startswith(FASTTEXT_PREFIX):
            policy.bad(path, lineno,
                       f"expected '{FASTTEXT_PREFIX}<label> <text>', got {line[:60]!r}")
            continue
        if _split(rest)[0].startswith(FASTTEXT_PREFIX):
            raise DataError(
                f"{path}:{lineno}: more than one label; multi-label data is not supported "
                "for evaluation"
            )
        label = head[len(FASTTEXT_PREFIX) :]
        if not label:
            policy.bad(path, lineno, f"empty label after '{FASTTEXT_PREFIX}'")
            continue
        if not rest:
            policy.bad(path, lineno, f"label {label!r} has no text")
            continue
        yield rest, label


def _read_csv(
    path: Path, label_column: str, text_column: str, policy: BadRows
) -> Iterator[tuple[str, str]]:
    table = CsvTable(path, policy)
    columns = [name.strip() for name in table.header]
    for column in (label_column, text_column):
        if column not in columns:
            present = ", ".join(repr(c) for c in columns)
            raise DataError(f"{path}: no column {column!r}; columns present: {present}")
    li, ti = columns.index(label_column), columns.index(text_column)
    rows = 0
    for lineno, row in table:
        label, text = row[li].strip(), row[ti]
        empty = next((c for c, v in ((label_column, label), (text_column, text))
                      if not v.strip()), None)
        if empty is not None:
            policy.bad(path, lineno, f"empty {empty!r}; drop or fill such rows before "
                                     "evaluating")
            continue
        rows += 1
        yield text, label
    if rows == 0:
        raise DataError(f"{path}: the file has a header but no data rows")


def _read_file(
    path: Path, label_column: str | None, text_column: str | None, policy: BadRows
) -> Iterator[tuple[str, str]]:
    first = first_text_line(path)
    if first is None:
        raise DataError(f"{path}: the file is empty")
    explicit = label_column is not None or text_column is not None
    if not explicit and path.suffix.lower() != ".csv" and first.startswith(FASTTEXT_PREFIX):
        return _read_fasttext(path, policy)
    return _read_csv(path, label_column or DEFAULT_LABEL_COLUMN,
                     text_column or DEFAULT_TEXT_COLUMN, policy)


def load_labeled_data(
    path: Path, label_column: str | None = None, text_column: str | None = None,
    bad_rows: BadRows | None = None,
) -> tuple[list[str], list[str]]:
    """Read labelled texts from ``path`` and return ``(texts, labels)``.

    A file is read as CSV with a header whose ``label_column`` (default ``label``) and
    ``text_column`` (default ``text``) hold each row's label and text. When neither column
    is given, a file not named ``*.csv`` whose first line starts with ``__label__`` is read as
    fastText lines instead (``__label__<label> <text>``, one label per line). A folder is read
    file by file, all files inside it (recursively) in sorted order, skipping names starting
    with ``.`` or ``_`` (``.DS_Store``, ``_SUCCESS``).

    Labels are stripped; texts are kept as written. Raises :class:`DataError` for a missing
    path, an empty file or folder, a missing column (naming the columns present) and
    multi-label fastText lines. Bad rows (not UTF-8, the wrong number of fields, an empty
    label or text, a fastText line without a label) follow ``bad_rows``, the one policy of
    :mod:`mlyard.models.datafiles`: refused naming the file and line (the default), or
    skipped and counted.
    """
    policy = bad_rows if bad_rows is not None else BadRows()
    texts: list[str] = []
    labels: list[str] = []
    for file in _data_files(Path(path)):
        for text, label in _read_file(file, label_column, text_column, policy):
            texts.append(text)
            labels.append(label)
    return texts, labels
