"""System utilisation sampling: a daemon thread in the job's main process.

Every interval one JSON line goes to ``out_dir/system-metrics.jsonl`` (flushed at once)::

    {"time": 1700000000.5,                       # epoch seconds
     "cpu_percent_per_core": [12.0, 80.5, ...], "cpu_percent": 46.2,
     "cpu_iowait_percent": 0.5,                  # null where the OS has no iowait (not Linux)
     "memory_percent": 41.0, "memory_used_bytes": ..., "memory_total_bytes": ...,
     "process_cpu_percent": 180.0,               # root process + descendants; 100 = one core
     "process_rss_bytes": ..., "process_count": 3,
     "disk_read_bytes_per_s": ..., "disk_write_bytes_per_s": ...,   # null without counters
     "net_sent_bytes_per_s": ..., "net_recv_bytes_per_s": ...,
     "gpus": [{"index": 0, "utilization_percent": 97, "memory_used_bytes": ...,
               "memory_total_bytes": ...}]}      # empty without pynvml or a GPU

CPU percentages are computed from :func:`psutil.cpu_times` deltas between two samples (as
``psutil.cpu_percent`` / ``cpu_times_percent`` do) so that other callers of those functions in
the same process do not disturb them. GPUs are read through NVML (``pynvml``) only; the monitor
never touches ``torch.cuda``, which would create a CUDA context in the job's main process.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NamedTuple

import psutil

from mlyard.training.profiler.files import SYSTEM_METRICS_FILE

log = logging.getLogger(__name__)


class _Counters(NamedTuple):
    """Cumulative counters read at one instant."""

    monotonic: float
    cpu_total: tuple[float, float, float]  # (total, busy, iowait) seconds, all cores
    cpu_per_core: list[tuple[float, float, float]]
    disk: tuple[int, int] | None  # (read bytes, written bytes)
    net: tuple[int, int] | None  # (sent bytes, received bytes)


def _cpu_split(times: Any) -> tuple[float, float, float]:
    """``(total, busy, iowait)`` seconds of one ``cpu_times`` tuple, as psutil counts them:
    guest time is already part of user time on Linux, idle and iowait are not busy."""
    total = float(sum(times))
    total -= float(getattr(times, "guest", 0.0)) + float(getattr(times, "guest_nice", 0.0))
    iowait = float(getattr(times, "iowait", 0.0))
    busy = total - float(times.idle) - iowait
    return total, busy, iowait


def _percent(part: float, whole: float) -> float:
    return round(min(100.0, max(0.0, 100.0 * part / whole)), 2) if whole > 0 else 0.0


def _read_counters() -> _Counters:
    disk = net = None
    try:
        d = psutil.disk_io_counters()
        if d is not None:
            disk = (int(d.read_bytes), int(d.write_bytes))
    except (OSError, RuntimeError):
        disk = None
    try:
        n = psutil.net_io_counters()
        if n is not None:
            net = (int(n.bytes_sent), int(n.bytes_recv))
    except (OSError, RuntimeError):
        net = None
    return _Counters(
        monotonic=time.monotonic(),
        cpu_total=_cpu_split(psutil.cpu_times()),
        cpu_per_core=[_cpu_split(t) for t in psutil.cpu_times(percpu=True)],
        disk=disk,
        net=net,
    )


class _Nvml:
    """GPU readings through pynvml; inert when pynvml or a GPU is missing."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []

    def open(self) -> None:
        try:
            import pynvml
        except ImportError:
            return
        try:
            pynvml.nvmlInit()
            count = int(pynvml.nvmlDeviceGetCount())
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._nvml = pynvml
        except Exception as exc:  # NVMLError, a driver-less host, ...
            log.debug("NVML unavailable: %s", exc)
            self._handles = []

    def read(self) -> list[dict[str, Any]]:
        if self._nvml is None:
            return []
        gpus = []
        try:
            for index, handle in enumerate(self._handles):
                util = self._nvml.nvmlDeviceGetUtilizationRates(handle)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(handle)
                gpus.append(
                    {
                        "index": index,
                        "utilization_percent": float(util.gpu),
                        "memory_used_bytes": int(mem.used),
                        "memory_total_bytes": int(mem.total),
                    }
                )
        except Exception as exc:  # a GPU that fell off the bus must not stop CPU sampling
            log.warning("NVML read failed, GPU sampling stopped: %s", exc)
            self.close()
            return []
        return gpus

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception as exc:
                log.debug("nvmlShutdown failed: %s", exc)
        self._nvml = None
        self._handles = []


class SystemMonitor:
    """Samples host, process-tree and GPU utilisation every ``interval_seconds`` into
    ``out_dir/system-metrics.jsonl`` from a daemon thread.

    ``root_pid`` (default: this process) and all its descendants, found afresh at each sample,
    make up the ``process_*`` fields. Use :meth:`start` / :meth:`stop` or ``with``.
    """

    def __init__(
        self, out_dir: Path, interval_seconds: float = 0.5, root_pid: int | None = None
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be > 0, got {interval_seconds}")
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / SYSTEM_METRICS_FILE
        self.interval_seconds = float(interval_seconds)
        self.root_pid = os.getpid() if root_pid is None else int(root_pid)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: IO[str] | None = None
        self._procs: dict[int, psutil.Process] = {}
        self._nvml = _Nvml()
        self._last: _Counters | None = None
        self._has_iowait = hasattr(psutil.cpu_times(), "iowait")
        self.samples_written = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SystemMonitor:
        """Open the output file and start sampling; returns ``self``."""
        if self._thread is not None:
            raise RuntimeError("SystemMonitor already started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._nvml.open()
        self._last = _read_counters()
        self._process_tree()  # primes cpu_percent of the processes alive now
        self._thread = threading.Thread(
            target=self._run, name=f"mlyard-system-monitor-{self.root_pid}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling, wait for the thread and close the file. Safe to call twice."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join()
        if self._file is not None:
            self._file.close()
            self._file = None
        self._nvml.close()

    def __enter__(self) -> SystemMonitor:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ sampling
    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            try:
                record = self.sample()
            except Exception:  # keep sampling: one bad read must not end the monitor
                log.exception("system metrics sample failed")
                continue
            if self._file is None:
                break
            self._file.write(json.dumps(record, allow_nan=False) + "\n")
            self._file.flush()
            self.samples_written += 1

    def _process_tree(self) -> list[psutil.Process]:
        """The root process and its descendants, reusing the :class:`psutil.Process` objects
        of earlier samples (their ``cpu_percent`` is measured since the previous call)."""
        found: list[psutil.Process] = []
        try:
            root = self._procs.get(self.root_pid) or psutil.Process(self.root_pid)
            found = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            found = []
        procs: dict[int, psutil.Process] = {}
        for proc in found:
            known = self._procs.get(proc.pid)
            if known is not None and known.is_running():
                procs[proc.pid] = known
                continue
            try:
                proc.cpu_percent(None)  # first call only primes the counter
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            procs[proc.pid] = proc
        fresh = set(procs) - set(self._procs)
        self._procs = procs
        return [p for pid, p in procs.items() if pid not in fresh]

    def _process_usage(self) -> tuple[float, int, int]:
        """``(cpu percent, rss bytes, process count)`` of the process tree; processes that
        appeared since the last sample count for memory only (their CPU is not measured yet)."""
        measured = {p.pid for p in self._process_tree()}
        cpu = 0.0
        rss = 0
        count = 0
        for pid, proc in list(self._procs.items()):
            try:
                with proc.oneshot():
                    if pid in measured:
                        cpu += float(proc.cpu_percent(None))
                    rss += int(proc.memory_info().rss)
                count += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                self._procs.pop(pid, None)
        return round(cpu, 2), rss, count

    def sample(self) -> dict[str, Any]:
        """Read one sample (rates and CPU shares since the previous one) and return it."""
        now = _read_counters()
        last = self._last or now
        self._last = now
        elapsed = max(now.monotonic - last.monotonic, 1e-9)

        def cpu(new: tuple[float, float, float], old: tuple[float, float, float]) -> float:
            return _percent(new[1] - old[1], new[0] - old[0])

        per_core = [
            cpu(new, old) for new, old in zip(now.cpu_per_core, last.cpu_per_core, strict=False)
        ]
        total_delta = now.cpu_total[0] - last.cpu_total[0]
        iowait: float | None = None
        if self._has_iowait:
            iowait = _percent(now.cpu_total[2] - last.cpu_total[2], total_delta)

        def rate(new: tuple[int, int] | None, old: tuple[int, int] | None, i: int) -> float | None:
            if new is None or old is None:
                return None
            return round(max(0, new[i] - old[i]) / elapsed, 1)

        memory = psutil.virtual_memory()
        proc_cpu, proc_rss, proc_count = self._process_usage()
        return {
            "time": round(time.time(), 3),
            "cpu_percent_per_core": per_core,
            "cpu_percent": cpu(now.cpu_total, last.cpu_total),
            "cpu_iowait_percent": iowait,
            "memory_percent": float(memory.percent),
            "memory_used_bytes": int(memory.used),
            "memory_total_bytes": int(memory.total),
            "process_cpu_percent": proc_cpu,
            "process_rss_bytes": proc_rss,
            "process_count": proc_count,
            "disk_read_bytes_per_s": rate(now.disk, last.disk, 0),
            "disk_write_bytes_per_s": rate(now.disk, last.disk, 1),
            "net_sent_bytes_per_s": rate(now.net, last.net, 0),
            "net_recv_bytes_per_s": rate(now.net, last.net, 1),
            "gpus": self._nvml.read(),
        }
