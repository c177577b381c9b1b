"""Ground truth for the A/B report: labels by event id, from JSON Lines or CSV files."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from pathlib import Path
from typing import Any

from mlyard.errors import DataError, NotFoundError
from mlyard.models.content_types import JSON
from mlyard.models.predictions import top_label


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _gt_from_json(obj: Any, where: str) -> tuple[str, str]:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    if "groundTruthData" in obj:  # SageMaker Model Monitor's ground truth record
        meta = obj.get("eventMetadata")
        gt = obj["groundTruthData"]
        if not isinstance(meta, dict) or not isinstance(gt, dict):
            raise DataError(f"{where}: groundTruthData and eventMetadata must be objects")
        event_id = meta.get("eventId")
        data = gt.get("data")
        if gt.get("encoding") == "BASE64" and isinstance(data, str):
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise DataError(f"{where}: bad BASE64 ground truth: {exc}") from None
        if gt.get("encoding") == "JSON" and isinstance(data, str):
            try:
                data = top_label(data.encode("utf-8"), JSON)
            except DataError as exc:
                raise DataError(f"{where}: unreadable JSON ground truth: {exc}") from None
        label = data
    else:
        if "eventId" not in obj or "label" not in obj:
            raise DataError(f"{where}: needs keys eventId and label, got {sorted(obj)}")
        event_id, label = obj["eventId"], obj["label"]
    if isinstance(label, list) and len(label) == 1:
        label = label[0]
    event_text, label_text = _scalar(event_id), _scalar(label)
    if not event_text:
        raise DataError(f"{where}: eventId must be a non-empty string or number")
    if label_text is None:
        raise DataError(f"{where}: label must be a string or number, got {label!r}")
    return event_text, label_text


def load_ground_truth(path: str | Path) -> dict[str, str]:
    """Ground truth labels by event id from ``path``.

    JSON Lines (``.jsonl``, ``.json``, ``.ndjson``, or any file starting with ``{``): one
    ``{"eventId": ..., "label": ...}`` a line, or SageMaker Model Monitor's ground truth
    records (``{"groundTruthData": {"data": ..., "encoding": ...}, "eventMetadata":
    {"eventId": ...}, ...}``). CSV: a header naming ``eventId`` (or ``event_id``) and
    ``label`` columns. A repeated event id must repeat its label. Malformed input raises
    :class:`~mlyard.errors.DataError` naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"ground truth file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text: {exc}") from None
    suffix = path.suffix.lower()
    is_json = suffix in (".jsonl", ".json", ".ndjson") or (
        suffix != ".csv" and text.lstrip().startswith("{")
    )
    out: dict[str, str] = {}
    first_line: dict[str, int] = {}

    def add(event_id: str, label: str, lineno: int) -> None:
        known = out.get(event_id)
        if known is not None and known != label:
            raise DataError(
                f"{path}:{lineno}: eventId {event_id!r} has label {label!r} here but "
                f"{known!r} on line {first_line[event_id]}"
            )
        if known is None:
            out[event_id] = label
            first_line[event_id] = lineno

    if is_json:
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{path}:{lineno}: invalid JSON: {exc}") from None
            add(*_gt_from_json(obj, f"{path}:{lineno}"), lineno)
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        id_col = label_col = -1
        try:
            for row in reader:
                lineno = reader.line_num
                if not any(c.strip() for c in row):
                    continue
                if header is None:
                    header = [c.strip() for c in row]
                    lower = [c.lower() for c in header]
                    id_col = next((lower.index(k) for k in ("eventid", "event_id")
                                   if k in lower), -1)
                    label_col = lower.index("label") if "label" in lower else -1
                    if id_col < 0 or label_col < 0:
                        raise DataError(
                            f"{path}:{lineno}: the CSV header needs eventId and label "
                            f"columns, got {header}"
                        )
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}:{lineno}: {len(row)} fields, the header has {len(header)}"
                    )
                event_id, label = row[id_col].strip(), row[label_col].strip()
                if not event_id:
                    raise DataError(f"{path}:{lineno}: empty eventId")
                add(event_id, label, lineno)
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV: {exc}") from None
    if not out:
        raise DataError(f"{path}: no ground truth records")
    return out
