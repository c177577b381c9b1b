"""CPU backend: fastText's per-example SGD, Hogwild-parallel, compiled with numba.

Each epoch the examples (in file order, like fastText, or reshuffled with ``shuffle``) are
split into one contiguous part per thread; threads rotate over the parts from epoch to epoch.
Every thread runs the compiled kernel :func:`sgd_examples` (``nogil``) over its part in
chunks, updating the shared input and output matrices without locks, exactly like
fastText's worker threads:

* hidden = mean of the example's input rows (words and hashed n-grams);
* softmax over ``output @ hidden``; for each label j,
  ``alpha = lr * (1[j == target] - p_j)``, ``grad += alpha * output[j]``,
  ``output[j] += alpha * hidden``;
* every input row of the example gets ``grad / n_rows``;
* ``lr`` decays linearly from ``learning_rate`` to 0 over all epochs, following each thread's
  own progress (in tokens, label and EOS included, as fastText counts) through its part
  (fastText follows a counter shared by the threads).

Between chunks the threads check a stop flag; the caller sets it when the job is asked to
stop. The kernels are compiled on first use and cached on disk (numba ``cache=True``, in
``__pycache__`` or numba's user-wide cache when the package folder is not writable).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from mlyard.algorithms.blazingtext.backend import (
    EpochStats,
    accuracy,
    init_input_matrix,
    logits,
)
from mlyard.algorithms.blazingtext.features import Encoded

CHUNK_ROWS = 1 << 18  # input rows (words + n-grams) per kernel call between stop checks


@njit(nogil=True, cache=True, fastmath=True, error_model="numpy")
def sgd_examples(wi: np.ndarray, wo: np.ndarray, ids: np.ndarray, offsets: np.ndarray,
                 targets: np.ndarray, units: np.ndarray, order: np.ndarray, lr0: float,
                 progress0: float, progress_per_unit: float, units_before: int,
                 hidden: np.ndarray, grad: np.ndarray, scores: np.ndarray
                 ) -> tuple[float, int, int]:
    """Per-example SGD over ``order`` (example indices). Returns (loss sum, correct, units).

    ``units[i]`` is example i's share of the work (fastText counts the tokens it reads,
    label and EOS included). The learning rate of an example is ``lr0 * (1 - progress)``
    with ``progress = progress0 + (units_before + units so far) * progress_per_unit``.
    """
    dim = wi.shape[1]
    n_labels = wo.shape[0]
    loss = 0.0
    correct = 0
    done = units_before
    for e in range(order.shape[0]):
        ex = order[e]
        start = offsets[ex]
        end = offsets[ex + 1]
        n = end - start
        progress = progress0 + done * progress_per_unit
        lr = lr0 * (1.0 - progress)
        if lr < 0.0:
            lr = 0.0
        done += units[ex]
        if n == 0:
            continue
        for d in range(dim):
            hidden[d] = 0.0
        for p in range(start, end):
            row = ids[p]
            for d in range(dim):
                hidden[d] += wi[row, d]
        inv_n = np.float32(1.0 / n)
        for d in range(dim):
            hidden[d] *= inv_n
        best = 0
        top = -np.inf
        for j in range(n_labels):
            acc = np.float32(0.0)
            for d in range(dim):
                acc += wo[j, d] * hidden[d]
            scores[j] = acc
            if acc > top:
                top = float(acc)
                best = j
        total = 0.0
        for j in range(n_labels):
            v = math.exp(scores[j] - top)
            scores[j] = v
            total += v
        for j in range(n_labels):
            scores[j] = scores[j] / total
        target = targets[ex]
        if best == target:
            correct += 1
        loss -= math.log(scores[target] + 1e-5)
        for d in range(dim):
            grad[d] = 0.0
        for j in range(n_labels):
            alpha = np.float32(lr * ((1.0 if j == target else 0.0) - scores[j]))
            for d in range(dim):
                grad[d] += alpha * wo[j, d]
                wo[j, d] += alpha * hidden[d]
        for d in range(dim):
            grad[d] *= inv_n
        for p in range(start, end):
            row = ids[p]
            for d in range(dim):
                wi[row, d] += grad[d]
    return loss, correct, done - units_before


class HogwildTrainer:
    """Trains the input/output matrices on CPU threads with :func:`sgd_examples`."""

    def __init__(self, n_rows: int, dim: int, n_labels: int, data: Encoded, epochs: int,
                 learning_rate: float, threads: int, seed: int, shuffle: bool = False) -> None:
        self.data = data
        self.shuffle = shuffle
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.threads = max(1, min(threads, len(data)))
        self.rng = np.random.default_rng(seed)
        self.wi = init_input_matrix(n_rows, dim, self.rng)
        self.wo = np.zeros((n_labels, dim), dtype=np.float32)
        # fastText's unit of progress: tokens read per line, label and EOS included
        self._units = (data.tokens.astype(np.int64) + 2).astype(np.int32)
        self._lengths = data.lengths()
        self._scratch = [
            (np.zeros(dim, np.float32), np.zeros(dim, np.float32), np.zeros(n_labels, np.float32))
            for _ in range(self.threads)
        ]
        self.compile_seconds = self._warm_up()

    def _warm_up(self) -> float:
        """Compile (or load from numba's cache) the kernel for these array types."""
        t = time.perf_counter()
        hidden, grad, scores = self._scratch[0]
        d = self.data
        sgd_examples(self.wi, self.wo, d.ids, d.offsets, d.targets, self._units,
                     np.zeros(0, np.int64), 0.0, 0.0, 0.0, 0, hidden, grad, scores)
        return time.perf_counter() - t

    def current_lr(self, epoch: int) -> float:
        """Learning rate at the start of ``epoch`` (0-based)."""
        return self.learning_rate * (1.0 - epoch / self.epochs)

    def run_epoch(self, epoch: int, should_stop: Callable[[], bool]) -> EpochStats:
        """One pass over the data (0-based ``epoch``). Returns ``stopped=True`` early if
        ``should_stop`` turned true (checked between chunks)."""
        n = len(self.data)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        parts = np.array_split(order.astype(np.int64), self.threads)
        # like fastText's threads, which keep reading the file from where they are, thread t
        # takes part (t + epoch) % threads, so every thread sees all the data over epochs
        shards = [parts[(t + epoch) % self.threads] for t in range(self.threads)]
        stop = threading.Event()
        results: list[tuple[float, int, int, int] | None] = [None] * self.threads
        errors: list[BaseException] = []

        def work(t: int) -> None:
            try:
                results[t] = self._run_shard(t, shards[t], epoch, stop)
            except BaseException as exc:  # re-raised in the calling thread
                errors.append(exc)
                stop.set()

        if self.threads == 1:
            # No thread needed: check should_stop between chunks directly.
            results[0] = self._run_shard(0, shards[0], epoch, stop, should_stop)
        else:
            workers = [threading.Thread(target=work, args=(t,), daemon=True)
                       for t in range(self.threads)]
            for w in workers:
                w.start()
            for w in workers:
                while w.is_alive():
                    w.join(timeout=0.05)
                    if not stop.is_set() and should_stop():
                        stop.set()
            if errors:
                raise errors[0]
        loss = sum(r[0] for r in results if r)
        correct = sum(r[1] for r in results if r)
        examples = sum(r[2] for r in results if r)
        tokens = sum(r[3] for r in results if r)
        return EpochStats(loss, correct, examples, tokens, stopped=stop.is_set())

    def _run_shard(self, t: int, shard: np.ndarray, epoch: int, stop: threading.Event,
                   should_stop: Callable[[], bool] | None = None) -> tuple[float, int, int, int]:
        data = self.data
        hidden, grad, scores = self._scratch[t]
        shard_units = int(self._units[shard].sum())
        per_unit = 1.0 / (self.epochs * max(shard_units, 1))
        cum_rows = np.cumsum(self._lengths[shard])
        loss, correct, examples, units, rows = 0.0, 0, 0, 0, 0
        start = 0
        while start < shard.shape[0]:
            if stop.is_set() or (should_stop is not None and should_stop()):
                stop.set()
                break
            end = int(np.searchsorted(cum_rows, rows + CHUNK_ROWS, side="right")) + 1
            end = min(max(end, start + 1), shard.shape[0])
            chunk_loss, chunk_correct, chunk_units = sgd_examples(
                self.wi, self.wo, data.ids, data.offsets, data.targets, self._units,
                shard[start:end], self.learning_rate, epoch / self.epochs, per_unit, units,
                hidden, grad, scores,
            )
            loss += chunk_loss
            correct += chunk_correct
            units += chunk_units
            rows = int(cum_rows[end - 1])
            examples += end - start
            start = end
        return loss, correct, examples, units - 2 * examples  # tokenizer tokens

    def evaluate(self, data: Encoded) -> float:
        """Accuracy on ``data`` with the current weights (targets -1 count as wrong)."""
        return accuracy(self.wi, self.wo, data.ids, data.offsets, data.targets)

    def predict(self, data: Encoded) -> np.ndarray:
        """The top label index of every example of ``data``."""
        return logits(self.wi, self.wo, data.ids, data.offsets).argmax(axis=1)

    def close(self) -> None:
        """Nothing to release (the matrices stay with :meth:`weights`)."""

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The trained (input, output) matrices."""
        return self.wi, self.wo

    def restore(self, wi: np.ndarray, wo: np.ndarray, rng_state: dict[str, Any]) -> None:
        """Continue from a checkpoint: weights and the shuffling RNG's state."""
        self.wi[...] = wi
        self.wo[...] = wo
        self.rng.bit_generator.state = rng_state

