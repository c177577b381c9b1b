"""Bounded bodies, headers and idle connections on a real server (issue 10, item 6): the
limits hold while bytes arrive, not after."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from mlyard.config import Settings
from tests.integration.server.serverproc import running_server

LIMITS = {"MLYARD_MAX_BODY_BYTES": str(1 << 20), "MLYARD_MAX_CONTROL_BODY_BYTES": "65536",
          "MLYARD_MAX_HEADER_BYTES": "16384", "MLYARD_HEADER_TIMEOUT": "1",
          "MLYARD_KEEPALIVE_TIMEOUT": "1"}


def _chunked_upload(port: int, path: str, content_type: str, total: int) -> tuple[int, bytes]:
    """Send ``total`` bytes chunked; (bytes sent before the server answered or cut the
    connection, the start of its answer)."""
    chunk = b"x" * 65536
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked"
                     f"\r\nContent-Type: {content_type}\r\n\r\n".encode())
        try:
            while sent < total:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
        except OSError:  # the server closed the connection: it stopped reading
            pass
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
        return sent, answer


def test_chunked_uploads_are_cut_at_the_limit(settings: Settings, tmp_path: Path) -> None:
    total = 20 << 20
    with running_server(settings, tmp_path, extra_env=LIMITS) as server:
        sent, answer = _chunked_upload(server.port, "/endpoints/e/invocations", "text/csv",
                                       total)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"connection: close" in answer.lower()
        # the server stopped reading: far less than the 20 MB got through (socket
        # buffers hold a few MB at most)
        assert sent < total // 2, sent
        sent, answer = _chunked_upload(server.port, "/api/endpoint-configs",
                                       "application/json", total)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"65536-byte limit" in answer and sent < total // 2
        # a control body between the control and the invocation limit is refused too
        with httpx.Client(base_url=server.url, timeout=30) as http:
            r = http.post("/api/endpoint-configs", content=b"{" + b" " * 100_000 + b"}",
                          headers={"Content-Type": "application/json"})
            assert r.status_code == 413 and r.json()["ErrorCode"] == "PayloadTooLarge"
            assert http.get("/ping").status_code == 200
    assert "Traceback" not in server.log_text()


def test_oversize_header_is_refused(settings: Settings, tmp_path: Path) -> None:
    with running_server(settings, tmp_path, extra_env=LIMITS) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            try:  # 8 MB of header: the server answers and closes long before the end
                sock.sendall(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
                for _ in range(128):
                    sock.sendall(b"a" * 65536)
            except OSError:
                pass
            assert sock.recv(4096).startswith(b"HTTP/1.1 431")
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/ping", headers={"X-Ok": "a" * 8000}).status_code == 200
            assert http.get("/ping", headers={"X-Big": "a" * 20000}).status_code == 431
    assert "Traceback" not in server.log_text() and "Invalid HTTP" not in server.log_text()


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closes ``sock`` (recv returns b""); fails after
    ``seconds``."""
    start = time.monotonic()
    sock.settimeout(seconds)
    while True:
        data = sock.recv(4096)
        if not data:
            return time.monotonic() - start


def test_idle_and_partial_sockets_are_closed(settings: Settings, tmp_path: Path) -> None:
    with running_server(settings, tmp_path, extra_env=LIMITS) as server:
        addr = ("127.0.0.1", server.port)
        with socket.create_connection(addr) as silent, \
                socket.create_connection(addr) as partial, \
                socket.create_connection(addr) as kept:
            partial.sendall(b"GET /ping HTTP/1.1\r\nHost: local")
            kept.sendall(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert kept.recv(4096).startswith(b"HTTP/1.1 200")
            assert _closed_within(silent, 10) < 5
            assert _closed_within(partial, 10) < 5
            assert _closed_within(kept, 10) < 5
            # a slow but steady sender of headers is cut at the header timeout as well
            with socket.create_connection(addr) as drip:
                drip.sendall(b"GET /ping HTTP/1.1\r\n")
                start = time.monotonic()
                try:
                    for _ in range(50):
                        drip.sendall(b"X-A: b\r\n")
                        time.sleep(0.1)
                except OSError:
                    pass
                assert time.monotonic() - start < 4
