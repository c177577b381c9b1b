"""Per-step timing and torch.profiler tracing inside the training process.

A training loop marks each step::

    profiler = StepProfiler.from_env()          # None unless the job enabled profiling
    for step, batch in enumerate(loader):       # or: with profiler.step(step): ...
        profiler.step_start(step)
        batch = to_device(batch)
        profiler.dataloader_done()              # the batch is ready
        loss = train_step(batch)
        profiler.step_end(batch_size=len(batch))
    profiler.close()

Records go to ``out_dir/framework-rank{rank}.jsonl``, one JSON line each, flushed::

    {"event": "init", "time", "pid", "process_start", "rank", "cpu_count", "num_threads"}
    {"event": "step", "step", "start", "end", "duration", "dataloader", "batch_size",
     "gpu_memory_allocated"}                    # dataloader: null when not reported
    {"event": "resources", "time", "num_threads", "num_children", "torch_num_threads"}
    {"event": "trace", "path", "ops_path", "start_step", "end_step"}
    {"event": "close", "time"}

``resources`` is written with the first step and then at most every 10 s: the thread count and
the child processes (data-loader workers) of the training process. Steps
``[framework_start_step, framework_start_step + framework_num_steps)`` are traced with
``torch.profiler`` when torch is importable: a chrome trace ``torch-trace-rank{r}.json`` and the
top 30 operators by self CPU time in ``framework-ops-rank{r}.json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import psutil

from mlyard.training.profiler.files import (
    PROFILER_CONFIG_ENV,
    framework_file,
    ops_file,
    trace_file,
)

log = logging.getLogger(__name__)

TOP_OPS = 30
RESOURCES_EVERY_SECONDS = 10.0


def _torch_cuda_available() -> bool:
    """True when torch is already imported (this never imports it) and sees a CUDA device."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    try:
        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA install: profile without GPU memory
        return False


def top_ops(key_averages: Any, limit: int = TOP_OPS) -> list[dict[str, Any]]:
    """The ``limit`` operators with the most self CPU time from a torch.profiler
    ``key_averages()`` table; device times are included when any op has some."""
    events = sorted(key_averages, key=lambda e: float(e.self_cpu_time_total), reverse=True)
    with_device = any(float(getattr(e, "device_time_total", 0.0) or 0.0) > 0 for e in events)
    ops = []
    for event in events[:limit]:
        op: dict[str, Any] = {
            "name": str(event.key),
            "count": int(event.count),
            "self_cpu_time_us": round(float(event.self_cpu_time_total), 3),
            "cpu_time_us": round(float(event.cpu_time_total), 3),
        }
        if with_device:
            op["self_cuda_time_us"] = round(float(event.self_device_time_total), 3)
            op["cuda_time_us"] = round(float(event.device_time_total), 3)
        ops.append(op)
    return ops


class StepProfiler:
    """Times training steps and their data loading and traces a few steps with torch.profiler.

    Its creation marks the end of process start-up for the MaxInitializationTime rule (the
    process's own start time is recorded too). ``framework_num_steps=0`` disables tracing.
    """

    def __init__(
        self,
        out_dir: Path,
        rank: int = 0,
        framework_start_step: int = 5,
        framework_num_steps: int = 3,
    ) -> None:
        if framework_start_step < 0 or framework_num_steps < 0:
            raise ValueError("framework_start_step and framework_num_steps must be >= 0")
        self.out_dir = Path(out_dir)
        self.rank = int(rank)
        self.framework_start_step = int(framework_start_step)
        self.framework_num_steps = int(framework_num_steps)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / framework_file(self.rank)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")
        self._process = psutil.Process(os.getpid())
        self._step: int | None = None
        self._start = 0.0
        self._start_perf = 0.0
        self._loaded_perf: float | None = None
        self._next_resources = 0.0
        self._torch_profile: Any = None
        self._trace_first: int | None = None
        self._trace_done = framework_num_steps == 0
        self._cuda: bool | None = None
        self._last_step: int | None = None
        self.steps_recorded = 0
        try:
            process_start: float | None = float(self._process.create_time())
        except (psutil.Error, OSError):
            process_start = None
        self._write(
            {
                "event": "init",
                "time": time.time(),
                "pid": os.getpid(),
                "process_start": process_start,
                "rank": self.rank,
                "cpu_count": os.cpu_count(),
                "num_threads": self._num_threads(),
            }
        )

    @classmethod
    def from_env(cls, rank: int | None = None) -> StepProfiler | None:
        """A profiler configured by ``MLYARD_PROFILER_CONFIG`` (set by the job runner), or None
        when profiling is off. ``rank`` defaults to the ``RANK`` variable, else 0."""
        raw = os.environ.get(PROFILER_CONFIG_ENV)
        if not raw:
            return None
        config = json.loads(raw)
        if rank is None:
            rank = int(os.environ.get("RANK", "0") or 0)
        return cls(
            Path(config["out_dir"]),
            rank=rank,
            framework_start_step=int(config.get("framework_start_step", 5)),
            framework_num_steps=int(config.get("framework_num_steps", 3)),
        )

    # ------------------------------------------------------------------ steps
    def step_start(self, step: int) -> None:
        """Mark the start of training step ``step`` (before its batch is fetched)."""
        if self._file is None:
            raise RuntimeError("StepProfiler is closed")
        self._step = int(step)
        if self._should_start_trace(self._step):
            self._start_trace(self._step)
        self._start = time.time()
        self._start_perf = time.perf_counter()
        self._loaded_perf = None

    def dataloader_done(self) -> None:
        """Mark the current step's batch as ready: the time since :meth:`step_start` was data
        loading. The first call of a step counts."""
        if self._step is not None and self._loaded_perf is None:
            self._loaded_perf = time.perf_counter()

    def step_end(self, batch_size: int | None = None) -> None:
        """Mark the end of the current step and write its record."""
        if self._step is None:
            raise RuntimeError("step_end() without step_start()")
        end_perf = time.perf_counter()
        duration = end_perf - self._start_perf
        dataloader = None if self._loaded_perf is None else self._loaded_perf - self._start_perf
        step = self._step
        self._step = None
        self._write(
            {
                "event": "step",
                "step": step,
                "start": self._start,
                "end": self._start + duration,
                "duration": duration,
                "dataloader": dataloader,
                "batch_size": batch_size,
                "gpu_memory_allocated": self._gpu_memory_allocated(),
            }
        )
        self.steps_recorded += 1
        self._last_step = step
        if self._torch_profile is not None and self._trace_first is not None:
            last = self._trace_first + self.framework_num_steps - 1
            if step >= last:
                self._stop_trace(step)
        now = time.monotonic()
        if now >= self._next_resources:
            self._next_resources = now + RESOURCES_EVERY_SECONDS
            self._write_resources()

    @contextmanager
    def step(self, step: int, batch_size: int | None = None) -> Iterator[StepProfiler]:
        """Wrap one training step: :meth:`step_start` on entry, :meth:`step_end` on a normal
        exit. Call :meth:`dataloader_done` inside once the batch is ready. A step that raises is
        not recorded (``StopIteration`` of an exhausted loader, for instance)."""
        self.step_start(step)
        try:
            yield self
        except BaseException:
            self._step = None
            raise
        self.step_end(batch_size)

    # ------------------------------------------------------------------ tracing
    def _should_start_trace(self, step: int) -> bool:
        if self._trace_done or self._torch_profile is not None:
            return False
        first = self.framework_start_step
        return first <= step < first + self.framework_num_steps

    def _start_trace(self, step: int) -> None:
        self._trace_done = True  # one trace window per run, even when starting fails
        try:
            import torch
            from torch.profiler import ProfilerActivity, profile
        except ImportError:
            return
        activities = [ProfilerActivity.CPU]
        if torch.cuda.is_available():
            activities.append(ProfilerActivity.CUDA)
        try:
            prof = profile(activities=activities, record_shapes=False)
            prof.start()
        except Exception as exc:  # another profiler active, kineto missing, ...
            log.warning("torch.profiler could not start: %s", exc)
            return
        self._torch_profile = prof
        self._trace_first = step

    def _stop_trace(self, last_step: int | None) -> None:
        prof, first = self._torch_profile, self._trace_first
        self._torch_profile = None
        if prof is None:
            return
        trace_path = self.out_dir / trace_file(self.rank)
        ops_path = self.out_dir / ops_file(self.rank)
        try:
            prof.stop()
            prof.export_chrome_trace(str(trace_path))
            ops = top_ops(prof.key_averages())
        except Exception as exc:
            log.warning("torch.profiler trace export failed: %s", exc)
            return
        ops_doc = {"rank": self.rank, "start_step": first, "end_step": last_step, "ops": ops}
        ops_path.write_text(json.dumps(ops_doc, indent=2) + "\n", encoding="utf-8")
        self._write(
            {
                "event": "trace",
                "path": trace_path.name,
                "ops_path": ops_path.name,
                "start_step": first,
                "end_step": last_step,
            }
        )

    # ------------------------------------------------------------------ helpers
    def _gpu_memory_allocated(self) -> int | None:
        if self._cuda is None:
            if "torch" not in sys.modules:
                return None  # decided once torch is imported
            self._cuda = _torch_cuda_available()
        if not self._cuda:
            return None
        try:
            return int(sys.modules["torch"].cuda.memory_allocated())
        except Exception:
            return None

    def _num_threads(self) -> int | None:
        try:
            return int(self._process.num_threads())
        except (psutil.Error, OSError):
            return None

    def _write_resources(self) -> None:
        try:
            children = len(self._process.children(recursive=True))
        except (psutil.Error, OSError):
            children = None
        torch = sys.modules.get("torch")
        torch_threads = None
        if torch is not None:
            try:
                torch_threads = int(torch.get_num_threads())
            except Exception:
                torch_threads = None
        self._write(
            {
                "event": "resources",
                "time": time.time(),
                "num_threads": self._num_threads(),
                "num_children": children,
                "torch_num_threads": torch_threads,
            }
        )

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Finish a trace still running (the run ended inside the window), write the ``close``
        record and close the file. Safe to call twice."""
        if self._file is None:
            return
        if self._torch_profile is not None:
            self._stop_trace(self._last_step)
        self._write({"event": "close", "time": time.time()})
        self._file.close()
        self._file = None

    def __enter__(self) -> StepProfiler:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
