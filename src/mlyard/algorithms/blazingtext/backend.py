"""What the training backends share: epoch statistics, initialization and numpy inference.

Inference needs no JIT, so loading a model to predict needs neither numba nor torch: the
mean of each example's input rows is a sparse (examples x rows) averaging matrix times the
input matrix (scipy's CSR product, one C loop), then times the output matrix. Without scipy a
numpy fallback gathers and sums rows with ``np.add.reduceat`` in batches of about
:data:`BATCH_ROWS` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BATCH_ROWS = 1 << 17


@dataclass
class EpochStats:
    """What one training epoch measured (``correct``: online accuracy before each update)."""

    loss_sum: float
    correct: int
    examples: int
    tokens: int
    stopped: bool = False

    @property
    def accuracy(self) -> float:
        """Training accuracy of the epoch (predictions made just before each update)."""
        return self.correct / self.examples if self.examples else 0.0

    @property
    def loss(self) -> float:
        """Mean softmax cross-entropy of the epoch."""
        return self.loss_sum / self.examples if self.examples else 0.0


def init_input_matrix(n_rows: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """fastText's input initialization: uniform(-1/dim, 1/dim), float32, allocated once."""
    wi = rng.random((n_rows, dim), dtype=np.float32)
    wi *= np.float32(2.0 / dim)
    wi -= np.float32(1.0 / dim)
    return wi


def logits(wi: np.ndarray, wo: np.ndarray, ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Scores ``mean(wi[rows of example]) @ wo.T`` for every example, shape (n, n_labels).

    An example without rows scores 0 for every label (uniform probabilities).
    """
    try:
        from scipy import sparse
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        return _logits_numpy(wi, wo, ids, offsets)
    n = offsets.shape[0] - 1
    lengths = np.diff(offsets)
    weights = np.repeat((1.0 / np.maximum(lengths, 1)).astype(np.float32), lengths)
    averaging = sparse.csr_matrix((weights, ids, offsets), shape=(n, wi.shape[0]))
    hidden = np.asarray(averaging @ wi, dtype=np.float32)
    return np.asarray(hidden @ wo.T, dtype=np.float32)


def _logits_numpy(wi: np.ndarray, wo: np.ndarray, ids: np.ndarray,
                  offsets: np.ndarray) -> np.ndarray:
    n = offsets.shape[0] - 1
    out = np.zeros((n, wo.shape[0]), dtype=np.float32)
    lengths = np.diff(offsets)
    first = 0
    while first < n:
        # grow the batch until it holds about BATCH_ROWS rows
        last = int(np.searchsorted(offsets, offsets[first] + BATCH_ROWS, side="right")) - 1
        last = min(max(last, first + 1), n)
        lo, hi = int(offsets[first]), int(offsets[last])
        lens = lengths[first:last]
        nonempty = np.flatnonzero(lens > 0)
        if hi > lo and nonempty.size:
            gathered = np.asarray(wi[ids[lo:hi]], dtype=np.float32)
            starts = (offsets[first:last] - lo)[nonempty]
            sums = np.add.reduceat(gathered, starts, axis=0)
            sums /= lens[nonempty, None].astype(np.float32)
            out[first + nonempty] = sums @ wo.T
        first = last
    return out


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax (in place on a float copy)."""
    z = scores.astype(np.float64, copy=True)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def accuracy(wi: np.ndarray, wo: np.ndarray, ids: np.ndarray, offsets: np.ndarray,
             targets: np.ndarray) -> float:
    """Share of examples whose top-scoring label is the target (-1 targets count wrong)."""
    if targets.shape[0] == 0:
        return 0.0
    pred = logits(wi, wo, ids, offsets).argmax(axis=1)
    return float(np.mean(pred == targets))
