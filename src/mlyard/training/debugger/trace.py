"""``TensorTrace``: an in-memory, incrementally updated view of the records of all ranks,
and ``TraceReader``, which feeds a trace from the hook files as they grow.

Rules query the trace (losses, per-step tensor statistics, label counts). A trace only
grows; rules may keep cursors into it between evaluations.

*Settled steps.* A hook writes the records of one step as several lines, so a reader polling
while a step is being written can see part of it. Rules that aggregate over all tensors of a
step (``VanishingGradient``, ``PoorWeightInitialization``) therefore look only at *settled*
steps: a step is settled once every rank that wrote records at it has written a record at a
later step, or once the trace is marked ``final`` (no more records will come).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlyard.training.debugger.records import TensorRecord, decode_line, trace_files

logger = logging.getLogger(__name__)


class TensorTrace:
    """All records read so far, indexed by collection, mode and step."""

    def __init__(self, records: Iterable[TensorRecord] = ()) -> None:
        self._records: list[TensorRecord] = []
        self._by_step: dict[tuple[str, str], dict[int, list[TensorRecord]]] = {}
        self._scalars: dict[tuple[str, str, str], dict[int, list[float]]] = {}
        self._rank_last_step: dict[int, int] = {}
        self._labels: Counter[int] = Counter()
        self._last_label_step: int | None = None
        self.final = False
        """Set when no more records will come: every step then counts as settled."""
        self.bad_lines = 0
        """Lines that could not be parsed (skipped)."""
        self.extend(records)

    @classmethod
    def load(cls, out_dir: Path) -> TensorTrace:
        """A final trace of everything the hooks have written in ``out_dir``."""
        trace = cls()
        TraceReader(out_dir).read_into(trace)
        trace.final = True
        return trace

    # -- building -------------------------------------------------------------------------

    def add(self, record: TensorRecord) -> None:
        """Add one record."""
        self._records.append(record)
        key = (record.collection, record.mode)
        self._by_step.setdefault(key, {}).setdefault(record.step, []).append(record)
        last = self._rank_last_step.get(record.rank)
        if last is None or record.step > last:
            self._rank_last_step[record.rank] = record.step
        if "value" in record.stats:
            value = record.value
            if value is not None:
                self._scalars.setdefault((record.collection, record.mode, record.name),
                                         {}).setdefault(record.step, []).append(value)
        if record.collection == "labels" and isinstance(record.stats.get("counts"), dict):
            for label, count in record.stats["counts"].items():
                self._labels[int(label)] += int(count)
            if self._last_label_step is None or record.step > self._last_label_step:
                self._last_label_step = record.step

    def extend(self, records: Iterable[TensorRecord]) -> None:
        """Add several records."""
        for record in records:
            self.add(record)

    # -- queries --------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    def records(self, start: int = 0) -> list[TensorRecord]:
        """Records in arrival order from index ``start`` (for rules keeping a cursor)."""
        return self._records[start:]

    @property
    def ranks(self) -> list[int]:
        """Ranks that have written at least one record."""
        return sorted(self._rank_last_step)

    def collections(self, mode: str | None = None) -> list[str]:
        """Collections with records (in ``mode`` if given)."""
        return sorted({c for c, m in self._by_step if mode is None or m == mode})

    def steps(self, collection: str, mode: str = "train") -> list[int]:
        """Steps with records of ``collection`` in ``mode``, ascending."""
        return sorted(self._by_step.get((collection, mode), {}))

    def latest_step(self, collection: str | None = None, mode: str | None = None) -> int | None:
        """The highest step recorded (optionally of one collection and/or mode)."""
        steps = [s for (c, m), by_step in self._by_step.items()
                 if (collection is None or c == collection) and (mode is None or m == mode)
                 for s in by_step]
        return max(steps) if steps else None

    def is_settled(self, collection: str, step: int, mode: str = "train") -> bool:
        """Whether all records of ``collection`` at ``step`` have arrived (see module doc)."""
        if self.final:
            return True
        records = self._by_step.get((collection, mode), {}).get(step, [])
        return bool(records) and all(self._rank_last_step[r.rank] > step for r in records)

    def settled_steps(self, collection: str, mode: str = "train") -> list[int]:
        """The settled steps of ``collection`` in ``mode``, ascending."""
        return [s for s in self.steps(collection, mode) if self.is_settled(collection, s, mode)]

    def records_at(self, collection: str, step: int, mode: str = "train") -> list[TensorRecord]:
        """All records (all ranks) of ``collection`` at ``step``."""
        return list(self._by_step.get((collection, mode), {}).get(step, []))

    def tensor_stats(self, collection: str, step: int | None = None,
                     mode: str = "train") -> dict[str, dict[str, Any]]:
        """Statistics by tensor name of ``collection`` at ``step`` (default: its latest
        step). When several ranks recorded the same name, the lowest rank's is returned."""
        by_step = self._by_step.get((collection, mode), {})
        if step is None:
            if not by_step:
                return {}
            step = max(by_step)
        out: dict[str, dict[str, Any]] = {}
        for record in sorted(by_step.get(step, []), key=lambda r: r.rank):
            out.setdefault(record.name, dict(record.stats))
        return out

    def scalars(self, collection: str, name: str, mode: str = "train") -> list[tuple[int, float]]:
        """``(step, value)`` of a scalar series (records with ``stats["value"]``), ascending
        by step; values of several ranks at one step are averaged (NaN if any is NaN)."""
        series = self._scalars.get((collection, mode, name), {})
        return [(step, math.fsum(vals) / len(vals) if all(map(math.isfinite, vals))
                 else _nonfinite_mean(vals))
                for step, vals in sorted(series.items())]

    def losses(self, mode: str = "train") -> list[tuple[int, float]]:
        """``(step, loss)`` in ``mode`` (``train`` or ``eval``), ascending by step."""
        return self.scalars("losses", "loss", mode)

    def label_counts(self) -> dict[int, int]:
        """Counts per class of all labels recorded by all ranks."""
        return dict(sorted(self._labels.items()))

    @property
    def label_total(self) -> int:
        """Number of labels recorded."""
        return sum(self._labels.values())

    @property
    def last_label_step(self) -> int | None:
        """The latest step with a labels record."""
        return self._last_label_step


def _nonfinite_mean(values: list[float]) -> float:
    """Mean of values of which some are not finite: NaN if any is NaN, else the infinity."""
    if any(math.isnan(v) for v in values):
        return math.nan
    total = sum(values)  # infinities of opposite signs give NaN, as they should
    return total / len(values)


class TraceReader:
    """Reads what the hooks appended to ``out_dir`` since the last call.

    Keeps a byte offset per rank file and consumes only complete lines (ending in ``\\n``),
    so a line a hook is still writing is read on a later call. Files of new ranks are picked
    up as they appear. Unparsable lines are skipped and counted in ``trace.bad_lines``.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self._offsets: dict[Path, int] = {}

    def read_into(self, trace: TensorTrace) -> int:
        """Add the newly completed lines of all rank files to ``trace``; returns how many
        records were added."""
        added = 0
        for rank, path in trace_files(self.out_dir).items():
            offset = self._offsets.get(path, 0)
            try:
                with path.open("rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n")
            if end < 0:
                continue
            self._offsets[path] = offset + end + 1
            for line in data[: end + 1].splitlines():
                if not line.strip():
                    continue
                try:
                    record = decode_line(line, rank)
                except ValueError as exc:
                    trace.bad_lines += 1
                    logger.warning("debugger: skipping bad line in %s: %s", path, exc)
                    continue
                trace.add(record)
                added += 1
        return added
