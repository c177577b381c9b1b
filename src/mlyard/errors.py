"""One exception tree for mlyard.

Every error a user can cause is an :class:`MlyardError` subclass with a stable ``code`` and the
HTTP status a server maps it to (one table, :data:`HTTP_STATUS`). HTTP clients turn an error
response back into its class by the ``ErrorCode`` it carries (:func:`error_class`). The CLI
prints ``error: <msg>`` and exits with status 2 for user errors, 1 for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class MlyardError(Exception):
    """Base class of every error mlyard raises on purpose."""

    code = "InternalFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(MlyardError, ValueError):
    """The request or its input is malformed (bad hyperparameter, missing column, ...)."""

    code = "ValidationError"


class DataError(ValidationError):
    """An input data file is empty, malformed or lacks a required column."""

    code = "DataError"


class NotFoundError(MlyardError, LookupError):
    """A named resource (job, model, table) does not exist."""

    code = "ResourceNotFound"


class ConflictError(MlyardError):
    """A resource with that name already exists, or its state forbids the operation."""

    code = "ResourceInUse"


class SQLQueryError(ValidationError):
    """A SQL statement failed to parse, bind or run."""

    code = "QueryFailed"


class JobFailedError(MlyardError):
    """A job ended Failed or Stopped while the caller was waiting for it to complete."""

    code = "JobFailed"


class WorkspaceError(MlyardError):
    """The workspace database or artifact store is unusable (bad URL, newer schema, ...)."""

    code = "WorkspaceError"


class PayloadTooLarge(ValidationError):
    """A request body is larger than the server accepts."""

    code = "PayloadTooLarge"


class UnsupportedMediaType(ValidationError):
    """The request's content type is not one the endpoint decodes."""

    code = "UnsupportedMediaType"


class NotAcceptable(ValidationError):
    """No type the endpoint can produce is acceptable to the client (``Accept``)."""

    code = "NotAcceptable"


class ModelError(MlyardError):
    """The model failed on a request (SageMaker Runtime's ModelError)."""

    code = "ModelError"


class ServiceUnavailable(MlyardError):
    """No replica can take the request now (overloaded or starting)."""

    code = "ServiceUnavailable"


HTTP_STATUS: dict[type[MlyardError], int] = {
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    NotAcceptable: 406,
    ModelError: 424,
    ServiceUnavailable: 503,
    ValidationError: 400,
    DataError: 400,
    SQLQueryError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    JobFailedError: 424,
    WorkspaceError: 500,
    MlyardError: 500,
}


def http_status(exc: MlyardError) -> int:
    """The HTTP status for ``exc``: the entry of its nearest class in :data:`HTTP_STATUS`."""
    for cls in type(exc).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


#: Each class of :data:`HTTP_STATUS` by its ``code``: what an HTTP client raises for an error
#: response's ``ErrorCode`` (the base class's code is ``InternalFailure``).
ERROR_CLASSES: dict[str, type[MlyardError]] = {cls.code: cls for cls in HTTP_STATUS}


def error_class(code: str) -> type[MlyardError]:
    """The error class whose ``code`` is ``code``; :class:`MlyardError` for unknown codes."""
    return ERROR_CLASSES.get(code, MlyardError)


#: Pydantic error types whose context gives a bound: ``must be >= 1``.
_BOUNDS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"),
           "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}


def _value_text(value: Any) -> str | None:
    """A scalar input as a message quotes it (None for containers: they say nothing)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return None


def _problem(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", ""))
    got = _value_text(err.get("input"))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind in _BOUNDS:
        key, op = _BOUNDS[kind]
        text = f"must be {op} {ctx.get(key)}"
    elif kind == "literal_error":
        text = f"must be {ctx.get('expected')}"
    else:
        text = msg.replace("Input should be", "must be", 1)
    if got is None:
        return text
    return f"{text}: {got}" if ", got " in text else f"{text}, got {got}"


def _location(loc: Any) -> str:
    out = ""
    for part in loc or ():
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        name = str(part) if str(part).isidentifier() else repr(str(part))
        out += f".{name}" if out else name
    return out


def problem_text(exc: BaseException) -> str:
    """``exc`` as one line for a user.

    A pydantic ``ValidationError`` (anything with an ``errors()`` list) becomes
    ``field: problem, got value`` per error, joined by ``; ``
    (``resources.instance_count: must be >= 1, got 0``) instead of pydantic's multi-line dump
    with its links; any other exception is its message on one line.
    """
    errors: Callable[..., Any] | None = getattr(exc, "errors", None)
    if callable(errors):
        try:
            items = list(errors(include_url=False))
        except TypeError:
            items = []
        parts = []
        for err in items:
            if not isinstance(err, Mapping):
                continue
            where, problem = _location(err.get("loc")), _problem(err)
            parts.append(f"{where}: {problem}" if where else problem)
        if parts:
            text = "; ".join(parts)
            return " ".join(text.split()) if "\n" in text else text
    message = exc.message if isinstance(exc, MlyardError) else str(exc)
    return " ".join(message.split()) if "\n" in message else message
