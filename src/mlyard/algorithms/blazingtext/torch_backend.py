"""torch backend: minibatch SGD of the same model, for CUDA (also runs on CPU).

``nn.EmbeddingBag(mode="mean", sparse=True)`` averages an example's input rows, a bias-free
``nn.Linear`` gives the label scores, and plain SGD (sparse gradients for the embeddings)
minimizes the *summed* softmax cross-entropy of each minibatch, so that ``learning_rate``
means what it means for the per-example CPU backend, except that each input row's gradient
is averaged over its occurrences in the batch (see
:meth:`TorchTrainer._average_input_gradients`; plain summing diverges at fastText's learning
rates once batches hold more than a few dozen examples). The learning rate decays linearly
to 0 over all batches of all epochs. Batches follow file order (or a new shuffle every epoch with
``shuffle``); the whole encoded data set is moved to the device once and batches are
gathered there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from mlyard.algorithms.blazingtext.backend import EpochStats, init_input_matrix
from mlyard.algorithms.blazingtext.features import Encoded
from mlyard.errors import ValidationError


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"gpu"`` means ``"cuda"``; anything
    else as torch spells it. Asking for CUDA where there is none is a ValidationError."""
    device = (device or "auto").lower()
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "gpu":
        device = "cuda"
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValidationError(f"blazingtext: unknown device {device!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"blazingtext: device {device!r} asked for, but torch sees no "
                              "CUDA device; use backend=cpu")
    return dev


class _FastTextModule(nn.Module):
    def __init__(self, wi: np.ndarray, n_labels: int) -> None:
        super().__init__()
        rows, dim = wi.shape
        self.embedding = nn.EmbeddingBag(rows, dim, mode="mean", sparse=True)
        self.output = nn.Linear(dim, n_labels, bias=False)
        with torch.no_grad():
            self.embedding.weight.copy_(torch.from_numpy(wi))
            self.output.weight.zero_()

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return self.output(self.embedding(ids, offsets))  # type: ignore[no-any-return]


class TorchTrainer:
    """Minibatch trainer with the same interface as the CPU Hogwild trainer."""

    def __init__(self, n_rows: int, dim: int, n_labels: int, data: Encoded, epochs: int,
                 learning_rate: float, batch_size: int, seed: int, device: str = "auto",
                 threads: int = 0, shuffle: bool = True) -> None:
        self.device = resolve_device(device)
        self._saved_threads = torch.get_num_threads()
        if threads > 0 and self.device.type == "cpu":
            torch.set_num_threads(threads)
        self.data = data
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        wi = init_input_matrix(n_rows, dim, self.rng)
        self.model = _FastTextModule(wi, n_labels).to(self.device)
        del wi
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=learning_rate)
        dev = self.device
        self._ids = torch.from_numpy(data.ids.astype(np.int64)).to(dev)
        self._offsets = torch.from_numpy(data.offsets).to(dev)
        self._lengths = self._offsets[1:] - self._offsets[:-1]
        self._targets = torch.from_numpy(data.targets.astype(np.int64)).to(dev)
        self._batches_per_epoch = max(1, -(-len(data) // batch_size))
        self._eval_cache: tuple[int, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    def current_lr(self, epoch: int) -> float:
        """Learning rate at the start of ``epoch`` (0-based)."""
        return self.learning_rate * (1.0 - epoch / self.epochs)

    def _gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lens = self._lengths[idx]
        bag_offsets = torch.zeros_like(lens)
        torch.cumsum(lens[:-1], dim=0, out=bag_offsets[1:])
        total = int(lens.sum())
        # flat positions: start of the example + rank inside the example
        starts = torch.repeat_interleave(self._offsets[idx] - bag_offsets, lens,
                                         output_size=total)
        positions = starts + torch.arange(total, device=idx.device)
        return self._ids[positions], bag_offsets

    def _average_input_gradients(self, ids: torch.Tensor) -> None:
        """Give each input row the *mean* of its per-occurrence gradients in the batch.

        Summing (per-example SGD semantics) is right for rare rows but makes frequent rows
        (EOS, "the") take one huge step per batch and diverge at fastText's learning rates;
        averaging keeps the per-example update of a row seen once, and one averaged update
        for a row seen in every example. The output layer keeps the summed gradient.
        """
        emb = self.model.embedding.weight
        grad = emb.grad
        if grad is None:
            return
        grad = grad.coalesce()
        _, counts = torch.unique(ids, sorted=True, return_counts=True)
        values = grad.values() / counts.unsqueeze(1).to(grad.dtype)
        emb.grad = torch.sparse_coo_tensor(grad.indices(), values, grad.shape,
                                           is_coalesced=True, check_invariants=False)

    def run_epoch(self, epoch: int, should_stop: Callable[[], bool]) -> EpochStats:
        """One pass over the shuffled data in minibatches (``should_stop`` checked every
        few batches)."""
        n = len(self.data)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        perm = torch.from_numpy(order).to(self.device)
        model, opt = self.model, self.optimizer
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        correct = torch.zeros((), dtype=torch.int64, device=self.device)
        seen = 0
        stopped = False
        total_batches = self.epochs * self._batches_per_epoch
        for b in range(self._batches_per_epoch):
            if b % 16 == 0 and should_stop():
                stopped = True
                break
            idx = perm[b * self.batch_size:(b + 1) * self.batch_size]
            if idx.numel() == 0:
                break
            ids, offsets = self._gather(idx)
            target = self._targets[idx]
            progress = (epoch * self._batches_per_epoch + b) / total_batches
            for group in opt.param_groups:
                group["lr"] = self.learning_rate * max(0.0, 1.0 - progress)
            scores = model(ids, offsets)
            loss = nn.functional.cross_entropy(scores, target, reduction="sum")
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            self._average_input_gradients(ids)
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach()
                correct += (scores.argmax(dim=1) == target).sum()
            seen += int(idx.numel())
        tokens = int(self.data.tokens[order[:seen]].sum())
        return EpochStats(float(loss_sum), int(correct), seen, tokens, stopped=stopped)

    @torch.no_grad()
    def evaluate(self, data: Encoded) -> float:
        """Accuracy on ``data`` (targets -1 count as wrong), computed on the device."""
        if len(data) == 0:
            return 0.0
        return float(np.mean(self.predict(data) == data.targets))

    def predict(self, data: Encoded) -> np.ndarray:
        """The top label index of every example of ``data``."""
        n = len(data)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        key = id(data)
        if self._eval_cache is None or self._eval_cache[0] != key:
            dev = self.device
            self._eval_cache = (
                key,
                torch.from_numpy(data.ids.astype(np.int64)).to(dev),
                torch.from_numpy(data.offsets).to(dev),
                torch.from_numpy(data.targets.astype(np.int64)).to(dev),
            )
        _, ids, offsets, _targets = self._eval_cache
        self.model.eval()
        out = []
        step = max(self.batch_size, 4096)
        with torch.no_grad():
            for lo in range(0, n, step):
                hi = min(lo + step, n)
                a, b = int(offsets[lo]), int(offsets[hi])
                scores = self.model(ids[a:b], offsets[lo:hi] - offsets[lo])
                out.append(scores.argmax(dim=1).cpu().numpy())
        return np.concatenate(out)

    def close(self) -> None:
        """Restore torch's CPU thread count and free device memory."""
        torch.set_num_threads(self._saved_threads)
        self._eval_cache = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The trained (input, output) matrices as float32 numpy arrays on the CPU."""
        wi = self.model.embedding.weight.detach().to("cpu", torch.float32).numpy()
        wo = self.model.output.weight.detach().to("cpu", torch.float32).numpy()
        return wi, wo

    def restore(self, wi: np.ndarray, wo: np.ndarray, rng_state: dict[str, Any]) -> None:
        """Continue from a checkpoint: weights and the shuffling RNG's state."""
        with torch.no_grad():
            self.model.embedding.weight.copy_(torch.from_numpy(wi))
            self.model.output.weight.copy_(torch.from_numpy(wo))
        self.rng.bit_generator.state = rng_state

