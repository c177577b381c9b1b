"""The server's one error table: every failed request answers ``{"ErrorCode", "Message"}``.

The app installs :data:`EXCEPTION_HANDLERS` as Starlette exception handlers, so routes just
raise:

- a :class:`~mlyard.errors.MlyardError` answers with its ``code`` and message, the status
  :func:`mlyard.errors.http_status` gives its class (400 validation, 404 unknown name,
  409 state, 413 too large, 415/406 media types, 424 model error, 503 overloaded) and the
  ``x-amzn-ErrorType`` header naming the code, which AWS SDKs (boto3) read;
- the router's own errors (no route: 404 ``UnknownOperation``; a route without that method:
  405 ``MethodNotAllowed``, with ``Allow``) answer the same JSON;
- any other exception is a bug: 500 ``InternalFailure`` naming the exception's type and
  message, never its traceback (Starlette re-raises it after answering, so the server log
  has the traceback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mlyard.errors import MlyardError, ValidationError, http_status

#: ErrorCode of the errors the router raises itself.
ROUTING_CODES: dict[int, str] = {404: "UnknownOperation", 405: "MethodNotAllowed"}
#: The code of a failure that is not an :class:`MlyardError` (a bug).
INTERNAL_FAILURE = MlyardError.code
#: Longest message an internal failure shows.
MAX_INTERNAL_MESSAGE = 500


def error_json(code: str, message: str, status: int,
               headers: Mapping[str, str] | None = None) -> JSONResponse:
    """The error response ``{"ErrorCode": code, "Message": message}`` with ``status``."""
    return JSONResponse({"ErrorCode": code, "Message": message}, status_code=status,
                        headers={**(headers or {}), "x-amzn-ErrorType": code})


def error_response(exc: Exception) -> JSONResponse:
    """The error response for any exception (see the module docstring)."""
    if isinstance(exc, MlyardError):
        return error_json(exc.code, exc.message, http_status(exc))
    if isinstance(exc, HTTPException):
        code = ROUTING_CODES.get(exc.status_code)
        if code is None:
            code = ValidationError.code if exc.status_code < 500 else INTERNAL_FAILURE
        return error_json(code, str(exc.detail), exc.status_code, exc.headers)
    message = f"{type(exc).__name__}: {exc}"[:MAX_INTERNAL_MESSAGE]
    return error_json(INTERNAL_FAILURE, message, 500)


async def handle(request: Request, exc: Exception) -> Response:
    """Starlette exception handler: :func:`error_response` (naming the method and path
    when no route matched)."""
    if isinstance(exc, HTTPException) and exc.status_code in ROUTING_CODES:
        what = "no operation" if exc.status_code == 404 else "method not allowed:"
        exc = HTTPException(exc.status_code, f"{what} {request.method} {request.url.path}",
                            exc.headers)
    return error_response(exc)


#: The app's exception handlers (MlyardError and HTTPException answer from the exception
#: middleware; ``Exception`` from the outermost server-error middleware).
EXCEPTION_HANDLERS: dict[Any, Any] = {MlyardError: handle, HTTPException: handle,
                                      Exception: handle}
