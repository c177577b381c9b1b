"""Capturing a job's log lines: to the metadata store in batches, to a local file, and
through regex metric definitions into metric points (as SageMaker parses CloudWatch logs)."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mlyard.core.records import MetricPoint
from mlyard.core.stores.base import MetadataStore


class JobLog:
    """Thread-safe line sink for one job. Lines are flushed to the store every
    ``flush_interval`` seconds by a background thread and on :meth:`close`."""

    def __init__(self, store: MetadataStore, job_name: str, log_file: Path,
                 metric_regexes: Sequence[tuple[str, str]] = (), flush_interval: float = 0.5,
                 echo: TextIO | None = None) -> None:
        self.store = store
        self.job_name = job_name
        self.metrics = [(name, re.compile(rx)) for name, rx in metric_regexes]
        self._lines: list[tuple[float, str]] = []
        self._points: list[MetricPoint] = []
        self._steps: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._echo = echo
        self._interval = flush_interval
        self._thread = threading.Thread(target=self._flusher, daemon=True, name="mlyard-log")
        self._thread.start()

    def write(self, text: str, *, parse_metrics: bool = True) -> None:
        """Record one or more lines (split on newlines; a trailing newline is dropped);
        ``parse_metrics=False`` keeps the metric regexes off them (other ranks' lines)."""
        now = time.time()
        lines = text.rstrip("\n").split("\n") if text else []
        with self._lock:
            for line in lines:
                self._lines.append((now, line))
                self._file.write(line + "\n")
                for name, rx in (self.metrics if parse_metrics else ()):
                    match = rx.search(line)
                    if match:
                        try:
                            value = float(match.group(1))
                        except (TypeError, ValueError, IndexError):
                            continue
                        if not math.isfinite(value):
                            continue
                        step = self._steps.get(name, 0)
                        self._steps[name] = step + 1
                        self._points.append(MetricPoint(name, value, step, now))
        if self._echo is not None:
            self._echo.write(text if text.endswith("\n") else text + "\n")

    def metric(self, name: str, value: float, step: int | None = None) -> None:
        """Record a metric point the job reports directly. Non-finite values (a diverged
        loss) are not stored as points; a log line says so instead."""
        value = float(value)
        if not math.isfinite(value):
            self.write(f"metric {name} at step {step} is {value}; not stored as a point",
                       parse_metrics=False)
            return
        with self._lock:
            self._points.append(MetricPoint(name, value, step, time.time()))

    def flush(self) -> None:
        """Send buffered lines and metric points to the store."""
        with self._lock:
            lines, self._lines = self._lines, []
            points, self._points = self._points, []
            self._file.flush()
        if lines:
            self.store.append_logs(self.job_name, lines)
        if points:
            self.store.put_metrics(self.job_name, points)

    def _flusher(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self.flush()
            except Exception:
                continue

    def close(self) -> None:
        """Stop the flusher and flush what is left."""
        self._closed.set()
        self._thread.join(timeout=5)
        self.flush()
        self._file.close()


class LogStream:
    """A file-like object whose writes go to a :class:`JobLog` line by line (for
    redirecting ``sys.stdout`` / ``sys.stderr`` of a job process)."""

    def __init__(self, log: JobLog) -> None:
        self._log = log
        self._buf = ""

    def write(self, text: str) -> int:
        self._buf += text.replace("\r", "\n")
        if "\n" in self._buf:
            done, self._buf = self._buf.rsplit("\n", 1)
            for line in done.split("\n"):
                if line.strip():
                    self._log.write(line)
        return len(text)

    def flush(self) -> None:
        if self._buf.strip():
            self._log.write(self._buf)
        self._buf = ""

    def isatty(self) -> bool:
        return False
