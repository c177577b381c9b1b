"""uvicorn's httptools protocol with limits on what a connection may hold before a request
reaches the app.

uvicorn (with ``http="httptools"``) bounds neither the size of a request's header section
nor the time a client may take to send it: an 8 MB header is parsed and kept, and a socket
that connects and sends nothing (or half a request line) stays open for ever. This
subclass adds both:

- **header size**: the bytes of the request line and headers are counted while they
  arrive (each parsed line exactly, and every read that ends inside the header section,
  so one huge header is cut too); past ``max_header_bytes`` the server answers ``431
  Request Header Fields Too Large`` and closes the connection before the request reaches
  the app (the parser never holds more than the limit plus one read);
- **header timeout**: from the moment a connection opens, and from the first byte of each
  further request on it, the header section must be complete within ``header_timeout``
  seconds, else the connection is closed. Between requests uvicorn's own keep-alive
  timeout (``timeout_keep_alive``) closes idle connections.

Request bodies are bounded by the routes while they stream them
(:func:`mlyard.server.wire.read_body`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mlyard.server.limits import HEADER_TIMEOUT, MAX_HEADER_BYTES


class _HeadersTooLarge(Exception):
    """Raised from a parser callback to stop parsing a refused request."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a header size limit and a header-read timeout
    (class attributes, set by :func:`limited_protocol`)."""

    max_header_bytes: int = MAX_HEADER_BYTES
    header_timeout: float = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0  # reads that ended inside the current header section
        self._parsed_bytes = 0  # request line and headers parsed so far (exact)
        self._in_headers = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout,
                                                      self._header_timed_out)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_headers = True
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, except that a request refused here is not also logged and
        # answered as "Invalid HTTP request"
        if self._refused:
            return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if not self._refused:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_headers and not self._refused:
            # the whole read went to a header section still incomplete
            self._header_bytes += len(data)
            if self._header_bytes > self.max_header_bytes:
                self._refuse_headers()

    def _refuse_headers(self) -> None:
        self._refused = True
        self._disarm_header_timer()
        body = (f"request header section above the {self.max_header_bytes}-byte limit"
                .encode())
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             b"content-type: text/plain; charset=utf-8\r\n"
                             b"content-length: " + str(len(body)).encode() + b"\r\n"
                             b"connection: close\r\n\r\n" + body)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_bytes = 0
        self._parsed_bytes = 0
        self._arm_header_timer()

    def _count(self, size: int) -> None:
        self._parsed_bytes += size
        if self._parsed_bytes > self.max_header_bytes:
            self._refuse_headers()
            raise _HeadersTooLarge  # stops the parser: the request never reaches the app

    def on_url(self, url: bytes) -> None:
        self._count(len(url) + 16)  # the method, version and separators
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._disarm_header_timer()
        super().on_headers_complete()


def limited_protocol(max_header_bytes: int = MAX_HEADER_BYTES,
                     header_timeout: float = HEADER_TIMEOUT) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with these limits."""
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,),
                {"max_header_bytes": max_header_bytes, "header_timeout": header_timeout})
