"""Reading a BlazingText input channel: fastText lines or CSV, from a file or a folder.

Two formats are accepted, chosen per file:

* **fastText** (any suffix but ``.csv``): one example per line, ``__label__<label> text ...``.
  Every whitespace-separated token starting with ``__label__`` is a label; the first one is
  used (fastText picks one at random when there are several) and the others are dropped from
  the text. Blank lines are skipped. Labels are returned *without* the ``__label__`` prefix.
* **CSV** (``.csv`` suffix, or a first line that is a CSV header naming the columns): a header
  with a ``label`` column and a ``text`` column (names matched exactly, then ignoring case);
  other columns are ignored. Labels are kept as written (``"1"``, ``"positive"``...).

A channel path is a file or a folder; a folder is read recursively in sorted path order,
skipping names that start with ``.`` or ``_`` (``_SUCCESS``, ``.ipynb_checkpoints``...).
Problems raise :class:`mlyard.errors.DataError` naming the file and, where it helps, the line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from mlyard.algorithms.blazingtext.text import LABEL_PREFIX
from mlyard.errors import DataError

LABEL_COLUMN = "label"
TEXT_COLUMN = "text"


@dataclass
class RawExamples:
    """Labels and texts of a channel, in file order."""

    labels: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def extend(self, other: RawExamples) -> None:
        """Append ``other``'s examples."""
        self.labels.extend(other.labels)
        self.texts.extend(other.texts)


def channel_files(path: Path, channel: str = "train") -> list[Path]:
    """The data files of a channel path (a file, or a folder read recursively)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"channel {channel!r}: {path} does not exist")
    files = [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    ]
    if not files:
        raise DataError(f"channel {channel!r}: folder {path} holds no data files")
    return files


def read_channel(path: Path, channel: str = "train") -> RawExamples:
    """Read every file of a channel (see the module doc for the formats)."""
    out = RawExamples()
    for file in channel_files(path, channel):
        out.extend(read_file(file))
    if not out:
        raise DataError(f"channel {channel!r}: {path} holds no examples")
    return out


def read_file(path: Path) -> RawExamples:
    """Read one fastText or CSV file; raise :class:`DataError` if it is empty or malformed."""
    try:
        content = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    first = next((line for line in content.splitlines() if line.strip()), None)
    if first is None:
        raise DataError(f"{path}: empty file")
    if path.suffix.lower() == ".csv":
        return _parse_csv(path, content)
    if first.lstrip().startswith(LABEL_PREFIX):
        return _parse_fasttext(path, content)
    if _csv_header_columns(first) is not None:
        return _parse_csv(path, content)
    raise DataError(
        f"{path}:1: expected fastText lines '{LABEL_PREFIX}<label> <text>' or a CSV header "
        f"with {LABEL_COLUMN!r} and {TEXT_COLUMN!r} columns"
    )


def _csv_header_columns(line: str) -> tuple[int, int] | None:
    """Indices of the label and text columns if ``line`` is such a CSV header."""
    try:
        header = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None
    return _find_columns(header)


def _find_columns(header: list[str]) -> tuple[int, int] | None:
    names = [h.strip() for h in header]
    found: list[int] = []
    for wanted in (LABEL_COLUMN, TEXT_COLUMN):
        if wanted in names:
            found.append(names.index(wanted))
            continue
        lowered = [n.lower() for n in names]
        if wanted in lowered:
            found.append(lowered.index(wanted))
            continue
        return None
    return found[0], found[1]


def _parse_fasttext(path: Path, content: str) -> RawExamples:
    out = RawExamples()
    labels, texts = out.labels, out.texts
    plen = len(LABEL_PREFIX)
    for lineno, line in enumerate(content.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        first = tokens[0]
        if first.startswith(LABEL_PREFIX) and not any(
            t.startswith(LABEL_PREFIX) for t in tokens[1:]
        ):
            label, words = first[plen:], tokens[1:]
        else:
            found = [t for t in tokens if t.startswith(LABEL_PREFIX)]
            if not found:
                raise DataError(
                    f"{path}:{lineno}: no label: a fastText line needs '{LABEL_PREFIX}<label>'"
                )
            label = found[0][plen:]
            words = [t for t in tokens if not t.startswith(LABEL_PREFIX)]
        if not label:
            raise DataError(f"{path}:{lineno}: empty label '{LABEL_PREFIX}'")
        labels.append(label)
        texts.append(" ".join(words))
    return out


def _parse_csv(path: Path, content: str) -> RawExamples:
    reader = csv.reader(io.StringIO(content))
    try:
        header = next(reader)
        while not any(h.strip() for h in header):
            header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV header: {exc}") from None
    cols = _find_columns(header)
    if cols is None:
        raise DataError(
            f"{path}: CSV needs a {LABEL_COLUMN!r} and a {TEXT_COLUMN!r} column; "
            f"found {[h.strip() for h in header]}"
        )
    li, ti = cols
    out = RawExamples()
    labels, texts = out.labels, out.texts
    try:
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            label = row[li].strip() if li < len(row) else ""
            if not label:
                raise DataError(f"{path}:{reader.line_num}: empty label")
            labels.append(label)
            texts.append(row[ti] if ti < len(row) else "")
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV: {exc}") from None
    if not labels:
        raise DataError(f"{path}: CSV has a header but no rows")
    return out
