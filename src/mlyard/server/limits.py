"""The HTTP server's limits on bodies, headers and idle connections, from ``MLYARD_*``
variables (kept apart from uvicorn and Starlette so that clients import it cheaply).

| limit | variable | default |
|---|---|---|
| control-plane body | ``MLYARD_MAX_CONTROL_BODY_BYTES`` | 1 MiB (at most the invocation limit) |
| request line + headers | ``MLYARD_MAX_HEADER_BYTES`` | 64 KiB (431 above) |
| time to send a request's headers | ``MLYARD_HEADER_TIMEOUT`` | 10 s (then closed) |
| idle keep-alive connection | ``MLYARD_KEEPALIVE_TIMEOUT`` | 5 s (then closed) |

Invocation bodies keep ``MLYARD_MAX_BODY_BYTES`` (6 MB, SageMaker's); bodies are counted
while they stream in (:func:`mlyard.server.wire.read_body`), so a chunked upload is cut at
the limit with 413.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mlyard.errors import ValidationError

#: Default largest control-plane body (endpoint configs, weights, policies, reports).
CONTROL_BODY_BYTES = 1 << 20
#: Default largest request line + headers (bytes).
MAX_HEADER_BYTES = 64 * 1024
#: Default seconds a client has to send a request's header section.
HEADER_TIMEOUT = 10.0
#: Default seconds an idle keep-alive connection stays open.
KEEPALIVE_TIMEOUT = 5.0


@dataclass(frozen=True)
class ServerLimits:
    """Connection and body limits of the HTTP server (see :mod:`mlyard.server.protocol`)."""

    control_body_bytes: int = CONTROL_BODY_BYTES
    max_header_bytes: int = MAX_HEADER_BYTES
    header_timeout: float = HEADER_TIMEOUT
    keepalive_timeout: float = KEEPALIVE_TIMEOUT

    @classmethod
    def from_env(cls) -> ServerLimits:
        """From ``MLYARD_MAX_CONTROL_BODY_BYTES``, ``MLYARD_MAX_HEADER_BYTES``,
        ``MLYARD_HEADER_TIMEOUT`` and ``MLYARD_KEEPALIVE_TIMEOUT`` (bytes / seconds)."""
        d = cls()
        return cls(
            control_body_bytes=int(_env_number("MLYARD_MAX_CONTROL_BODY_BYTES",
                                               d.control_body_bytes, integer=True)),
            max_header_bytes=int(_env_number("MLYARD_MAX_HEADER_BYTES", d.max_header_bytes,
                                             integer=True)),
            header_timeout=_env_number("MLYARD_HEADER_TIMEOUT", d.header_timeout),
            keepalive_timeout=_env_number("MLYARD_KEEPALIVE_TIMEOUT", d.keepalive_timeout))


def _env_number(name: str, default: float, *, integer: bool = False) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise ValidationError(f"{name} must be a positive "
                              f"{'integer' if integer else 'number'}, got {text[:40]!r}"
                              ) from None
    if not 0 < value < float("inf"):
        raise ValidationError(f"{name} must be positive and finite, got {text[:40]!r}")
    return value
