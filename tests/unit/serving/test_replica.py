"""The replica's request handling (:mod:`mlyard.serving.replica`) in-process, over a
socket pair: hostile payloads are answered with a 400 and never end the serving loop."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

import mlyard.serving.replica as replica
from mlyard.models import load_model
from mlyard.serving.replica import (
    KIND_INVOKE,
    RESPONSE_HEADER,
    ReplicaServer,
    encode_request,
)
from mlyard.testing.models import save_test_model

JSON = b"application/json"
NESTED = b"[" * 3000 + b"]" * 3000


@pytest.fixture
def server(tmp_path: Path) -> ReplicaServer:
    return ReplicaServer(load_model(save_test_model(tmp_path / "echo", "echo")))


def _serve(server: ReplicaServer, requests: list[tuple[int, bytes, bytes]]
           ) -> dict[int, tuple[int, dict[str, Any] | list[Any]]]:
    """Send ``(request id, content type, body)`` frames, serve until end-of-file, and return
    each answer's ``(status, decoded JSON body)`` by request id."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(b"".join(encode_request(KIND_INVOKE, rid, ctype, JSON, body)
                              for rid, ctype, body in requests))
        ours.shutdown(socket.SHUT_WR)
        server.serve(theirs)  # must return at end-of-file, not raise
        theirs.close()
        data = b""
        while chunk := ours.recv(65536):
            data += chunk
    answers = {}
    pos = 0
    while pos < len(data):
        length, _, rid, status, _, ct_len = RESPONSE_HEADER.unpack_from(data, pos)
        answers[rid] = (status, json.loads(data[pos + RESPONSE_HEADER.size + ct_len:
                                                pos + 4 + length]))
        pos += 4 + length
    return answers


def test_nested_json_is_a_400_and_the_next_request_is_served(server: ReplicaServer) -> None:
    good = b'{"instances": ["fine"]}'
    answers = _serve(server, [(1, JSON, NESTED), (2, JSON, good),
                              (3, b"application/jsonlines", NESTED + b"\n"),
                              (4, JSON, b'{"instances": [' + NESTED + b"]}"), (5, JSON, good)])
    assert sorted(answers) == [1, 2, 3, 4, 5]
    for rid in (1, 3, 4):
        status, body = answers[rid]
        assert status == 400 and isinstance(body, dict)
        assert body["ErrorCode"] == "ValidationError" and "nested" in body["Message"]
    assert answers[2] == answers[5] == (200, [{"label": ["echo"], "prob": [1.0]}])
    status, _, body, _ = server.invoke("application/json", "application/json", NESTED)
    assert status == 400 and b"nested more than" in body


@pytest.mark.parametrize("exc", [MemoryError(), RecursionError("deep"), KeyError("x"),
                                 UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad byte")])
def test_any_decoder_failure_is_a_400(server: ReplicaServer, monkeypatch: pytest.MonkeyPatch,
                                      exc: BaseException) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(replica, "decode_instances", broken)
    answers = _serve(server, [(1, JSON, b'{"instances": ["a"]}'), (2, JSON, b"[1]")])
    for rid in (1, 2):
        status, body = answers[rid]
        assert status == 400 and isinstance(body, dict)
        assert body["ErrorCode"] == "ValidationError"
        assert body["Message"].startswith("cannot decode the request body: ")
        assert type(exc).__name__ in body["Message"]
