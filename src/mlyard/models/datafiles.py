"""One policy for malformed rows in the data files users hand to mlyard.

Training channels, evaluation data, batch transform input and catalog tables are all read
through the functions here, so a file is either good everywhere or refused everywhere
(before, training read invalid UTF-8 and ragged CSV rows silently while evaluation refused
them). The policy:

* a **bad row** -- a line that is not UTF-8 text, a CSV row whose field count differs from
  the header's, a row the CSV parser cannot read -- is refused with :class:`DataError`
  naming the file and line (``train.csv:7: 2 fields, but the header has 3``);
* unless the user opted in to skipping them (``--skip-bad-rows``, ``skip_bad_rows=True``):
  then each bad row is left out and counted in :class:`BadRows`, whose :meth:`BadRows.summary`
  is the warning the caller shows (the count and the first few places);
* a file with no rows at all (empty, or only blank lines) is always refused: there is
  nothing to skip to.

Blank lines are not bad rows; they are skipped silently, as before. Files are read line by
line in binary and decoded per line (a UTF-8 byte-order mark on the first line is dropped),
so one bad byte costs one row and its line number is exact.

It lives with the model kits (not in ``data/``) because evaluation, the lowest layer that
reads user data, must be able to import it.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlyard.errors import DataError

#: How many bad rows :meth:`BadRows.summary` names.
SHOWN = 3


class EmptyDataFile(DataError):
    """A data file holds no rows at all (not even a CSV header)."""


@dataclass
class BadRows:
    """The policy for bad rows (refuse, or skip and count) and the rows skipped so far."""

    skip: bool = False
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def bad(self, path: Path | str, line: int, reason: str) -> None:
        """Row ``line`` of ``path`` is bad: raise :class:`DataError`, or count it."""
        where = f"{path}:{line}: {reason}"
        if not self.skip:
            raise DataError(f"{where} (pass --skip-bad-rows / skip_bad_rows=True to skip "
                            "such rows)")
        self.count += 1
        if len(self.examples) < SHOWN:
            self.examples.append(where)

    def summary(self) -> str | None:
        """The warning for the skipped rows (None when none were skipped)."""
        if not self.count:
            return None
        more = f"; and {self.count - len(self.examples)} more" \
            if self.count > len(self.examples) else ""
        return (f"warning: skipped {self.count} bad row(s): "
                + "; ".join(self.examples) + more)


def _decode(raw: bytes, path: Path | str, number: int, policy: BadRows) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        policy.bad(path, number, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                 f"{exc.start + 1})")
        return None


def text_lines(path: Path | str, policy: BadRows,
               name: str | None = None) -> Generator[tuple[int, str], None, None]:
    """``(line number, text)`` of each line of ``path`` that is UTF-8 text, line endings
    kept (as :mod:`csv` wants them); a line that is not text is a bad row. Messages call
    the file ``name`` (default: ``path``)."""
    shown = name if name is not None else path
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; a generator keeps it open
    except OSError as exc:
        raise DataError(f"{shown}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for number, raw in enumerate(fh, start=1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            text = _decode(raw, shown, number, policy)
            if text is not None:
                yield number, text


def first_text_line(path: Path | str) -> str | None:
    """The first non-blank text line of ``path`` (stripped; ``None`` when there is none), to
    tell a file's format. Lines that are not UTF-8 are passed over here, neither refused nor
    counted: the reader proper judges them under the job's policy."""
    lines = text_lines(path, BadRows(skip=True))
    try:
        return next((text.strip() for _, text in lines if text.strip()), None)
    finally:
        lines.close()


class _Numbered:
    """Feeds ``text_lines`` to :mod:`csv` and remembers the number of the line it gave last
    (a quoted field may span lines, so the reader's own count is not the file's)."""

    def __init__(self, lines: Iterator[tuple[int, str]]) -> None:
        self._lines = lines
        self.number = 0
        self.first: int | None = None  # the first line given since the last mark()

    def mark(self) -> None:
        """Start a new row: the next line given is its first."""
        self.first = None

    def __iter__(self) -> _Numbered:
        return self

    def __next__(self) -> str:
        self.number, text = next(self._lines)
        if self.first is None:
            self.first = self.number
        return text


class CsvTable:
    """A CSV file with a header, read under a :class:`BadRows` policy.

    ``header`` is the first non-blank row; iterating yields ``(line, row)`` for every data
    row with as many fields as the header (blank rows skipped; bad ones refused or counted).
    An empty file, or one with only blank lines, is a :class:`DataError`.
    """

    def __init__(self, path: Path | str, policy: BadRows, *, delimiter: str = ",",
                 name: str | None = None) -> None:
        self.path = name if name is not None else path  # as messages call it
        self.policy = policy
        self._source = _Numbered(text_lines(path, policy, name))
        self._reader = csv.reader(self._source, delimiter=delimiter, strict=True)
        self.header: list[str] = []
        self.header_line = 0
        while not self.header:
            row, start = self._next_row()
            if row is None:
                raise EmptyDataFile(f"{self.path}: the file is empty (no header row)")
            if any(cell.strip() for cell in row):
                self.header, self.header_line = row, start

    def _next_row(self) -> tuple[list[str] | None, int]:
        """The next row the parser can read (None at the end) and its first line."""
        while True:
            self._source.mark()
            try:
                row = next(self._reader)
            except StopIteration:
                return None, self._source.number
            except csv.Error as exc:
                self.policy.bad(self.path, self._source.first or self._source.number,
                                f"malformed CSV: {exc}")
                continue
            return row, self._source.first or self._source.number

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        width = len(self.header)
        while True:
            row, start = self._next_row()
            if row is None:
                return
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != width:
                self.policy.bad(self.path, start,
                                f"{len(row)} field(s), but the header has {width} "
                                "(is a field with a comma left unquoted?)")
                continue
            yield start, row


def check_csv(path: Path | str, policy: BadRows) -> int:
    """Read all of the CSV file ``path`` under ``policy``; its number of good data rows."""
    return sum(1 for _ in CsvTable(path, policy))
