"""SageMaker Runtime payloads: request bodies to model instances, predictions to responses.

Request content types (parameters such as ``; charset=utf-8`` are ignored; bodies are UTF-8,
a leading byte-order mark is dropped):

* ``application/json``: ``{"instances": [...]}`` (BlazingText's request shape), optionally
  with ``"configuration": {"k": 2}`` which asks for the top 2 labels (``params["top_k"]``);
  or a bare JSON list (each element one instance); or any other JSON value, e.g. a single
  string or an object such as ``{"text": "..."}``, which is one instance.
* ``text/csv``: one record per CSV row, no header row (quoted fields may hold commas and
  newlines). A row with a single field is the text itself; a row with several fields is
  passed to the model as the list of its fields (string values). Blank rows are skipped.
* ``application/jsonlines`` (also ``application/x-jsonlines``, ``application/jsonl``,
  ``application/x-ndjson``): each non-blank line is one JSON value, one instance.
* ``text/plain``: each non-blank line (line ending removed) is one instance.

Response types (``Accept``; empty, ``*/*`` or ``application/*`` mean JSON; a list such as
``text/csv;q=0.5, application/json`` picks the supported type of highest ``q``):

* ``application/json``: the JSON list :meth:`mlyard.models.LoadedModel.predict` returns,
  unchanged: ``[{"label": [...], "prob": [...]}, ...]``.
* ``application/jsonlines``: one prediction object a line.
* ``text/csv``: one row a prediction, ``label,prob`` of the top label (``score`` for a
  regressor), no header.

Request bodies are untrusted: JSON and JSON Lines nested more than
:data:`~mlyard.models.payloads.MAX_JSON_DEPTH` levels are refused before they are parsed (a
few KB of ``[[[[...]]]]`` would otherwise exhaust the parser's recursion), and every failure
of a decoder (``RecursionError``, ``csv.Error``, ``UnicodeDecodeError``, over-long integers)
becomes a :class:`PayloadError`: a bad payload is the client's error, decided once.

Errors are :mod:`mlyard.errors` classes carrying the ``code`` (status from its table) a server
returns: :class:`PayloadError` (400, malformed, too deeply nested or empty body, too many
instances),
:class:`UnsupportedMediaType` (415, unknown request content type) and :class:`NotAcceptable`
(406, no supported type in ``Accept``). :class:`ModelError` (424) is the code a failed
``predict`` maps to; :func:`error_body` renders any of them as SageMaker's error JSON.
"""

from __future__ import annotations

import csv
import io
import json
from functools import lru_cache
from typing import Any

from mlyard.errors import (
    HTTP_STATUS,
    ModelError,
    NotAcceptable,
    UnsupportedMediaType,
    ValidationError,
)
from mlyard.models.content_types import (
    ANY,
    CSV,
    JSON,
    JSONLINES,
    JSONLINES_ALIASES,
    TEXT,
    media_type,
)
from mlyard.models.payloads import MAX_JSON_DEPTH, check_json_depth

#: Default upper bound on the number of instances of one request.
MAX_INSTANCES = 1000


class PayloadError(ValidationError):
    """The request body is malformed, empty or holds too many instances (HTTP 400)."""

    code = "ValidationError"


#: HTTP status per error ``code`` for the errors a replica returns.
STATUS_BY_CODE: dict[str, int] = {
    cls.code: HTTP_STATUS[cls]
    for cls in (ValidationError, UnsupportedMediaType, NotAcceptable, ModelError)
}


def error_body(code: str, message: str) -> bytes:
    """SageMaker's error response: ``{"ErrorCode": code, "Message": message}`` as JSON."""
    return json.dumps({"ErrorCode": code, "Message": message}).encode()


@lru_cache(maxsize=256)
def negotiate(accept: str) -> str:
    """The response type for an ``Accept`` header (one of :data:`JSON`, :data:`JSONLINES`,
    :data:`CSV`); raises :class:`NotAcceptable` if it names no supported type."""
    choices: list[tuple[float, int, str]] = []
    for i, item in enumerate(accept.split(",")):
        kind, *params = item.split(";")
        kind = kind.strip().lower()
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            choices.append((-q, i, kind))
    if not choices:  # empty header, or only q=0 entries
        if accept.strip():
            raise NotAcceptable(f"unsupported Accept {accept!r}; supported: {_SUPPORTED_OUT}")
        return JSON
    for _, _, kind in sorted(choices):
        if kind in ANY or kind == JSON:
            return JSON
        if kind in JSONLINES_ALIASES:
            return JSONLINES
        if kind in (CSV, "text/*"):
            return CSV
    raise NotAcceptable(f"unsupported Accept {accept!r}; supported: {_SUPPORTED_OUT}")


_SUPPORTED_IN = f"{JSON}, {JSONLINES}, {CSV}, {TEXT}"
_SUPPORTED_OUT = f"{JSON}, {JSONLINES}, {CSV}"


def _text(body: bytes, kind: str) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"{kind} body is not UTF-8 text: {exc}") from None
    return text[1:] if text.startswith("\ufeff") else text


def _json_error(exc: json.JSONDecodeError, where: str = "") -> PayloadError:
    return PayloadError(f"malformed JSON{where}: {exc.msg} at line {exc.lineno} column "
                        f"{exc.colno} (char {exc.pos})")


def _top_k(configuration: Any) -> int | None:
    if configuration is None:
        return None
    if not isinstance(configuration, dict):
        raise PayloadError('"configuration" must be an object such as {"k": 2}')
    k = configuration.get("k")
    if k is None:
        return None
    if isinstance(k, str) and k.strip().isdigit():
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise PayloadError(f'configuration "k" must be an integer >= 1, got {k!r}')
    return k


def _decode_json(body: bytes) -> tuple[list[Any], dict[str, Any]]:
    check_json_depth(body, MAX_JSON_DEPTH, what="JSON body", error=PayloadError)
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        raise _json_error(exc) from None
    except UnicodeDecodeError as exc:
        raise PayloadError(f"JSON body is not UTF-8 text: {exc}") from None
    except RecursionError:  # unbalanced brackets the depth check cannot measure
        raise PayloadError("JSON body is nested too deeply; flatten the input") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise PayloadError(f"malformed JSON: {exc}") from None
    params: dict[str, Any] = {}
    if isinstance(value, dict) and "instances" in value:
        instances = value["instances"]
        if not isinstance(instances, list):
            raise PayloadError(f'"instances" must be a JSON list, got {type(instances).__name__}')
        k = _top_k(value.get("configuration"))
        if k is not None:
            params["top_k"] = k
        return instances, params
    if isinstance(value, list):
        return value, params
    return [value], params


def _decode_jsonlines(body: bytes) -> list[Any]:
    text = _text(body, "JSON Lines")
    check_json_depth(body, MAX_JSON_DEPTH, what="JSON Lines body", error=PayloadError)
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise PayloadError(f"malformed JSON on line {lineno}: {exc.msg} at column "
                               f"{exc.colno} (char {exc.pos})") from None
        except RecursionError:
            raise PayloadError(f"JSON on line {lineno} is nested too deeply; flatten the "
                               "input") from None
        except ValueError as exc:
            raise PayloadError(f"malformed JSON on line {lineno}: {exc}") from None
    return out


def _decode_csv(body: bytes) -> list[Any]:
    out: list[Any] = []
    reader = csv.reader(io.StringIO(_text(body, "CSV"), newline=""))
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            out.append(row[0] if len(row) == 1 else row)
    except csv.Error as exc:
        raise PayloadError(f"malformed CSV on line {reader.line_num}: {exc}") from None
    return out


def decode_instances(body: bytes, content_type: str, *,
                     max_instances: int = MAX_INSTANCES) -> tuple[list[Any], dict[str, Any]]:
    """Decode a request body into model instances and request parameters.

    Returns ``(instances, params)``; ``params`` holds ``"top_k"`` when the request asked
    for one (JSON ``configuration.k``). Raises :class:`UnsupportedMediaType` for an unknown
    content type and :class:`PayloadError` for a malformed or empty body or more than
    ``max_instances`` instances.
    """
    kind = content_type if content_type == JSON else media_type(content_type)
    if not body or body.isspace():
        raise PayloadError("empty request body: no instances to predict")
    params: dict[str, Any] = {}
    if kind == JSON or kind == "" or kind == "application/x-json":
        instances, params = _decode_json(body)
    elif kind == CSV:
        instances = _decode_csv(body)
    elif kind in JSONLINES_ALIASES:
        instances = _decode_jsonlines(body)
    elif kind == TEXT:
        instances = [line for line in _text(body, "text").splitlines() if line.strip()]
    else:
        raise UnsupportedMediaType(
            f"unsupported content type {content_type!r}; supported: {_SUPPORTED_IN}")
    if not instances:
        raise PayloadError("the request holds no instances")
    if len(instances) > max_instances:
        raise PayloadError(f"the request holds {len(instances)} instances; at most "
                           f"{max_instances} are allowed per request")
    return instances, params


def _csv_field(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if any(c in text for c in ',"\r\n') or text != text.strip():
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_value(value: Any) -> str:
    return repr(value) if isinstance(value, float) else _csv_field(value)


def _csv_row(pred: dict[str, Any]) -> str:
    if "label" in pred:
        labels, probs = pred.get("label") or [""], pred.get("prob") or [""]
        return f"{_csv_field(labels[0])},{_csv_value(probs[0])}"
    if "score" in pred:
        return _csv_value(pred["score"])
    return ",".join(_csv_value(v) for v in pred.values())


def encode_predictions(preds: list[dict[str, Any]], accept: str) -> tuple[bytes, str]:
    """Encode predictions for the client's ``Accept`` header; returns ``(body, type)``.

    JSON is the model's list as is; JSON Lines one prediction object a line; CSV one
    ``label,prob`` row (top label) a prediction. Raises :class:`NotAcceptable`.
    """
    kind = JSON if accept == JSON else negotiate(accept)
    if kind == JSON:
        return json.dumps(preds, separators=(",", ":")).encode(), JSON
    if kind == JSONLINES:
        return "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in preds).encode(), \
            JSONLINES
    return "".join(_csv_row(p) + "\n" for p in preds).encode(), CSV
