"""``DebugHook``: saves tensor statistics from inside a training process.

The hook is created by a built-in trainer or a user's script, usually with
:meth:`DebugHook.from_env` (the job runner sets ``MLYARD_DEBUGGER_CONFIG``, see
:func:`mlyard.training.debugger.hook_env`). Each call appends lines to
``out_dir/tensors-rank{rank}.jsonl`` and flushes them at once, so a rule runner in another
thread or process sees them while training goes on. See :mod:`.records` for the format and
:mod:`.stats` for the statistics.

Typical use in a torch loop (steps counted from 1)::

    hook = DebugHook.from_env()
    for step, (x, y) in enumerate(batches, start=1):
        loss = loss_fn(model(x), y)
        loss.backward()
        if hook:
            hook.record_train_step(step, loss=loss.item(), model=model, labels=y)
        optimizer.step()
        optimizer.zero_grad()
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mlyard.training.debugger.records import (
    COLLECTIONS,
    ENV_VAR,
    MODES,
    encode_record,
    trace_file,
)
from mlyard.training.debugger.stats import label_counts, tensor_stats_many


class DebugHook:
    """Writes the statistics of losses, weights, gradients and labels of one rank.

    ``collections`` selects which of the built-in collections (``losses``, ``weights``,
    ``gradients``, ``labels``) are saved; records of any other collection name passed to
    :meth:`record_tensors` are always saved.
    """

    def __init__(self, out_dir: Path, save_interval: int = 100,
                 collections: Sequence[str] = COLLECTIONS, rank: int = 0) -> None:
        if int(save_interval) < 1:
            raise ValueError(f"save_interval must be >= 1, got {save_interval}")
        unknown = [c for c in collections if c not in COLLECTIONS]
        if unknown:
            raise ValueError(f"unknown collection(s) {unknown}; allowed: {list(COLLECTIONS)}")
        if int(rank) < 0:
            raise ValueError(f"rank must be >= 0, got {rank}")
        self.out_dir = Path(out_dir)
        self.save_interval = int(save_interval)
        self.collections: frozenset[str] = frozenset(collections)
        self.rank = int(rank)
        self.path = trace_file(self.out_dir, self.rank)
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._closed = False
        self._pending_labels: Counter[int] = Counter()
        self._last_step: int | None = None

    @classmethod
    def from_env(cls, rank: int | None = None) -> DebugHook | None:
        """The hook configured by ``MLYARD_DEBUGGER_CONFIG`` (JSON with ``out_dir``,
        ``save_interval``, ``collections``), or ``None`` when that variable is unset or
        empty. ``rank`` defaults to the ``RANK`` environment variable (else 0)."""
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            return None
        try:
            settings = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{ENV_VAR}: invalid JSON: {exc}") from None
        if not isinstance(settings, dict) or not settings.get("out_dir"):
            raise ValueError(f"{ENV_VAR}: must be a JSON object with 'out_dir'")
        if rank is None:
            try:
                rank = int(os.environ.get("RANK", "0") or 0)
            except ValueError:
                raise ValueError(f"RANK must be an integer, got {os.environ['RANK']!r}") from None
        return cls(Path(settings["out_dir"]),
                   save_interval=int(settings.get("save_interval", 100)),
                   collections=tuple(settings.get("collections", COLLECTIONS)),
                   rank=rank)

    # -- when to save ---------------------------------------------------------------------

    def should_save(self, step: int) -> bool:
        """Whether :meth:`record_train_step` saves at ``step``: the first step of a trainer
        counting from 1 (``step == 1``) and every multiple of ``save_interval`` (which
        includes step 0 of a trainer counting from 0)."""
        return step == 1 or step % self.save_interval == 0

    # -- recording ------------------------------------------------------------------------

    def record_train_step(self, step: int, *, loss: Any = None, model: Any = None,
                          labels: Any = None, force: bool = False) -> None:
        """Record a training step; call it after ``loss.backward()`` and before
        ``optimizer.zero_grad()``.

        ``labels`` (integer class ids) are counted at every call; the counts accumulated
        since the last save are written at saved steps (and by :meth:`close`), so
        ``ClassImbalance`` sees all the data. Everything else is recorded only when
        :meth:`should_save` is true or ``force``: the loss (a float or a 0-d tensor), and for
        each named parameter of the torch module ``model`` its weight statistics and, when
        it has a gradient, its gradient statistics.
        """
        self._check_open()
        self._last_step = step if self._last_step is None else max(self._last_step, step)
        if labels is not None and "labels" in self.collections:
            counts = label_counts(labels)
            with self._lock:
                self._pending_labels.update(counts)
        if not (force or self.should_save(step)):
            return
        lines: list[str] = []
        now = time.time()
        if loss is not None and "losses" in self.collections:
            lines.append(encode_record(step, "train", "losses", "loss",
                                       {"value": float(loss)}, now))
        if model is not None and ({"weights", "gradients"} & self.collections):
            params = list(model.named_parameters())
            if "weights" in self.collections:
                lines += self._tensor_lines(step, "train", "weights",
                                            {name: p for name, p in params}, now)
            if "gradients" in self.collections:
                grads = {name: p.grad for name, p in params if p.grad is not None}
                lines += self._tensor_lines(step, "train", "gradients", grads, now)
        label_line = self._take_labels(step, now)
        if label_line:
            lines.append(label_line)
        self._write(lines)

    def record_tensors(self, step: int, collection: str, tensors: Mapping[str, Any],
                       mode: str = "train") -> None:
        """Record the statistics of named tensors (numpy arrays or torch tensors) in
        ``collection``; written unconditionally (check :meth:`should_save` first when calling
        at every step). Skipped for a built-in collection this hook does not save."""
        self._check_open()
        self._check_mode(mode)
        if collection in COLLECTIONS and collection not in self.collections:
            return
        self._write(self._tensor_lines(step, mode, collection, tensors, time.time()))

    def record_eval(self, step: int, *, loss: float,
                    metrics: Mapping[str, float] | None = None) -> None:
        """Record a validation loss (mode ``eval``, collection ``losses``) at any step, and
        optionally validation metrics (collection ``metrics``, one scalar record each)."""
        self._check_open()
        now = time.time()
        lines: list[str] = []
        if "losses" in self.collections:
            lines.append(encode_record(step, "eval", "losses", "loss",
                                       {"value": float(loss)}, now))
        for name, value in (metrics or {}).items():
            lines.append(encode_record(step, "eval", "metrics", str(name),
                                       {"value": float(value)}, now))
        self._write(lines)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Write label counts not yet saved (at the last step seen) and close the file.
        Idempotent."""
        if self._closed:
            return
        if self._last_step is not None:
            line = self._take_labels(self._last_step, time.time())
            if line:
                self._write([line])
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> DebugHook:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"DebugHook(out_dir={str(self.out_dir)!r}, save_interval={self.save_interval},"
                f" collections={sorted(self.collections)}, rank={self.rank})")

    # -- internals ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("DebugHook is closed")

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, got {mode!r}")

    @staticmethod
    def _tensor_lines(step: int, mode: str, collection: str, tensors: Mapping[str, Any],
                      now: float) -> list[str]:
        stats = tensor_stats_many(tensors)
        return [encode_record(step, mode, collection, str(name), s, now)
                for name, s in stats.items()]

    def _take_labels(self, step: int, now: float) -> str | None:
        """The labels line for the counts accumulated so far (then reset), or ``None``."""
        with self._lock:
            if not self._pending_labels:
                return None
            counts = {str(k): v for k, v in sorted(self._pending_labels.items())}
            self._pending_labels.clear()
        return encode_record(step, "train", "labels", "labels", {"counts": counts}, now)

    def _write(self, lines: list[str]) -> None:
        """Append ``lines`` to the rank's file, flushing after each record."""
        if not lines:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("DebugHook is closed")
            if self._file is None:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            for line in lines:
                self._file.write(line)
                self._file.flush()
