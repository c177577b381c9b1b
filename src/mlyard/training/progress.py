"""Progress within an epoch for the job log: steps done of all, samples/s and an ETA.

An epoch of BERT fine-tuning on a CPU can take many minutes; a log that says nothing
between epoch lines looks hung. :class:`StepProgress` decides when a line is due (every
``every_seconds`` of wall time, so a log grows at the same pace on a fast GPU and a slow CPU)
and formats it. Its figures count only the steps of this run, so a job resumed from a
checkpoint does not report an inflated rate. The words differ from the ``#name: value``
form that metric definitions parse, so a progress line is never read as a metric.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: Seconds between progress lines by default.
PROGRESS_SECONDS = 10.0


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``: short and sortable by eye."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class StepProgress:
    """Progress of a loop of ``total_steps`` steps that starts at ``start_step`` (a resumed
    run); :meth:`update` after each step returns a line when one is due, else None."""

    def __init__(
        self,
        total_steps: int,
        *,
        start_step: int = 0,
        every_seconds: float = PROGRESS_SECONDS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be at least 1, got {total_steps}")
        self.total_steps = total_steps
        self.start_step = start_step
        self.every_seconds = every_seconds
        self.clock = clock
        self.started = clock()
        self.last = self.started
        self.samples = 0

    def update(self, step: int, samples: int) -> str | None:
        """Record that ``step`` (global, 1-based) ended after ``samples`` more examples; the
        progress line when ``every_seconds`` passed since the last one."""
        self.samples += samples
        now = self.clock()
        if now - self.last < self.every_seconds:
            return None
        self.last = now
        return self.line(step, now)

    def line(self, step: int, now: float | None = None) -> str:
        """``step 120/900 (13%) 45.2 samples/s elapsed 30s eta 3m15s``."""
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        done = max(step - self.start_step, 0)
        rate = self.samples / elapsed
        pct = 100.0 * step / self.total_steps
        eta = (self.total_steps - step) * elapsed / done if done else None
        return (
            f"step {step}/{self.total_steps} ({pct:.0f}%) {rate:.1f} samples/s "
            f"elapsed {format_duration(elapsed)} "
            f"eta {format_duration(eta) if eta is not None else '?'}"
        )
