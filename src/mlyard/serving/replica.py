"""A model replica: one process that loads a model once and serves predictions over a socket.

Run as ``python -m mlyard.serving.replica --model-dir D --socket PATH [--top-k-default 1]
[--max-instances 1000] [--max-batch 64] [--accept-timeout 300]``.
:class:`mlyard.serving.pool.ReplicaPool` starts and supervises replicas; nothing else needs
to talk to one.

Start-up
    The replica loads the model (:func:`mlyard.models.load_model`), warms it up (one
    prediction on a dummy text for text models; failures ignored), freezes the garbage
    collector's view of the loaded objects, and only then binds ``PATH`` (a Unix domain
    stream socket; a stale file is replaced), listens and prints one line
    ``mlyard-replica ready pid=<pid> socket=<path>`` to stdout. A replica that fails to
    load its model prints the traceback to stderr and exits with status 1. It accepts
    exactly **one** connection (the pool's) and exits (status 0) when that connection
    reaches end-of-file, so a replica never outlives its pool's connection; before a
    connection arrives it exits if its parent process goes away or after
    ``--accept-timeout`` seconds (default 300). ``SIGTERM`` ends it at once.

Frames
    Every frame, both ways, is ``u32 length`` (little-endian, the number of bytes that follow)
    and a fixed header followed by variable parts; all integers are little-endian.

    Request frame (pool → replica), header ``<IBQHH`` (17 bytes)::

        u32 length | u8 kind | u64 request_id | u16 len(content_type) | u16 len(accept)
        | content_type (UTF-8) | accept (UTF-8) | body (raw request bytes, rest of frame)

    Response frame (replica → pool), header ``<IBQHdH`` (25 bytes)::

        u32 length | u8 kind | u64 request_id | u16 status | f64 model_seconds
        | u16 len(content_type) | content_type (UTF-8) | body (rest of frame)

    ``kind`` is :data:`KIND_INVOKE` (1) or :data:`KIND_PING` (2); a response repeats the kind
    and the request id of its request. Request ids are chosen by the pool and only need to
    be unique among the requests in flight on the connection.

    * **invoke**: the body is decoded with :func:`mlyard.serving.codec.decode_instances`
      (the content type given), predicted with ``model.predict(instances, top_k)``
      (``top_k`` from JSON ``configuration.k``, else ``--top-k-default``) and encoded with
      :func:`mlyard.serving.codec.encode_predictions` (the accept given). Status 200 with
      the encoded predictions; on failure a JSON body ``{"ErrorCode": ..., "Message": ...}``
      with status 400 (``ValidationError``: malformed payload, or input the model rejects
      with :class:`mlyard.errors.ValidationError`), 415 (``UnsupportedMediaType``), 406
      (``NotAcceptable``), 424 (``ModelError``: ``predict`` raised anything else) or 500
      (``InternalFailure``: the predictions could not be encoded). ``model_seconds`` is the
      time spent in ``predict`` (0 when it was not called). A payload is the client's
      business: whatever decoding it raises (a ``RecursionError`` or ``MemoryError`` on
      hostile input included) is a 400 answer, never the end of the replica, so the pool
      never resends it (it resends only requests whose replica died).
    * **invoke, handler models** (the model has ``invoke_raw``, e.g.
      :class:`mlyard.models.handler.HandlerModel`): the raw body, content type and accept go
      to ``model.invoke_raw`` unchanged, one request at a time (no dynamic batching); its
      ``(body, content type)`` is the 200 response; ``ValidationError`` gives its status
      (400/415/406) and ``ModelError`` or any other exception 424.
    * **ping**: status 200, content type ``application/json``, body
      ``{"ok": true, "pid": ..., "requests": <invocations answered>, "rss_bytes": ...,
      "cpu_seconds": <user + system>, "flavor": ...}``. The request's content type, accept
      and body are ignored (send them empty).

Processing
    Invocations are processed in arrival order by one thread (prediction is CPU-bound; one
    replica is one core). The replica reads ahead: it receives whatever the socket holds in
    large chunks (256 KiB), queues every complete invoke frame, and after each batch takes
    in what arrived meanwhile (without blocking when work is still queued), so a pipelining
    client never finds the socket full while requests are queued. Pings are answered as
    soon as they are read, ahead of queued invocations, so a health check waits at most for
    the batch being computed.

    **Dynamic batching**: when several invocations are already queued (the replica never
    waits for more), their instances go to one ``predict`` call (one call per distinct
    ``top_k``), up to ``--max-batch`` instances (default :data:`MAX_BATCH`; a larger single
    request runs alone; ``--max-batch 1`` disables batching), and each request gets its own
    slice of the predictions, encoded for its own ``accept``. Per-request fixed costs
    (tokenizer set-up, sparse product, numpy calls) are paid once per batch, which is what
    lets a loaded replica answer several times more requests per second than a
    one-request-at-a-time loop. A batch's responses are written with one ``send``; every
    request of it reports the batch's ``predict`` time as its ``model_seconds``. Should the
    shared call fail, each request of the batch is predicted alone, so only a failing
    request gets an error. Batched predictions equal one-by-one ones up to float32
    rounding (the model's matrix products see a different batch shape).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import struct
import sys
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlyard.errors import HTTP_STATUS, MlyardError, ValidationError, http_status
from mlyard.serving.codec import (
    MAX_INSTANCES,
    ModelError,
    decode_instances,
    encode_predictions,
    error_body,
    negotiate,
)

KIND_INVOKE = 1
KIND_PING = 2

#: Request header: length, kind, request id, len(content type), len(accept).
REQUEST_HEADER = struct.Struct("<IBQHH")
#: Response header: length, kind, request id, status, model seconds, len(content type).
RESPONSE_HEADER = struct.Struct("<IBQHdH")

READY_PREFIX = "mlyard-replica ready"
#: Default cap on the instances one ``predict`` call of a dynamic batch holds.
MAX_BATCH = 64
_RECV_SIZE = 1 << 18
_JSON_TYPE = b"application/json"
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def encode_request(kind: int, request_id: int, content_type: bytes, accept: bytes,
                   body: bytes) -> bytes:
    """One request frame (see the module docstring)."""
    return REQUEST_HEADER.pack(REQUEST_HEADER.size - 4 + len(content_type) + len(accept)
                               + len(body), kind, request_id, len(content_type),
                               len(accept)) + content_type + accept + body


def encode_response(kind: int, request_id: int, status: int, model_seconds: float,
                    content_type: bytes, body: bytes) -> bytes:
    """One response frame (see the module docstring)."""
    return RESPONSE_HEADER.pack(RESPONSE_HEADER.size - 4 + len(content_type) + len(body),
                                kind, request_id, status, model_seconds,
                                len(content_type)) + content_type + body


def rss_bytes() -> int:
    """This process's resident set size in bytes (``/proc/self/statm``, else peak RSS)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def cpu_seconds() -> float:
    """User plus system CPU seconds this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Request:
    """A decoded invocation waiting for its prediction."""

    rid: int
    accept: str
    instances: list[Any]
    top_k: int


class ReplicaServer:
    """Serves one connection's frames with one loaded model (see the module docstring)."""

    def __init__(self, model: Any, *, top_k_default: int = 1,
                 max_instances: int = MAX_INSTANCES, max_batch: int = MAX_BATCH) -> None:
        self.model = model
        self.top_k_default = top_k_default
        self.max_instances = max_instances
        self.max_batch = max(1, max_batch)
        self.requests = 0
        self.batches = 0
        self.flavor = str(getattr(getattr(model, "manifest", None), "flavor", ""))
        raw = getattr(model, "invoke_raw", None)
        #: Handler models (``invoke_raw``) get the raw payload, one request at a time.
        self._raw: Any = raw if callable(raw) else None
        self._pending: deque[tuple[int, str, str, bytes]] = deque()
        self._carry: _Request | None = None
        self._buf = bytearray()

    # -- one request -----------------------------------------------------------------------
    def _decode(self, rid: int, content_type: str, accept: str,
                body: bytes) -> _Request | bytes:
        """The decoded request, or the error response frame for an undecodable one."""
        try:
            instances, params = decode_instances(body, content_type,
                                                 max_instances=self.max_instances)
            negotiate(accept)
        except ValidationError as exc:
            return encode_response(KIND_INVOKE, rid, http_status(exc), 0.0,
                                   _JSON_TYPE, error_body(exc.code, exc.message))
        except Exception as exc:  # a decoder failing on hostile input: still the client's
            return encode_response(KIND_INVOKE, rid, HTTP_STATUS[ValidationError], 0.0,
                                   _JSON_TYPE, error_body(ValidationError.code, (
                                       "cannot decode the request body: "
                                       f"{type(exc).__name__}: {exc}")))
        return _Request(rid, accept, instances, params.get("top_k", self.top_k_default))

    def _predict(self, instances: list[Any], top_k: int) -> tuple[list[dict[str, Any]] | None,
                                                                  int, bytes, float]:
        """``(predictions, status, error body, seconds)``; predictions None on failure."""
        started = time.perf_counter()
        try:
            preds = self.model.predict(instances, top_k)
        except ValidationError as exc:
            return (None, http_status(exc), error_body(exc.code, exc.message),
                    time.perf_counter() - started)
        except Exception as exc:  # any other model failure is the client's 424
            message = exc.message if isinstance(exc, MlyardError) else str(exc)
            return (None, HTTP_STATUS[ModelError],
                    error_body(ModelError.code, f"{type(exc).__name__}: {message}"),
                    time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if not isinstance(preds, list) or len(preds) != len(instances):
            return (None, 500, error_body("InternalFailure", "the model returned "
                                          f"{_count(preds)} for {len(instances)} instances"),
                    seconds)
        return preds, 200, b"", seconds

    def _run_raw(self, rid: int, content_type: str, accept: str, body: bytes) -> bytes:
        """Answer one request of a handler model with its ``invoke_raw``."""
        started = time.perf_counter()
        try:
            out, out_type = self._raw(body, content_type, accept)
        except ValidationError as exc:
            status, out_type, out = http_status(exc), "application/json", error_body(
                exc.code, exc.message)
        except ModelError as exc:
            status, out_type, out = HTTP_STATUS[ModelError], "application/json", error_body(
                ModelError.code, exc.message)
        except Exception as exc:  # any other failure is the client's 424
            message = exc.message if isinstance(exc, MlyardError) else str(exc)
            status, out_type, out = HTTP_STATUS[ModelError], "application/json", error_body(
                ModelError.code, f"{type(exc).__name__}: {message}")
        else:
            status = 200
        return encode_response(KIND_INVOKE, rid, status, time.perf_counter() - started,
                               str(out_type).encode(), bytes(out))

    @staticmethod
    def _respond(req: _Request, preds: list[dict[str, Any]], seconds: float) -> bytes:
        try:
            out, out_type = encode_predictions(preds, req.accept)
        except Exception as exc:  # predictions the codec cannot render
            return encode_response(KIND_INVOKE, req.rid, 500, seconds, _JSON_TYPE, error_body(
                "InternalFailure", f"cannot encode the predictions: {exc}"))
        return encode_response(KIND_INVOKE, req.rid, 200, seconds, out_type.encode(), out)

    def _run_one(self, req: _Request) -> bytes:
        preds, status, error, seconds = self._predict(req.instances, req.top_k)
        if preds is None:
            return encode_response(KIND_INVOKE, req.rid, status, seconds, _JSON_TYPE, error)
        return self._respond(req, preds, seconds)

    def invoke(self, content_type: str, accept: str, body: bytes) -> tuple[int, bytes, bytes,
                                                                            float]:
        """Answer one invocation alone: ``(status, content type, body, model seconds)``."""
        if self._raw is not None:
            frame = self._run_raw(0, content_type, accept, body)
        else:
            decoded = self._decode(0, content_type, accept, body)
            frame = decoded if isinstance(decoded, bytes) else self._run_one(decoded)
        _, _, _, status, seconds, ct_len = RESPONSE_HEADER.unpack_from(frame)
        start = RESPONSE_HEADER.size
        return status, frame[start:start + ct_len], frame[start + ct_len:], seconds

    # -- batches ---------------------------------------------------------------------------
    def _next_batch(self, out: list[bytes]) -> list[_Request]:
        """Decode queued invocations until they hold ``max_batch`` instances (at least one
        request); undecodable ones are answered into ``out`` at once."""
        batch: list[_Request] = []
        total = 0
        pending = self._pending
        if self._raw is not None:  # handler model: one raw request, no batching
            if pending:
                out.append(self._run_raw(*pending.popleft()))
                self.requests += 1
            return batch
        while self._carry is not None or pending:
            if self._carry is not None:
                req, self._carry = self._carry, None
            else:
                decoded = self._decode(*pending.popleft())
                if isinstance(decoded, bytes):
                    out.append(decoded)
                    self.requests += 1
                    continue
                req = decoded
            if batch and total + len(req.instances) > self.max_batch:
                self._carry = req
                break
            batch.append(req)
            total += len(req.instances)
            if total >= self.max_batch:
                break
        return batch

    def _run_batch(self, batch: list[_Request], out: list[bytes]) -> None:
        """Predict a batch, one ``predict`` call per distinct ``top_k``; if a shared call
        fails, every request of it is predicted alone so only the culprit fails."""
        self.requests += len(batch)
        if len(batch) == 1:
            out.append(self._run_one(batch[0]))
            return
        groups: dict[int, list[_Request]] = {}
        for req in batch:
            groups.setdefault(req.top_k, []).append(req)
        for top_k, reqs in groups.items():
            if len(reqs) == 1:
                out.append(self._run_one(reqs[0]))
                continue
            instances = [x for req in reqs for x in req.instances]
            preds, _, _, seconds = self._predict(instances, top_k)
            if preds is None:
                out.extend(self._run_one(req) for req in reqs)
                continue
            self.batches += 1
            start = 0
            for req in reqs:
                end = start + len(req.instances)
                out.append(self._respond(req, preds[start:end], seconds))
                start = end

    # -- the connection --------------------------------------------------------------------
    def ping(self) -> bytes:
        """The health document a ping answers with."""
        return json.dumps({"ok": True, "pid": os.getpid(), "requests": self.requests,
                           "batches": self.batches, "rss_bytes": rss_bytes(),
                           "cpu_seconds": cpu_seconds(), "flavor": self.flavor}).encode()

    def _parse(self, conn: socket.socket) -> None:
        """Consume the complete frames in the buffer: answer pings, queue invocations."""
        buf = self._buf
        size = len(buf)
        pos = 0
        header = REQUEST_HEADER
        while size - pos >= header.size:
            length, kind, rid, ct_len, acc_len = header.unpack_from(buf, pos)
            end = pos + 4 + length
            if end > size:
                break
            start = pos + header.size
            if kind == KIND_INVOKE:
                acc_start = start + ct_len
                body_start = acc_start + acc_len
                self._pending.append((rid, buf[start:acc_start].decode("utf-8", "replace"),
                                      buf[acc_start:body_start].decode("utf-8", "replace"),
                                      bytes(buf[body_start:end])))
            elif kind == KIND_PING:
                conn.sendall(encode_response(KIND_PING, rid, 200, 0.0, _JSON_TYPE, self.ping()))
            else:  # unknown kind: answer it so the caller does not wait forever
                conn.sendall(encode_response(kind, rid, 400, 0.0, _JSON_TYPE, error_body(
                    "ValidationError", f"unknown frame kind {kind}")))
            pos = end
        if pos:
            del buf[:pos]

    def _read_ahead(self, conn: socket.socket) -> bool:
        """Receive what the socket holds without blocking; False once the peer closed."""
        while True:
            try:
                data = conn.recv(_RECV_SIZE, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return True
            if not data:
                return False
            self._buf += data
            if len(data) < _RECV_SIZE:
                return True

    def serve(self, conn: socket.socket) -> None:
        """Serve ``conn`` until its peer closes it."""
        open_ = True
        out: list[bytes] = []
        while True:
            if not self._pending and self._carry is None:
                if not open_:
                    return
                data = conn.recv(_RECV_SIZE)
                if not data:
                    return
                self._buf += data
                self._parse(conn)
                continue
            batch = self._next_batch(out)
            if batch:
                self._run_batch(batch, out)
            if out:
                conn.sendall(out[0] if len(out) == 1 else b"".join(out))
                out.clear()
            if open_ and (self._pending or self._carry is not None):
                # more work queued: take in what arrived meanwhile (batches it, answers
                # pings); with nothing queued the blocking receive above does that
                open_ = self._read_ahead(conn)
                if self._buf:
                    self._parse(conn)


def _count(preds: Any) -> str:
    return f"{len(preds)} predictions" if isinstance(preds, list) else \
        f"a {type(preds).__name__}"


def _warm_up(model: Any) -> None:
    if getattr(getattr(model, "manifest", None), "input_type", "") != "text":
        return
    with contextlib.suppress(Exception):
        model.predict(["warm up"], 1)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _accept(server: socket.socket, timeout: float) -> socket.socket | None:
    """Wait for the pool's connection; None if the parent died or ``timeout`` passed."""
    parent = os.getppid()
    deadline = time.monotonic() + timeout
    server.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            conn, _ = server.accept()
        except TimeoutError:
            if os.getppid() != parent:
                return None
            continue
        conn.settimeout(None)
        return conn
    return None


def main(argv: list[str] | None = None) -> int:
    """Load the model, listen on the socket, serve the pool's connection."""
    parser = argparse.ArgumentParser(prog="python -m mlyard.serving.replica",
                                     description="Serve one model over a Unix socket.")
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--top-k-default", type=int, default=1)
    parser.add_argument("--max-instances", type=int, default=MAX_INSTANCES)
    parser.add_argument("--max-batch", type=int, default=MAX_BATCH,
                        help="most instances per predict call of a dynamic batch; 1 disables "
                        "batching")
    parser.add_argument("--accept-timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool stops replicas, not Ctrl-C

    from mlyard.models.base import load_model
    from mlyard.models.flavors import ModelLoadError

    try:
        model = load_model(args.model_dir)
    except ModelLoadError as exc:  # a refused manifest: one line, no traceback
        print(f"mlyard-replica: {exc}", file=sys.stderr, flush=True)
        return 1
    except Exception:  # reported to the pool through the log and exit status
        traceback.print_exc()
        print(f"mlyard-replica: cannot load the model in {args.model_dir}", file=sys.stderr,
              flush=True)
        return 1
    _warm_up(model)
    gc.collect()
    gc.freeze()  # the model's objects never need scanning again

    path: Path = args.socket
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server.bind(str(path))
        server.listen(1)
        print(f"{READY_PREFIX} pid={os.getpid()} socket={path}", flush=True)
        conn = _accept(server, args.accept_timeout)
        if conn is None:
            return 0
        server.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with conn:
            ReplicaServer(model, top_k_default=args.top_k_default,
                          max_instances=args.max_instances,
                          max_batch=args.max_batch).serve(conn)
    except (BrokenPipeError, ConnectionResetError):
        return 0
    finally:
        server.close()
        with contextlib.suppress(OSError):
            if path.is_socket():
                path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
