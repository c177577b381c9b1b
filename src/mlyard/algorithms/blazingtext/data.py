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

Bad rows (a line that is not UTF-8, a CSV row with more or fewer fields than the header, a
fastText line without a label, an empty label) follow the one policy of
:mod:`mlyard.models.datafiles`: refused with file and line, or skipped and counted when the
job asked for it (``skip_bad_rows``), the same as evaluation and batch transform do.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlyard.algorithms.blazingtext.text import LABEL_PREFIX
from mlyard.errors import DataError
from mlyard.models.datafiles import BadRows, CsvTable, first_text_line, text_lines

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


def read_channel(path: Path, channel: str = "train",
                 bad_rows: BadRows | None = None) -> RawExamples:
    """Read every file of a channel (see the module doc for the formats); ``bad_rows`` is
    the bad-row policy (default: refuse them)."""
    policy = bad_rows if bad_rows is not None else BadRows()
    out = RawExamples()
    for file in channel_files(path, channel):
        out.extend(read_file(file, policy))
    if not out:
        raise DataError(f"channel {channel!r}: {path} holds no examples")
    return out


def read_file(path: Path, bad_rows: BadRows | None = None) -> RawExamples:
    """Read one fastText or CSV file; raise :class:`DataError` if it is empty or malformed
    (bad rows: see the module doc)."""
    policy = bad_rows if bad_rows is not None else BadRows()
    first = first_text_line(path)
    if first is None:
        raise DataError(f"{path}: empty file")
    if path.suffix.lower() == ".csv":
        return _parse_csv(path, policy)
    if first.startswith(LABEL_PREFIX):
        return _parse_fasttext(path, policy)
    if _csv_header_columns(first) is not None:
        return _parse_csv(path, policy)
    raise DataError(
        f"{path}:1: expected fastText lines '{LABEL_PREFIX}<label> <text>' or a CSV header "
        f"with {LABEL_COLUMN!r} and {TEXT_COLUMN!r} columns"
    )


def check_validation_labels(labels: Sequence[str],
                            validation_labels: Sequence[str] | None) -> None:
    """:class:`DataError` naming validation labels that are not among the training
    ``labels`` (a model cannot predict them; scoring would count them wrong silently)."""
    if validation_labels is None:
        return
    unknown = sorted(set(validation_labels) - set(labels))
    if not unknown:
        return
    shown = ", ".join(repr(u) for u in unknown[:20])
    more = f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
    what = "label" if len(unknown) == 1 else "labels"
    verb = "does" if len(unknown) == 1 else "do"
    raise DataError(
        f"channel 'validation': validation {what} {shown}{more} {verb} not occur in the "
        f"training data; training labels: {', '.join(repr(x) for x in labels)}"
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


def _parse_fasttext(path: Path, policy: BadRows) -> RawExamples:
    out = RawExamples()
    labels, texts = out.labels, out.texts
    plen = len(LABEL_PREFIX)
    for lineno, line in text_lines(path, policy):
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
                policy.bad(path, lineno,
                           f"no label: a fastText line needs '{LABEL_PREFIX}<label>'")
                continue
            label = found[0][plen:]
            words = [t for t in tokens if not t.startswith(LABEL_PREFIX)]
        if not label:
            policy.bad(path, lineno, f"empty label '{LABEL_PREFIX}'")
            continue
        labels.append(label)
        texts.append(" ".join(words))
    return out


def _parse_csv(path: Path, policy: BadRows) -> RawExamples:
    table = CsvTable(path, policy)
    cols = _find_columns(table.header)
    if cols is None:
        raise DataError(
            f"{path}: CSV needs a {LABEL_COLUMN!r} and a {TEXT_COLUMN!r} column; "
            f"found {[h.strip() for h in table.header]}"
        )
    li, ti = cols
    out = RawExamples()
    labels, texts = out.labels, out.texts
    for lineno, row in table:
        label = row[li].strip()
        if not label:
            policy.bad(path, lineno, "empty label")
            continue
        labels.append(label)
        texts.append(row[ti])
    if not labels:
        raise DataError(f"{path}: CSV has a header but no rows")
    return out
