"""Reading predicted labels out of a model's response.

:func:`predicted_labels` is the one reader of the labels a model returned, for every place
that needs them from a response body (the A/B report scoring captured responses against
ground truth, shadow variants compared with the live one, ...). It reads

* JSON: mlyard's and SageMaker BlazingText's ``[{"label": [best, ...], "prob": [...]}, ...]``;
  SageMaker built-in algorithms' ``{"predictions": [{"predicted_label": 1, "score": ...}]}``;
  a list of plain labels (``["cat", "dog"]``, one per instance); a single object or label.
  In an object the label is under the first of :data:`LABEL_KEYS` it has, and may be one
  label, a list of labels best first, or a nested object read the same way. A prediction
  object without any of these keys (a regressor's ``{"score": 1.5}``) is a prediction
  without a label.
* JSON Lines: one prediction a line, each read as above.
* CSV (and plain text): one prediction a row. With a header naming ``predicted_label``
  (batch transform's output), ``predicted_label_1..k`` (its top-k output) or ``label``, the
  labels come from those columns; without one, from the first field (endpoints' ``label,prob``
  rows). Fields are stripped of surrounding blanks.

The content type picks the format; a body that does not parse as its content type says falls
back as an endpoint's client would see it: JSON sent as JSON Lines and the reverse are read,
and text starting with ``[`` or ``{`` under a non-JSON type is tried as JSON before CSV.
Labels are returned as written (``__label__pos`` keeps fastText's prefix; booleans read as
``true``/``false``).

Anything malformed (not UTF-8, empty, broken JSON or CSV, a label that is an object or null)
raises :class:`~mlyard.errors.DataError`; no other exception escapes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from mlyard.errors import DataError
from mlyard.models.content_types import JSON, is_json, is_jsonlines

LABEL_KEYS: tuple[str, ...] = (
    "label", "predicted_label", "labels", "prediction", "predicted_class", "class",
)
"""The keys of a prediction object that hold its label(s), in the order they are tried."""

#: CSV header names of the label column (batch transform writes ``predicted_label``).
CSV_LABEL_COLUMNS: tuple[str, ...] = ("predicted_label", "label")

_MAX_DEPTH = 4
_Labels = tuple[str, ...]


def predicted_labels(data: bytes, content_type: str = JSON) -> list[_Labels]:
    """The labels of every prediction in a model response, in order: for each prediction
    its labels best first (one label for a CSV row or a plain label; none for a prediction
    without a label, such as a regressor's score). See the module notes for the formats;
    raises :class:`~mlyard.errors.DataError` on malformed input."""
    text = _text(data)
    if is_jsonlines(content_type):
        return _first_parse(text, (_json_lines, _json_document))
    if is_json(content_type):
        return _first_parse(text, (_json_document, _json_lines))
    if text.lstrip()[:1] in ("[", "{"):
        try:
            return _first_parse(text, (_json_document, _json_lines))
        except DataError:
            pass  # e.g. a CSV row whose first field starts with a bracket
    return _csv(text)


def top_label(data: bytes, content_type: str = JSON) -> str | None:
    """The best label of the first prediction in a model response; None when the response
    holds no prediction or its first prediction has no label. Raises
    :class:`~mlyard.errors.DataError` on malformed input (see :func:`predicted_labels`)."""
    labels = predicted_labels(data, content_type)
    return labels[0][0] if labels and labels[0] else None


def _text(data: bytes) -> str:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise DataError(f"a response body is bytes, got {type(data).__name__}")
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"the response is not UTF-8 text: {exc}") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError("the response is empty: no predictions")
    return text


def _first_parse(text: str, parsers: Sequence[Any]) -> list[_Labels]:
    """The result of the first of ``parsers`` that can read ``text``; the first parser's
    error when none can."""
    first: DataError | None = None
    for parse in parsers:
        try:
            return list(parse(text))
        except DataError as exc:
            first = first or exc
    assert first is not None
    raise first


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError(f"{where} is nested too deeply") from None
    except ValueError as exc:
        raise DataError(f"malformed JSON {where}: {exc}") from None


def _json_document(text: str) -> list[_Labels]:
    value = _loads(text, "response")
    if isinstance(value, dict) and "predictions" in value:
        value = value["predictions"]
    items = value if isinstance(value, list) else [value]
    return [_labels(item, f"prediction {i + 1}") for i, item in enumerate(items)]


def _json_lines(text: str) -> list[_Labels]:
    out: list[_Labels] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            out.append(_labels(_loads(line, f"on line {lineno}"), f"line {lineno}"))
    return out


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _labels(value: Any, where: str, depth: int = 0) -> _Labels:
    """The labels of one prediction value (see the module notes)."""
    if depth > _MAX_DEPTH:
        raise DataError(f"{where}: the label is nested more than {_MAX_DEPTH} objects deep")
    label = _scalar(value)
    if label is not None:
        return (label,)
    if isinstance(value, list):
        labels = [_scalar(v) for v in value]
        if any(v is None for v in labels):
            raise DataError(f"{where}: a list of labels must hold strings, numbers or "
                            f"booleans, got {_short(value)}")
        return tuple(v for v in labels if v is not None)
    if isinstance(value, dict):
        for key in LABEL_KEYS:
            if key in value:
                return _labels(value[key], f"{where}: {key!r}", depth + 1)
        if depth == 0:
            return ()  # a prediction without a label, e.g. a regressor's {"score": 1.5}
        raise DataError(f"{where}: an object without a label key ({', '.join(LABEL_KEYS)})")
    raise DataError(f"{where}: a label must be a string, number or boolean, got "
                    f"{_short(value)}")


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _label_columns(header: Sequence[str]) -> list[int]:
    """The label columns named by a CSV header row, best first; empty when the row is no
    header."""
    names = [c.strip().lower() for c in header]
    for key in CSV_LABEL_COLUMNS:
        if key in names:
            return [names.index(key)]
    ranked: list[int] = []
    while f"predicted_label_{len(ranked) + 1}" in names:
        ranked.append(names.index(f"predicted_label_{len(ranked) + 1}"))
    return ranked


def _csv(text: str) -> list[_Labels]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DataError(f"malformed CSV response on line {reader.line_num}: {exc}") from None
    if not rows:
        return []
    columns = _label_columns(rows[0][1])
    if not columns:
        return [(row[0].strip(),) for _, row in rows]
    out: list[_Labels] = []
    for lineno, row in rows[1:]:
        if max(columns) >= len(row):
            raise DataError(f"CSV line {lineno} has {len(row)} fields; the header names the "
                            f"label in field {max(columns) + 1}")
        out.append(tuple(row[c].strip() for c in columns))
    return out
