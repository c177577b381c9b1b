"""Endpoint data capture in SageMaker Model Monitor's format.

A :class:`CaptureWriter` records sampled requests and responses of one endpoint as JSON
Lines, one object per request, exactly as SageMaker data capture writes them::

    {"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                       "data": "1,2,3", "encoding": "CSV"},
                     "endpointOutput": {"observedContentType": "application/json",
                                        "mode": "OUTPUT", "data": "[...]",
                                        "encoding": "JSON"}},
     "eventMetadata": {"eventId": "...", "inferenceId": "...",
                       "inferenceTime": "2026-11-23T12:00:00Z"},
     "eventVersion": "0"}

(one line each in the files). ``data`` is the payload as text with encoding ``CSV`` or
``JSON`` when its content type is one of the configured CSV / JSON content types and it is
valid UTF-8, else its base64 with encoding ``BASE64``. ``inferenceId`` is present only when
the request carried one (as in SageMaker). A part the config does not capture
(``capture_options``) is left out of ``captureData``.

Files live at ``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`` (UTC,
the time the file was started, SageMaker's layout). A variant's file is rotated when it is
``rotation_seconds`` old or the hour changes; which file a record goes to is decided by the
writer's clock at :meth:`CaptureWriter.capture` time, so it does not depend on when the
buffer is flushed.

When records reach the disk: the flush policy (``FlushPolicy`` of the config)
    ``"interval"`` (the default): :meth:`CaptureWriter.capture` only appends a tuple to an
    in-memory list under a lock, and a daemon flusher thread serializes and writes the
    buffer every ``FlushIntervalSeconds`` (default 1 s; sooner when ``max_buffer`` records
    are waiting). Cheapest on the hot path, but **a crash of the server process (kill -9,
    OOM kill, power loss) loses the records of the last interval**: responses already sent
    whose records were still buffered (about one second of traffic by default). A clean
    stop (:meth:`CaptureWriter.close`, Ctrl-C, SIGTERM, interpreter exit) loses nothing.

    ``"every"``: :meth:`CaptureWriter.capture` encodes the record and appends it to its
    file (one ``write`` to the operating system) before it returns, and the endpoint
    router calls it before it sends the response; so every response a client received has
    its record in the file, even if the server process is killed right after. (The record
    is in the OS's page cache, not fsynced: it survives the process, not a power loss.) It
    costs one small ``write`` system call on the request path (measure it with
    ``bench/serving.py --capture-sync``).

Nothing written is ever corrupted: each write appends whole lines in one ``write`` call, so
writes never interleave and a file never holds half a line once the write returns. A process
killed in the middle of a write (or a write that fails half-way, e.g. on a full disk) can
leave a final line without its newline; :func:`read_capture` skips such a last line, and a
writer whose write failed starts a new file for that variant, so a torn line is always the
last one of its file and never joins a later record. (A reader racing a large write may also
see a prefix of it, since the OS copies it page by page; the same rule covers that.) Call
:meth:`CaptureWriter.close` (or use the writer as a context manager) to flush the rest; an
``atexit`` hook flushes writers left open at interpreter exit.
"""

from __future__ import annotations

import atexit
import base64
import heapq
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from mlyard.core.specs import Spec
from mlyard.errors import DataError

_log = logging.getLogger(__name__)

CaptureOption = Literal["Input", "Output"]
FlushPolicy = Literal["interval", "every"]

#: Content types captured as text with encoding ``CSV`` / ``JSON`` unless configured.
DEFAULT_CSV_CONTENT_TYPES = ("text/csv",)
DEFAULT_JSON_CONTENT_TYPES = (
    "application/json",
    "application/jsonlines",
    "application/x-ndjson",
    "application/jsonl",
)
#: Files per variant sort by their path; this is the pattern of a capture file's name.
FILE_SUFFIX = ".jsonl"


def _both() -> list[CaptureOption]:
    return ["Input", "Output"]


class DataCaptureConfig(Spec):
    """Data capture settings of an endpoint config (SageMaker's ``DataCaptureConfig``).

    Accepts SageMaker's field names too: ``EnableCapture``, ``InitialSamplingPercentage``,
    ``CaptureOptions`` (``[{"CaptureMode": "Input"}, ...]`` or ``["Input", ...]``),
    ``DestinationS3Uri`` and ``CaptureContentTypeHeader`` (``{"CsvContentTypes": [...],
    "JsonContentTypes": [...]}``). Unlike SageMaker, whose default without that header is
    base64 for everything, CSV and JSON payloads are captured as readable text by default.
    mlyard's own fields: ``RotationSeconds``, ``FlushPolicy`` (``"interval"``, the default,
    or ``"every"``: each record written before its response is sent; see the module
    docstring for what a crash can lose) and ``FlushIntervalSeconds`` (how long a record may
    wait in memory under ``"interval"``; default 1).
    """

    model_config = ConfigDict(loc_by_alias=True)

    enabled: bool = Field(default=False, alias="EnableCapture")
    sampling_percentage: float = Field(
        default=100.0, ge=0.0, le=100.0, alias="InitialSamplingPercentage"
    )
    capture_options: list[CaptureOption] = Field(
        default_factory=_both, min_length=1, alias="CaptureOptions"
    )
    #: Artifact URI the captured files belong to (the endpoint manager fills the default).
    destination: str | None = Field(default=None, alias="DestinationS3Uri")
    rotation_seconds: float = Field(default=3600.0, gt=0.0, le=86400.0,
                                    alias="RotationSeconds")
    csv_content_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CSV_CONTENT_TYPES), alias="CsvContentTypes"
    )
    json_content_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_JSON_CONTENT_TYPES), alias="JsonContentTypes"
    )
    flush_policy: FlushPolicy = Field(default="interval", alias="FlushPolicy")
    flush_interval_seconds: float = Field(default=1.0, gt=0.0, le=60.0,
                                          alias="FlushIntervalSeconds")

    @field_validator("flush_policy", mode="before")
    @classmethod
    def _policy(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _content_type_header(cls, data: Any) -> Any:
        if isinstance(data, dict) and "CaptureContentTypeHeader" in data:
            data = dict(data)
            header = data.pop("CaptureContentTypeHeader") or {}
            if not isinstance(header, dict):
                raise ValueError("CaptureContentTypeHeader must be an object")
            for key in ("CsvContentTypes", "JsonContentTypes"):
                if key in header:
                    data[key] = header[key]
            unknown = set(header) - {"CsvContentTypes", "JsonContentTypes"}
            if unknown:
                raise ValueError(f"unknown CaptureContentTypeHeader keys: {sorted(unknown)}")
        return data

    @field_validator("capture_options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        out: list[Any] = []
        for item in value:
            if isinstance(item, dict) and set(item) == {"CaptureMode"}:
                item = item["CaptureMode"]
            if isinstance(item, str):
                item = item.strip().capitalize()
            if item not in out:
                out.append(item)
        return out

    @field_validator("csv_content_types", "json_content_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return [_media_type(v) for v in value if v.strip()]


def _media_type(content_type: str) -> str:
    """``content_type`` without parameters, lower case (``Text/CSV; charset=x`` ->
    ``text/csv``)."""
    return content_type.split(";", 1)[0].strip().lower()


def iso_time(epoch: float) -> str:
    """``epoch`` as SageMaker's ``inferenceTime``: ``2026-11-23T12:00:00Z`` (UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def decode_data(part: dict[str, Any]) -> bytes:
    """The payload bytes of an ``endpointInput`` / ``endpointOutput`` entry."""
    data = part.get("data", "")
    if not isinstance(data, str):
        raise DataError(f"capture data must be a string, got {type(data).__name__}")
    if part.get("encoding") == "BASE64":
        try:
            return base64.b64decode(data, validate=True)
        except ValueError as exc:
            raise DataError(f"bad BASE64 capture data: {exc}") from None
    return data.encode("utf-8")


# (clock time, variant, event id, inference id, request body, request content type,
#  response body, response content type, inference time)
_Entry = tuple[float, str, str, str | None, bytes, str, bytes, str, float]


@dataclass
class _VariantFile:
    path: Path
    start: float
    hour: tuple[int, int, int, int]


class CaptureWriter:
    """Buffers captured requests of one endpoint and writes them as JSON Lines (see the
    module docstring).

    ``root`` is the capture folder (files go below ``root/<endpoint>``); ``clock`` decides
    file names and rotation; ``rng`` is the sampling randomness (seed it in tests);
    ``flush_interval`` (seconds, default the config's ``flush_interval_seconds``) bounds how
    long a record waits in memory; ``max_buffer`` records waiting wake the flusher early.
    With the config's ``flush_policy`` ``"every"`` nothing is buffered: :meth:`capture`
    writes the record before it returns.
    """

    def __init__(
        self,
        root: Path,
        endpoint: str,
        config: DataCaptureConfig,
        clock: Callable[[], float] = time.time,
        *,
        rng: random.Random | None = None,
        flush_interval: float | None = None,
        max_buffer: int = 10_000,
    ) -> None:
        if flush_interval is None:
            flush_interval = config.flush_interval_seconds
        if not flush_interval > 0:
            raise ValueError(f"flush_interval must be > 0, got {flush_interval}")
        self.root = Path(root)
        self.endpoint = endpoint
        self.config = config
        self._clock = clock
        self._rand = (rng if rng is not None else random.Random()).random
        self._threshold = config.sampling_percentage / 100.0 if config.enabled else 0.0
        self._input = "Input" in config.capture_options
        self._output = "Output" in config.capture_options
        self._csv = frozenset(config.csv_content_types)
        self._json = frozenset(config.json_content_types)
        self._rotation = config.rotation_seconds
        self._flush_interval = flush_interval
        #: Write each record before :meth:`capture` returns (flush policy ``"every"``).
        self.sync = config.flush_policy == "every"
        #: Flush policy ``"every"``: the open file of each variant, ``(path, fd)``.
        self._fds: dict[str, tuple[Path, int]] = {}
        self._max_buffer = max_buffer
        self._lock = threading.Lock()  # guards _buffer, _thread, _closed
        self._flush_lock = threading.Lock()  # serializes flushes (file state, writes)
        self._buffer: list[_Entry] = []
        self._files: dict[str, _VariantFile] = {}
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Records lost: captured after close, or in a batch that failed to write.
        self.dropped = 0
        #: Records written so far.
        self.written = 0

    @property
    def endpoint_dir(self) -> Path:
        """The folder this writer's files go below: ``root/<endpoint>``."""
        return self.root / self.endpoint

    def should_capture(self) -> bool:
        """Whether to capture the next request (the sampling decision)."""
        threshold = self._threshold
        return threshold >= 1.0 or (threshold > 0.0 and self._rand() < threshold)

    def capture(
        self,
        *,
        variant: str,
        event_id: str,
        inference_id: str | None,
        request_body: bytes,
        request_content_type: str,
        response_body: bytes,
        response_content_type: str,
        inference_time: float,
    ) -> None:
        """Queue one request/response pair (``inference_time``: epoch seconds). Call it for
        requests :meth:`should_capture` selected; it does not sample again."""
        entry: _Entry = (
            self._clock(), variant, event_id, inference_id, request_body,
            request_content_type, response_body, response_content_type, inference_time,
        )
        if self.sync:
            self._write_now(entry)
            return
        with self._lock:
            if self._closed:
                self.dropped += 1
                return
            self._buffer.append(entry)
            if self._thread is None:
                self._start()
            elif len(self._buffer) >= self._max_buffer:
                self._wake.set()

    def _write_now(self, entry: _Entry) -> None:
        """Flush policy ``"every"``: append one record to its file now."""
        with self._flush_lock:
            if self._closed:
                self.dropped += 1
                return
            variant = entry[1]
            try:
                path = self._file_for(variant, entry[0])
                line = self._encode(entry)
                fd = self._fds.get(variant)
                if fd is None or fd[0] != path:  # first record, or the file rotated
                    self._close_fd(variant)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    fd = (path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644))
                    self._fds[variant] = fd
                try:
                    _write_all(fd[1], line)
                except BaseException:  # possibly half written: the next record starts a
                    self._close_fd(variant)  # new file, so a torn line stays last
                    self._files.pop(variant, None)
                    raise
            except Exception:  # never fail the request over its capture record
                self.dropped += 1
                _log.exception("data capture of endpoint %s failed to write", self.endpoint)
            else:
                self.written += 1

    def _close_fd(self, variant: str) -> None:
        fd = self._fds.pop(variant, None)
        if fd is not None:
            os.close(fd[1])

    def _append_or_rotate(self, variant: str, path: Path, data: bytes) -> None:
        """Append whole lines to ``path``; if the write fails (possibly half done), the next
        record of ``variant`` starts a new file, so a torn line stays last in its file."""
        try:
            _append(path, data)
        except BaseException:
            current = self._files.get(variant)
            if current is not None and current.path == path:
                del self._files[variant]
            raise

    def _start(self) -> None:
        """Start the flusher thread (``_lock`` held)."""
        self._thread = threading.Thread(
            target=self._run, name=f"capture-{self.endpoint}", daemon=True
        )
        self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.flush()
            except Exception:  # keep capturing; the batch is counted in ``dropped``
                _log.exception("data capture of endpoint %s failed to write", self.endpoint)

    def flush(self) -> None:
        """Write everything buffered now (whole lines, one write per file)."""
        with self._flush_lock:
            with self._lock:
                pending, self._buffer = self._buffer, []
            if not pending:
                return
            done = 0
            try:
                groups: dict[Path, tuple[str, list[bytes]]] = {}
                for entry in pending:
                    path = self._file_for(entry[1], entry[0])
                    groups.setdefault(path, (entry[1], []))[1].append(self._encode(entry))
                for path, (variant, lines) in groups.items():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    self._append_or_rotate(variant, path, b"".join(lines))
                    done += len(lines)
            finally:
                self.written += done
                self.dropped += len(pending) - done

    def _file_for(self, variant: str, t: float) -> Path:
        """The file a record captured at ``t`` goes to, rotating as needed."""
        current = self._files.get(variant)
        g = time.gmtime(t)
        hour = (g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour)
        if current is None or current.hour != hour or t - current.start >= self._rotation:
            millis = int(t * 1000) % 1000
            name = f"{g.tm_min:02d}-{g.tm_sec:02d}-{millis:03d}-{uuid.uuid4()}{FILE_SUFFIX}"
            folder = (
                self.endpoint_dir / variant / f"{g.tm_year:04d}" / f"{g.tm_mon:02d}"
                / f"{g.tm_mday:02d}" / f"{g.tm_hour:02d}"
            )
            current = _VariantFile(path=folder / name, start=t, hour=hour)
            self._files[variant] = current
        return current.path

    def _part(self, body: bytes, content_type: str, mode: str) -> dict[str, str]:
        media = _media_type(content_type)
        encoding = "CSV" if media in self._csv else "JSON" if media in self._json else None
        if encoding is not None:
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError:
                encoding = None
        if encoding is None:
            encoding, data = "BASE64", base64.b64encode(body).decode("ascii")
        return {"observedContentType": content_type, "mode": mode, "data": data,
                "encoding": encoding}

    def _encode(self, entry: _Entry) -> bytes:
        (_, _, event_id, inference_id, req, req_type, resp, resp_type, inference_time) = entry
        capture: dict[str, Any] = {}
        if self._input:
            capture["endpointInput"] = self._part(req, req_type, "INPUT")
        if self._output:
            capture["endpointOutput"] = self._part(resp, resp_type, "OUTPUT")
        meta: dict[str, str] = {"eventId": event_id}
        if inference_id is not None:
            meta["inferenceId"] = inference_id
        meta["inferenceTime"] = iso_time(inference_time)
        record = {"captureData": capture, "eventMetadata": meta, "eventVersion": "0"}
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8") + b"\n"

    def close(self) -> None:
        """Stop the flusher and write what is buffered. Later captures are dropped
        (counted in :attr:`dropped`). Idempotent."""
        with self._lock:
            already = self._closed
            self._closed = True
            thread = self._thread
        if already:
            return
        self._wake.set()
        if thread is not None:
            atexit.unregister(self.close)
            if thread is not threading.current_thread():
                thread.join()
        self.flush()
        with self._flush_lock:
            for variant in list(self._fds):
                self._close_fd(variant)

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _append(path: Path, data: bytes) -> None:
    """Append ``data`` (whole lines) to ``path`` in one ``write`` where the OS allows."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd`` (one ``write`` call where the OS takes it all)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def capture_files(root: Path, endpoint: str, variant: str | None = None) -> list[Path]:
    """The capture files of ``endpoint`` (of one variant if given), oldest first per
    variant (sorted by variant, then by path)."""
    base = Path(root) / endpoint
    if not base.is_dir():
        return []
    variants = [variant] if variant is not None else sorted(
        p.name for p in base.iterdir() if p.is_dir()
    )
    files: list[Path] = []
    for v in variants:
        vdir = base / v
        if vdir.is_dir():
            files.extend(sorted(vdir.glob(f"*/*/*/*/*{FILE_SUFFIX}")))
    return files


def _read_file(path: Path, variant: str) -> Iterator[dict[str, Any]]:
    data = path.read_bytes()
    lines = data.split(b"\n")
    # The last element is b"" for a complete file, or a line still being written.
    for lineno, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise DataError(f"{path}:{lineno}: not a JSON capture record: {exc}") from None
        if not isinstance(record, dict) or not isinstance(record.get("eventMetadata"), dict):
            raise DataError(f"{path}:{lineno}: not a capture record (no eventMetadata)")
        record["variant"] = variant
        yield record


def _read_variant(files: list[Path], variant: str) -> Iterator[dict[str, Any]]:
    for path in files:
        yield from _read_file(path, variant)


def _time_key(record: dict[str, Any]) -> str:
    return str(record["eventMetadata"].get("inferenceTime", ""))


def read_capture(root: Path, endpoint: str) -> Iterator[dict[str, Any]]:
    """Every captured record of ``endpoint`` below ``root``, oldest first, each with a
    ``"variant"`` key added (from its path). Variants are merged by ``inferenceTime``; a
    variant's own records come in the order they were written. A final line still being
    written (no newline yet) is skipped; a malformed line raises
    :class:`~mlyard.errors.DataError` naming the file and line."""
    by_variant: dict[str, list[Path]] = {}
    for path in capture_files(root, endpoint):
        variant = path.relative_to(Path(root) / endpoint).parts[0]
        by_variant.setdefault(variant, []).append(path)
    streams = [_read_variant(files, v) for v, files in by_variant.items()]
    if len(streams) == 1:
        yield from streams[0]
    else:
        yield from heapq.merge(*streams, key=_time_key)
