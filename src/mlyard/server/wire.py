"""Request input and JSON output of the server's HTTP routes, in one place.

Everything a route reads from a request goes through these parsers, and each either returns
a value of the documented type and range or raises
:class:`~mlyard.errors.ValidationError` (HTTP 400) or
:class:`~mlyard.errors.PayloadTooLarge` (HTTP 413) naming the bad input; no other
exception escapes them, whatever the bytes (property-tested with hypothesis).

- JSON bodies are strict: UTF-8 (or UTF-16/32) JSON whose top level is an object, with
  finite numbers only (``NaN``, ``Infinity`` and overflowing literals such as ``1e999`` are
  refused) and integers within 64 bits, no larger than the control-route body limit
  (``MLYARD_MAX_CONTROL_BODY_BYTES``, 1 MiB by default; enforced while reading).
- Query parameters are single values (a repeated one is refused): integers and numbers
  within stated bounds, names from a fixed set of choices.
- JSON responses never contain ``NaN`` or infinities (a job metric may be ``NaN``): they are
  written as ``null``.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any, TypeVar, overload

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse

from mlyard.errors import PayloadTooLarge, ValidationError

#: Largest integer a JSON body or query parameter may hold (SQLite's INTEGER).
MAX_INT = 2**63 - 1

E = TypeVar("E", bound=StrEnum)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValidationError(f"number {text[:40]} is out of range")
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValidationError(f"integer {text[:40]}... is out of the 64-bit range")
    return value


def _no_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not a JSON number")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw`` (an empty body is ``{}``); ValidationError otherwise."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_float=_finite, parse_int=_int64,
                          parse_constant=_no_constant)
    except ValidationError as exc:
        raise ValidationError(f"request body is not valid JSON: {exc.message}") from None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValidationError(f"request body is not valid JSON: {reason}") from None
    if not isinstance(data, dict):
        raise ValidationError("request body must be a JSON object")
    return data


def declared_length(header: str | None) -> int | None:
    """The body length a ``Content-Length`` header declares (None when absent)."""
    if header is None:
        return None
    text = header.strip()
    if not text.isdigit() or not text.isascii():
        raise ValidationError(f"Content-Length {header[:40]!r} is not a byte count")
    return int(text)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with PayloadTooLarge beyond ``max_bytes``: at once when
    the declared ``Content-Length`` is larger, else as soon as the bytes received pass it
    (a chunked upload is never held in memory beyond the limit)."""
    length = declared_length(request.headers.get("content-length"))
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"request body of {length} bytes is above the "
                              f"{max_bytes}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body is above the {max_bytes}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object body (see :func:`parse_json_object`)."""
    return parse_json_object(await read_body(request, max_bytes))


def _one(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise ValidationError(f"query parameter {name!r} is given {len(values)} times")
    return values[0] if values else None


@overload
def query_str(params: QueryParams, name: str, default: str, *,
              max_length: int = 256) -> str: ...


@overload
def query_str(params: QueryParams, name: str, default: None = None, *,
              max_length: int = 256) -> str | None: ...


def query_str(params: QueryParams, name: str, default: str | None = None, *,
              max_length: int = 256) -> str | None:
    """A text parameter of at most ``max_length`` characters (``default`` when absent)."""
    value = _one(params, name)
    if value is None:
        return default
    if len(value) > max_length:
        raise ValidationError(f"query parameter {name!r} is longer than {max_length} "
                              "characters")
    return value


def query_int(params: QueryParams, name: str, default: int, *, minimum: int = 0,
              maximum: int = MAX_INT) -> int:
    """An integer parameter in ``minimum..maximum`` (decimal digits, optional sign)."""
    value = _one(params, name)
    if value is None:
        return default
    text = value.strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise ValidationError(f"query parameter {name!r} must be an integer, got "
                              f"{value[:40]!r}")
    number = int(text)
    if not minimum <= number <= maximum:
        raise ValidationError(f"query parameter {name!r} must be in {minimum}..{maximum}, "
                              f"got {number}")
    return number


@overload
def query_float(params: QueryParams, name: str, default: float, *,
                minimum: float = -math.inf, maximum: float = math.inf) -> float: ...


@overload
def query_float(params: QueryParams, name: str, default: None, *,
                minimum: float = -math.inf, maximum: float = math.inf) -> float | None: ...


def query_float(params: QueryParams, name: str, default: float | None, *,
                minimum: float = -math.inf, maximum: float = math.inf) -> float | None:
    """A finite number parameter in ``minimum..maximum`` (``default`` when absent)."""
    value = _one(params, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(f"query parameter {name!r} must be a number, got "
                              f"{value[:40]!r}") from None
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise ValidationError(f"query parameter {name!r} must be a finite number in "
                              f"{minimum:g}..{maximum:g}, got {value[:40]!r}")
    return number


def query_choice(params: QueryParams, name: str, choices: type[E]) -> E | None:
    """A parameter naming one member of the string enum ``choices`` (by value)."""
    value = _one(params, name)
    if value is None:
        return None
    try:
        return choices(value)
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise ValidationError(f"query parameter {name!r} must be one of {allowed}; got "
                              f"{value[:40]!r}") from None


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, infinities) replaced by None, so that it
    is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_response(data: Any, status_code: int = 200) -> JSONResponse:
    """A JSON response of ``data`` (non-finite floats written as null)."""
    return JSONResponse(json_safe(data), status_code=status_code)
