"""Batch transform input side: finding the input files and splitting them into records.

A record is a pair ``(instance, source)``: ``instance`` is what goes to
:meth:`mlyard.models.LoadedModel.predict`, ``source`` is the input record as the output join
shows it (``None`` when ``join_source`` is ``"None"``). Readers run in the coordinating
process only; workers receive ready records.

Per content type, with ``split_type="Line"``:

* ``text/csv``: parsed with the :mod:`csv` module (quoted fields may hold commas and
  newlines). **The first row must be a header.** The model input is the column named by
  ``text_field``, else the column ``text``, else the only column. Blank rows are skipped.
* ``application/jsonlines``: one JSON value a line (blank lines skipped). For an object
  the model input is the value of key ``text_field``, else of ``"text"``, else of its only
  key; any other value (a string, a list of features, ...) is the model input itself.
* ``text/plain``: each non-blank line (line ending removed) is one model input.

With ``split_type="None"`` the whole file is one record (text: its content; JSON: the one
document it holds, read by the rules above); CSV input cannot be read that way.

With ``split_type="Line"`` a bad record (a line that is not UTF-8, a CSV row with another
number of fields than the header, a malformed JSON line) follows the one bad-row policy of
:mod:`mlyard.models.datafiles`: refused naming the file and line, or, with
``skip_bad_rows``, left out and counted (:attr:`RecordReader.bad_rows`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mlyard.errors import DataError, NotFoundError, ValidationError
from mlyard.models.content_types import CSV, JSONLINES, TEXT
from mlyard.models.datafiles import BadRows, CsvTable, EmptyDataFile, text_lines

#: The input column name the CSV output uses for non-tabular input joined to predictions.
INPUT_COLUMN = "input"

_SUFFIX_TYPES = {".csv": CSV, ".jsonl": JSONLINES, ".json": JSONLINES, ".ndjson": JSONLINES}

Record = tuple[Any, Any]


@dataclass(frozen=True)
class InputFile:
    """One input file: ``rel`` is its path relative to the input folder (posix form, the
    file name for a single-file input); outputs and parts are named after it."""

    path: Path
    rel: str
    content_type: str
    size: int
    mtime_ns: int


def infer_content_type(path: Path) -> str:
    """The content type implied by ``path``'s suffix: ``.csv`` is CSV, ``.jsonl``/``.json``/
    ``.ndjson`` are JSON Lines, anything else is plain text."""
    return _SUFFIX_TYPES.get(path.suffix.lower(), TEXT)


def _is_hidden(rel_parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") for part in rel_parts)


def list_input_files(
    input_path: Path, content_type: str | None, exclude: Path | None = None
) -> list[InputFile]:
    """The input files of ``input_path`` in transform order.

    A file is its own single input. A folder contributes every regular file below it,
    recursively, sorted by relative path; hidden files and folders (name starting with ``.``)
    and anything under ``exclude`` (the output folder, if it lies inside the input) are
    skipped. Raises :class:`NotFoundError` if ``input_path`` does not exist and
    :class:`DataError` if a folder holds no input file.
    """
    input_path = Path(input_path)
    pairs: list[tuple[Path, str]]
    if input_path.is_file():
        pairs = [(input_path, input_path.name)]
    elif input_path.is_dir():
        excluded = exclude.resolve() if exclude is not None else None
        pairs = []
        for dirpath, dirnames, filenames in os.walk(input_path):
            here = Path(dirpath)
            kept = []
            for name in dirnames:
                sub = here / name
                if name.startswith(".") or (excluded is not None and sub.resolve() == excluded):
                    continue
                kept.append(name)
            dirnames[:] = sorted(kept)
            for name in filenames:
                path = here / name
                relative = path.relative_to(input_path)
                if _is_hidden(relative.parts) or not path.is_file():
                    continue
                pairs.append((path, relative.as_posix()))
        pairs.sort(key=lambda pair: pair[1])
        if not pairs:
            raise DataError(f"input folder {input_path} holds no input files")
    else:
        raise NotFoundError(f"transform input {input_path} does not exist")
    files = []
    for file_path, rel in pairs:
        stat = file_path.stat()
        files.append(
            InputFile(
                path=file_path,
                rel=rel,
                content_type=content_type or infer_content_type(file_path),
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
            )
        )
    return files


class RecordReader:
    """Reads the records of one input file (see the module docstring for the rules).

    ``columns`` is the list of input column names the CSV output shows for a joined input
    record; it is known once the first record was read.
    """

    def __init__(
        self,
        file: InputFile,
        *,
        split_type: str,
        text_field: str | None,
        keep_source: bool,
        check_columns: bool,
        skip_bad_rows: bool = False,
    ) -> None:
        """``keep_source`` keeps each record's ``source`` (for the join); ``check_columns``
        requires every JSON object to have the keys of the first one (CSV output joined
        with JSON input); ``skip_bad_rows`` skips and counts bad records in
        :attr:`bad_rows` instead of refusing the file."""
        self.file = file
        self.bad_rows = BadRows(skip=skip_bad_rows)
        self.split_type = split_type
        self.text_field = text_field
        self.keep_source = keep_source
        self.check_columns = check_columns
        self.columns: list[str] | None = None
        if split_type == "None" and file.content_type == CSV:
            raise ValidationError(
                f"{file.rel}: split_type 'None' is not supported for text/csv input"
            )

    def records(self) -> Generator[Record, None, None]:
        """Yield the file's records in order; raise :class:`DataError` on malformed input."""
        if self.file.size == 0:
            raise DataError(f"input file {self.file.rel} is empty")
        count = 0
        if self.split_type == "None":
            try:
                with open(self.file.path, encoding="utf-8-sig", newline="") as fh:
                    for record in self._whole(fh):
                        count += 1
                        yield record
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"input file {self.file.rel} is not UTF-8 text: {exc}") from None
        else:
            if self.file.content_type == CSV:
                gen = self._csv()
            elif self.file.content_type == JSONLINES:
                gen = self._jsonlines()
            else:
                gen = self._text()
            for record in gen:
                count += 1
                yield record
        if count == 0:
            raise DataError(f"input file {self.file.rel} holds no records")

    def first_record(self) -> Record:
        """Read just the first record (validates the file's layout); sets :attr:`columns`."""
        gen = self.records()
        try:
            return next(gen)
        finally:
            gen.close()

    # -- per content type -------------------------------------------------------------------

    def _csv(self) -> Iterator[Record]:
        rel = self.file.rel
        try:
            table = CsvTable(self.file.path, self.bad_rows, name=rel)
        except EmptyDataFile:
            raise DataError(f"input file {rel} holds no records") from None
        column = self._csv_text_column(table.header)
        self.columns = list(table.header)
        for _, row in table:
            yield row[column], (row if self.keep_source else None)

    def _csv_text_column(self, header: list[str]) -> int:
        names = [name.strip() for name in header]
        wanted = self.text_field
        if wanted is not None:
            if wanted in header:
                return header.index(wanted)
            if wanted.strip() in names:
                return names.index(wanted.strip())
            raise DataError(
                f"{self.file.rel}: no column {wanted!r}; the CSV header has columns "
                f"{', '.join(header)}"
            )
        lowered = [name.lower() for name in names]
        if "text" in lowered:
            return lowered.index("text")
        if len(header) == 1:
            return 0
        raise DataError(
            f"{self.file.rel}: cannot tell which column holds the model input: no 'text' "
            f"column among {', '.join(header)} (the first row must be a header); set "
            "text_field"
        )

    def _jsonlines(self) -> Iterator[Record]:
        rel = self.file.rel
        for number, line in text_lines(self.file.path, self.bad_rows, rel):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                self.bad_rows.bad(rel, number, f"malformed JSON: {reason}")
                continue
            yield self._json_record(value, f"{rel}: line {number}")

    def _text(self) -> Iterator[Record]:
        if self.columns is None:
            self.columns = [INPUT_COLUMN]
        for _, line in text_lines(self.file.path, self.bad_rows, self.file.rel):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            yield text, (text if self.keep_source else None)

    def _whole(self, fh: TextIO) -> Iterator[Record]:
        content = fh.read()
        if not content.strip():
            return
        if self.file.content_type == JSONLINES:
            try:
                value = json.loads(content)
            except ValueError as exc:
                raise DataError(f"{self.file.rel}: malformed JSON: {exc}") from None
            yield self._json_record(value, self.file.rel)
        else:
            self.columns = [INPUT_COLUMN]
            yield content, (content if self.keep_source else None)

    def _json_record(self, value: Any, where: str) -> Record:
        source = value if self.keep_source else None
        if not isinstance(value, dict):
            if self.text_field is not None:
                raise DataError(
                    f"{where}: text_field {self.text_field!r} needs a JSON object, "
                    f"got {type(value).__name__}"
                )
            if self.columns is None or self.check_columns:
                self._check_columns([INPUT_COLUMN], where)
            return value, source
        if self.columns is None or self.check_columns:
            self._check_columns(list(value), where)
        if self.text_field is not None:
            if self.text_field not in value:
                raise DataError(
                    f"{where}: no key {self.text_field!r}; the object has keys "
                    f"{', '.join(value) or '(none)'}"
                )
            return value[self.text_field], source
        if "text" in value:
            return value["text"], source
        if len(value) == 1:
            return next(iter(value.values())), source
        raise DataError(
            f"{where}: cannot tell which key holds the model input: no 'text' key among "
            f"{', '.join(value) or '(none)'}; set text_field"
        )

    def _check_columns(self, columns: list[str], where: str) -> None:
        if self.columns is None:
            self.columns = columns
        elif self.check_columns and columns != self.columns:
            raise DataError(
                f"{where}: keys {', '.join(columns)} differ from the first record's "
                f"{', '.join(self.columns)}; text/csv output of joined JSON input needs the "
                "same keys in every record"
            )
