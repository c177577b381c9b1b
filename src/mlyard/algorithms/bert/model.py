"""The saved ``bert`` model and its predictor.

A model directory holds:

* ``mlyard-model.json``: the manifest (flavor ``bert``, loader
  ``mlyard.algorithms.bert:load_model``, labels in probability-column order, and in
  ``metadata`` the base model, ``max_seq_length`` and the hyperparameters);
* ``hf/``: the fine-tuned model and its tokenizer, as written by Hugging Face
  ``save_pretrained`` (loadable with ``AutoModelForSequenceClassification`` directly).

Prediction loads in a fresh process (batch transform, endpoint replicas), on CUDA when
available, else CPU, and never touches the network. Loading runs no code from the model
directory and unpickles nothing: weights come only from ``model.safetensors``
(``use_safetensors=True``; a ``pytorch_model.bin`` is refused, it is a pickle), and with
``trust_remote_code=False`` custom code a config or tokenizer names is never imported
(ignored where transformers has the class, refused where it has not).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel, ModelManifest, read_manifest, write_manifest

FLAVOR = "bert"
LOADER = "mlyard.algorithms.bert:load_model"
HF_SUBDIR = "hf"
TEXT_KEYS: tuple[str, ...] = ("text", "source", "review_body")
PREDICT_BATCH_SIZE = 64


def offline() -> None:
    """Keep Hugging Face libraries off the network (models load from local folders only)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def resolve_device(device: str) -> str:
    """A torch device string: ``auto`` (and ``gpu``) pick CUDA when available, else CPU."""
    import torch

    device = (device or "auto").lower()
    if device == "gpu":
        device = "cuda"
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValidationError(f"device {device!r} requested but CUDA is not available")
    return device


def instance_text(instance: Any) -> str:
    """The text of one prediction instance (a string, bytes, or an object with a text
    field)."""
    if isinstance(instance, str):
        return instance
    if isinstance(instance, bytes):
        return instance.decode("utf-8", errors="replace")
    if isinstance(instance, Mapping):
        for key in TEXT_KEYS:
            value = instance.get(key)
            if isinstance(value, str):
                return value
    raise ValidationError(
        f"bert predicts from strings (or objects with a {TEXT_KEYS[0]!r} field), "
        f"got {type(instance).__name__}"
    )


class BertClassifier(LoadedModel):
    """A fine-tuned BERT-family sequence classifier: strings in, label probabilities out."""

    def __init__(self, manifest: ModelManifest, model: Any, tokenizer: Any, device: str,
                 max_seq_length: int, batch_size: int = PREDICT_BATCH_SIZE) -> None:
        self.manifest = manifest
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        """Softmax class probabilities, shape ``(len(instances), len(labels))``; batched in
        length order, no gradients."""
        import torch

        texts = [instance_text(x) for x in instances]
        k = len(self.manifest.labels)
        out = np.zeros((len(texts), k), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([len(t) for t in texts], kind="stable")
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = self.tokenizer([texts[i] for i in idx], truncation=True,
                                     max_length=self.max_seq_length, padding=True,
                                     return_tensors="pt")
                enc = {name: t.to(self.device) for name, t in enc.items()}
                logits = self.model(**enc).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out


def save_model(model_dir: Path, model: Any, tokenizer: Any, labels: list[str],
               metadata: dict[str, Any]) -> None:
    """Write the Hugging Face folder and the manifest into ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    hf_dir = model_dir / HF_SUBDIR
    model.save_pretrained(hf_dir)
    tokenizer.save_pretrained(hf_dir)
    write_manifest(model_dir, ModelManifest(
        flavor=FLAVOR, loader=LOADER, task="classification", labels=labels,
        input_type="text", metadata=metadata,
    ))


def load_model(model_dir: str | Path, device: str = "auto") -> BertClassifier:
    """Load a model saved by the ``bert`` algorithm (on CUDA when available, else CPU)."""
    offline()
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    if manifest.flavor != FLAVOR:
        raise ValidationError(f"{model_dir} holds a {manifest.flavor!r} model, not {FLAVOR!r}")
    hf_dir = model_dir / HF_SUBDIR
    if not (hf_dir / "config.json").is_file():
        raise ValidationError(f"{model_dir}: bert model folder {HF_SUBDIR}/ is missing")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    dev = resolve_device(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(hf_dir, local_files_only=True,
                                                  trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(
            hf_dir, local_files_only=True, use_safetensors=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise ValidationError(f"{model_dir}: cannot load the bert model in {HF_SUBDIR}/ "
                              f"(safetensors weights only, no remote code): {exc}") from None
    model.to(dev)  # type: ignore[arg-type]
    model.eval()
    n_out = int(model.config.num_labels)
    if n_out != len(manifest.labels):
        raise ValidationError(
            f"{model_dir}: the model has {n_out} outputs but the manifest lists "
            f"{len(manifest.labels)} labels"
        )
    max_len = int(manifest.metadata.get("max_seq_length", 512))
    return BertClassifier(manifest, model, tokenizer, dev, max_len)
