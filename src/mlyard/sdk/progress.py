"""The progress line ``Estimator.fit`` and ``HyperparameterTuner.fit`` show while they wait.

Without it ``fit()`` was silent for minutes unless ``logs=True`` dumped the whole job log.
:class:`JobProgress` is handed every polled job record (``wait_for_job``'s ``on_poll``) and
shows the job's status, its epoch, its last metric and the elapsed time: one line rewritten
in place on a terminal, and on anything else (a notebook, a log file) a new line when the
status changes and at most every ``every_seconds`` otherwise, so captured output stays
short. What the line says beyond the status comes from a ``detail`` function: the last
metric of a training job (:func:`training_detail`) or the trial counts of a tuning job.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from mlyard.core.records import JobRecord
from mlyard.core.workspace import Workspace
from mlyard.training.progress import format_duration

#: Seconds between lines when the output is not a terminal.
PLAIN_EVERY_SECONDS = 30.0
#: Seconds between rewrites of the line on a terminal.
TTY_EVERY_SECONDS = 1.0

Detail = Callable[[Workspace, JobRecord], str]


def training_detail(ws: Workspace, record: JobRecord) -> str:
    """``epoch 3/10 validation:accuracy=0.9123``: the step of the metric reported last (an
    epoch for the built-in algorithms; of ``epochs`` when that hyperparameter is set) and
    its value."""
    points = ws.store.get_metrics(record.name)
    if not points:
        return ""
    last = max(points, key=lambda p: (p.timestamp, p.step or 0))
    parts = []
    if last.step is not None:
        epochs = (record.spec.get("hyperparameters") or {}).get("epochs")
        parts.append(f"epoch {last.step}" + (f"/{epochs}" if epochs is not None else ""))
    parts.append(f"{last.name}={last.value:.4g}")
    return " ".join(parts)


class JobProgress:
    """Shows the progress of job ``name`` on ``stream`` (default: standard output). Call it
    with each polled record; the terminal record ends the line."""

    def __init__(
        self,
        ws: Workspace,
        name: str,
        *,
        detail: Detail = training_detail,
        stream: TextIO | None = None,
        tty: bool | None = None,
        every_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ws = ws
        self.name = name
        self.detail = detail
        self.stream = stream if stream is not None else sys.stdout
        self.tty = tty if tty is not None else _isatty(self.stream)
        self.every_seconds = (
            every_seconds
            if every_seconds is not None
            else (TTY_EVERY_SECONDS if self.tty else PLAIN_EVERY_SECONDS)
        )
        self.clock = clock
        self.started = clock()
        self.shown_at: float | None = None
        self.shown_status: str | None = None
        self.width = 0
        self.done = False

    def line(self, record: JobRecord) -> str:
        """``bt-1 InProgress epoch 3/10 validation:accuracy=0.9123 elapsed 12s``."""
        elapsed = self.clock() - self.started
        if record.started_at is not None:
            end = record.ended_at if record.ended_at is not None else time.time()
            elapsed = max(0.0, end - record.started_at)
        detail = self.detail(self.ws, record)
        return " ".join(
            x
            for x in (self.name, record.status.value, detail, f"elapsed {format_duration(elapsed)}")
            if x
        )

    def __call__(self, record: JobRecord) -> None:
        if self.done:
            return
        now = self.clock()
        final = record.status.terminal
        changed = record.status.value != self.shown_status
        due = self.shown_at is None or now - self.shown_at >= self.every_seconds
        if not (final or changed or due):
            return
        text = self.line(record)
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width) + ("\n" if final else ""))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown_at, self.shown_status, self.done = now, record.status.value, final


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
