"""The saved BlazingText model and its predictor.

A model directory holds:

* ``mlyard-model.json``: the manifest (flavor ``blazingtext``, loader
  ``mlyard.algorithms.blazingtext:load_model``, labels in probability-column order, and in
  ``metadata`` the hyperparameters, vocabulary size, rows, tokenizer version...);
* ``input.npy``: float32 input matrix, ``n_words + n_used_buckets`` rows x ``vector_dim``;
* ``output.npy``: float32 output matrix, ``n_labels x vector_dim``;
* ``bucket_ids.npy``: int64 sorted n-gram buckets that have a row (row ``n_words + k``);
* ``vocab.json``: words (row order), their training counts, labels, ``word_ngrams``,
  ``buckets``.

Loading reads only these files, as JSON and plain numpy arrays: an object array (a pickle) is
refused, and no code from the directory runs.

Labels are stored without fastText's ``__label__`` prefix (SageMaker's BlazingText returns
``__label__1``; mlyard returns the label as the user wrote it, e.g. ``1``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.algorithms.blazingtext.backend import logits, softmax
from mlyard.algorithms.blazingtext.features import FeatureSpace
from mlyard.algorithms.blazingtext.text import LABEL_PREFIX, TOKENIZER_VERSION
from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel, ModelManifest, read_manifest, write_manifest

FLAVOR = "blazingtext"
LOADER = "mlyard.algorithms.blazingtext:load_model"
INPUT_FILE = "input.npy"
OUTPUT_FILE = "output.npy"
BUCKETS_FILE = "bucket_ids.npy"
VOCAB_FILE = "vocab.json"


def _instance_text(instance: Any, text_keys: Sequence[str]) -> str:
    if isinstance(instance, str):
        return instance
    if isinstance(instance, bytes):
        return instance.decode("utf-8", errors="replace")
    if isinstance(instance, Mapping):
        for key in text_keys:
            value = instance.get(key)
            if isinstance(value, str):
                return value
    raise ValidationError(
        f"blazingtext predicts from strings (or objects with a {text_keys[0]!r} field), "
        f"got {type(instance).__name__}"
    )


class BlazingTextModel(LoadedModel):
    """A trained text classifier: raw strings in, label probabilities out."""

    TEXT_KEYS: tuple[str, ...] = ("text", "source", "review_body")

    def __init__(self, manifest: ModelManifest, space: FeatureSpace, wi: np.ndarray,
                 wo: np.ndarray) -> None:
        self.manifest = manifest
        self.space = space
        self.wi = wi
        self.wo = np.ascontiguousarray(wo, dtype=np.float32)

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        """Probabilities of each label (columns in :attr:`labels` order) for raw strings,
        tokenized exactly as at training time. Shape ``(len(instances), len(labels))``."""
        if isinstance(instances, (str, bytes)):
            raise ValidationError("predict_proba takes a list of strings, not one string")
        texts = [_instance_text(x, self.TEXT_KEYS) for x in instances]
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float64)
        enc = self.space.encode(texts)
        return softmax(logits(self.wi, self.wo, enc.ids, enc.offsets))

    def predict_fasttext(self, instances: Sequence[Any], k: int = 1) -> list[dict[str, Any]]:
        """Like :meth:`predict` with SageMaker BlazingText's ``__label__`` prefixed labels."""
        out = self.predict(instances, top_k=k)
        for row in out:
            row["label"] = [LABEL_PREFIX + lab for lab in row["label"]]
        return out


def save_model(model_dir: Path, space: FeatureSpace, wi: np.ndarray, wo: np.ndarray,
               metadata: dict[str, Any]) -> ModelManifest:
    """Write the arrays, the vocabulary and the manifest into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    np.save(model_dir / INPUT_FILE, np.ascontiguousarray(wi, dtype=np.float32))
    np.save(model_dir / OUTPUT_FILE, np.ascontiguousarray(wo, dtype=np.float32))
    np.save(model_dir / BUCKETS_FILE, space.bucket_ids.astype(np.int64))
    (model_dir / VOCAB_FILE).write_text(json.dumps(space.to_json(), ensure_ascii=False))
    meta = {
        "tokenizer": TOKENIZER_VERSION,
        "vocab_size": space.n_words,
        "n_labels": len(space.labels),
        "input_rows": int(wi.shape[0]),
        "used_buckets": int(space.bucket_ids.shape[0]),
        "vector_dim": int(wi.shape[1]),
        "word_ngrams": space.word_ngrams,
        "buckets": space.buckets,
        "files": [INPUT_FILE, OUTPUT_FILE, BUCKETS_FILE, VOCAB_FILE],
        **metadata,
    }
    manifest = ModelManifest(flavor=FLAVOR, loader=LOADER, task="classification",
                             labels=list(space.labels), input_type="text", metadata=meta)
    write_manifest(model_dir, manifest)
    return manifest


def load_model(model_dir: str | Path) -> BlazingTextModel:
    """Load a model directory written by :func:`save_model` (the input matrix memory-mapped)."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    if manifest.flavor != FLAVOR:
        raise ValidationError(f"{model_dir} holds a {manifest.flavor!r} model, not {FLAVOR!r}")
    tokenizer = manifest.metadata.get("tokenizer", TOKENIZER_VERSION)
    if tokenizer != TOKENIZER_VERSION:
        raise ValidationError(
            f"{model_dir}: model uses tokenizer {tokenizer!r}; this mlyard has "
            f"{TOKENIZER_VERSION!r}"
        )
    try:
        vocab = json.loads((model_dir / VOCAB_FILE).read_text(encoding="utf-8"))
        bucket_ids = np.load(model_dir / BUCKETS_FILE, allow_pickle=False)
        wi = np.load(model_dir / INPUT_FILE, mmap_mode="r", allow_pickle=False)
        wo = np.load(model_dir / OUTPUT_FILE, allow_pickle=False)
    except (OSError, ValueError, KeyError) as exc:
        raise ValidationError(f"{model_dir}: incomplete blazingtext model: {exc}") from None
    space = FeatureSpace.from_json(vocab, bucket_ids)
    if wi.shape[0] != space.n_rows or wo.shape != (len(space.labels), wi.shape[1]):
        raise ValidationError(f"{model_dir}: model arrays do not match its vocabulary")
    return BlazingTextModel(manifest, space, wi, wo)
