"""Reading a profiler output folder back: system samples, step records, top operators.

Reading is lenient: missing files give empty data, and lines that are not JSON objects (a line
cut short when the job was killed, say) are skipped.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlyard.training.profiler.files import (
    FRAMEWORK_GLOB,
    OPS_GLOB,
    SYSTEM_METRICS_FILE,
    rank_of,
)

log = logging.getLogger(__name__)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return records
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, null, NaN, not a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def numbers(values: Iterable[Any]) -> list[float]:
    """The finite numbers among ``values``, in order."""
    return [v for v in (number(x) for x in values) if v is not None]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation, as numpy), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float | None:
    """The median, None for no values."""
    return percentile(values, 50.0)


@dataclass
class ProfileData:
    """Everything the profiler wrote into one output folder."""

    out_dir: Path
    system: list[dict[str, Any]] = field(default_factory=list)
    """System samples in time order (see :mod:`mlyard.training.profiler.monitor`)."""
    framework: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Rank -> its framework records in file order."""
    ops: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Rank -> its ``framework-ops-rank{r}.json`` document (``{"ops": [...], ...}``)."""

    @classmethod
    def load(cls, out_dir: Path) -> ProfileData:
        """Read ``out_dir``; a missing folder or files give empty data."""
        out_dir = Path(out_dir)
        data = cls(out_dir=out_dir)
        if not out_dir.is_dir():
            return data
        system_path = out_dir / SYSTEM_METRICS_FILE
        if system_path.is_file():
            samples = [s for s in _read_jsonl(system_path) if number(s.get("time")) is not None]
            data.system = sorted(samples, key=lambda s: float(s["time"]))
        for path in sorted(out_dir.glob(FRAMEWORK_GLOB)):
            rank = rank_of(path.name, "framework-rank")
            if rank is not None:
                data.framework[rank] = _read_jsonl(path)
        for path in sorted(out_dir.glob(OPS_GLOB)):
            rank = rank_of(path.name, "framework-ops-rank")
            if rank is None:
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                log.warning("cannot read %s: %s", path, exc)
                continue
            if isinstance(doc, dict) and isinstance(doc.get("ops"), list):
                data.ops[rank] = doc
        return data

    # ------------------------------------------------------------------ framework
    @property
    def ranks(self) -> list[int]:
        """Ranks that wrote framework records, ascending."""
        return sorted(self.framework)

    def events(self, kind: str, rank: int | None = None) -> list[dict[str, Any]]:
        """Framework records of ``kind`` (``"step"``, ``"init"``, ...) of one rank or all."""
        ranks = self.ranks if rank is None else [rank]
        return [r for k in ranks for r in self.framework.get(k, []) if r.get("event") == kind]

    def steps(self, rank: int | None = None) -> list[dict[str, Any]]:
        """Valid step records (with a finite ``duration`` >= 0) of one rank or all ranks."""
        return [
            r
            for r in self.events("step", rank)
            if (d := number(r.get("duration"))) is not None and d >= 0
        ]

    def step_durations(self) -> dict[int, list[float]]:
        """Rank -> its step durations in seconds, in order; ranks without steps left out."""
        result = {}
        for rank in self.ranks:
            durations = [float(s["duration"]) for s in self.steps(rank)]
            if durations:
                result[rank] = durations
        return result

    def top_ops(self, rank: int | None = None) -> list[dict[str, Any]]:
        """The top operators of ``rank`` (default: the lowest rank with an ops file)."""
        if not self.ops:
            return []
        key = min(self.ops) if rank is None else rank
        ops = self.ops.get(key, {}).get("ops", [])
        return [op for op in ops if isinstance(op, dict)]

    # ------------------------------------------------------------------ system
    def series(self, key: str) -> list[float]:
        """The finite values of system field ``key`` over the samples (missing ones skipped)."""
        return numbers(s.get(key) for s in self.system)

    def gpu_indices(self) -> list[int]:
        """GPU indices seen in any system sample, ascending."""
        seen = {
            int(g["index"])
            for s in self.system
            for g in s.get("gpus") or []
            if isinstance(g, dict) and number(g.get("index")) is not None
        }
        return sorted(seen)

    @property
    def has_gpu(self) -> bool:
        """True when a GPU was sampled or a step recorded GPU memory."""
        if self.gpu_indices():
            return True
        return any(number(s.get("gpu_memory_allocated")) is not None for s in self.steps())

    def gpu_series(self, index: int, key: str) -> list[float | None]:
        """GPU ``index``'s ``key`` per system sample, aligned with :attr:`system` (None where
        a sample lacks it)."""
        out: list[float | None] = []
        for sample in self.system:
            value = None
            for gpu in sample.get("gpus") or []:
                if isinstance(gpu, dict) and number(gpu.get("index")) == index:
                    value = number(gpu.get(key))
                    break
            out.append(value)
        return out

    def gpu_memory_percent(self, index: int) -> list[float | None]:
        """GPU ``index``'s used memory as percent of its total, per system sample."""
        used = self.gpu_series(index, "memory_used_bytes")
        total = self.gpu_series(index, "memory_total_bytes")
        return [
            100.0 * u / t if u is not None and t else None for u, t in zip(used, total, strict=True)
        ]

    @property
    def is_empty(self) -> bool:
        """True when there are neither system samples nor framework records."""
        return not self.system and not any(self.framework.values())
