"""The ``bert`` algorithm: fine-tune a BERT-family encoder as a text classifier.

Training reads the ``train`` (and optional ``validation``) channel (``label,text`` CSV, or
splits tokenized by the ``mlyard tokenize`` processing step, checked against the model's
tokenizer),
maps the sorted training labels to class ids 0..K-1, loads the pretrained model from the
``pretrained`` channel or the bundled MiniLM-L6, and fine-tunes it with AdamW (linear warmup
then decay, gradient clipping at 1.0) on length-bucketed, dynamically padded batches. After
each epoch it logs one line::

    epoch 2/3 #train_loss: 0.412345 #validation_loss: 0.301234 #validation_accuracy: 0.9100 \
#validation_macro_f1: 0.9087 samples/s: 123 time: 4.2s

(the ``#name: value`` parts are what :data:`METRICS` regexes match; the same values go through
``ctx.report_metric(name, value, epoch)``), then saves the model into ``ctx.model_dir`` and
``training_summary.json`` into ``ctx.output_dir``.

``ctx.should_stop()`` is checked before each epoch and every few steps;
when it turns true training raises :class:`mlyard.errors.MlyardError` (``"stopped"``) and
saves nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mlyard.algorithms.base import (
    Algorithm,
    MetricDefinition,
    TrainingContext,
    write_training_summary,
)
from mlyard.algorithms.bert.data import (
    Encoded,
    encode,
    label_index,
    read_channel,
    read_tokenized_channel,
    resolve_pretrained,
    tokenized_label_index,
    tokenized_to_encoded,
    tokenizer_name,
)
from mlyard.algorithms.bert.model import (
    BertClassifier,
    load_model,
    offline,
    resolve_device,
    save_model,
)
from mlyard.algorithms.bert.params import HYPERPARAMETERS, METRICS
from mlyard.algorithms.bert.trainer import STOPPED_MESSAGE, BertTrainer, Parallel
from mlyard.algorithms.blazingtext.algorithm import resolve_threads
from mlyard.core.params import Hyperparameter
from mlyard.errors import DataError, MlyardError, ValidationError
from mlyard.models.datafiles import BadRows
from mlyard.training.checkpoint import CheckpointManager
from mlyard.training.distributed import current_rank, current_world_size, process_group


def data_digest(data: Encoded) -> str:
    """A short digest of the training examples (token ids and classes), so a checkpoint is
    only resumed on the data it was trained on."""
    digest = hashlib.sha256()
    digest.update(data.targets.astype(np.int64).tobytes())
    for ids in data.input_ids:
        digest.update(np.asarray(ids, dtype=np.int32).tobytes())
        digest.update(b"|")
    return digest.hexdigest()[:16]


def check_vocab(tokenizer: Any, config: Any, pretrained: Path) -> None:
    """Raise :class:`ValidationError` when the tokenizer can produce ids the model's
    embedding table does not have."""
    tok_size = len(tokenizer)
    model_size = getattr(config, "vocab_size", None)
    if model_size is not None and tok_size > int(model_size):
        raise ValidationError(
            f"pretrained model {pretrained}: its tokenizer has {tok_size} tokens but the model "
            f"only {model_size} (config vocab_size); tokenizer and model do not match"
        )


def base_model_name(pretrained: Path) -> str:
    """The model's own name (``_name_or_path`` in its config.json, e.g.
    ``nreimers/MiniLM-L6-H384-uncased``), else its folder name."""
    try:
        name = json.loads((pretrained / "config.json").read_text()).get("_name_or_path")
    except (OSError, ValueError, AttributeError):
        name = None
    return name if isinstance(name, str) and name else pretrained.name


class Bert(Algorithm):
    """Fine-tunes a BERT-family encoder (default: MiniLM-L6) for text classification."""

    name: ClassVar[str] = "bert"
    description: ClassVar[str] = (
        "BERT-family text classifier: fine-tunes a local Hugging Face encoder (the "
        "'pretrained' channel, default MiniLM-L6) with a classification head."
    )
    HYPERPARAMETERS: ClassVar[tuple[Hyperparameter, ...]] = HYPERPARAMETERS
    METRICS: ClassVar[tuple[MetricDefinition, ...]] = METRICS
    OPTIONAL_CHANNELS: ClassVar[tuple[str, ...]] = ("validation", "pretrained")
    SUPPORTS_DISTRIBUTED: ClassVar[bool] = True

    def train(self, ctx: TrainingContext, hyperparameters: dict[str, Any]) -> None:
        """Fine-tune on ``ctx.channels`` and save the model into ``ctx.model_dir``."""
        hp = self.resolve_hyperparameters(hyperparameters)
        self.check_channels(ctx.channels)
        channels = {k: Path(v) for k, v in ctx.channels.items()}
        started = time.perf_counter()
        pretrained = resolve_pretrained(channels)
        tok_train = read_tokenized_channel(channels["train"], "train")
        tok_val = (read_tokenized_channel(channels["validation"], "validation")
                   if "validation" in channels else None)
        bad_rows = BadRows(skip=ctx.skip_bad_rows)
        raw = tok_train.raw() if tok_train is not None else read_channel(channels["train"],
                                                                         "train", bad_rows)
        val_raw = (tok_val.raw() if tok_val is not None
                   else read_channel(channels["validation"], "validation", bad_rows)
                   if "validation" in channels else None)
        if bad_rows.summary():
            ctx.log(f"bert: {bad_rows.summary()}")
        val_labels = val_raw.labels if val_raw is not None else None
        labels = (tokenized_label_index(tok_train, val_labels) if tok_train is not None
                  else label_index(raw.labels, val_labels))
        label_ids = {label: i for i, label in enumerate(labels)}
        seed = hp["seed"] if hp["seed"] >= 0 else ctx.seed
        texts, train_labels = raw.texts, raw.labels
        if 0 < hp["max_train_samples"] < len(raw):
            keep = np.sort(np.random.default_rng(seed).choice(
                len(raw), hp["max_train_samples"], replace=False))
            texts = [texts[i] for i in keep]
            train_labels = [train_labels[i] for i in keep]
            if tok_train is not None:
                tok_train = tok_train.subset(keep.tolist())

        offline()
        import torch
        from transformers import AutoConfig, AutoTokenizer, get_linear_schedule_with_warmup
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        try:
            # No remote code; weights load as safetensors or through transformers'
            # torch.load(weights_only=True), never by unpickling arbitrary objects.
            config = AutoConfig.from_pretrained(pretrained, local_files_only=True,
                                                trust_remote_code=False)
            tokenizer = AutoTokenizer.from_pretrained(pretrained, local_files_only=True,
                                                      trust_remote_code=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"pretrained model {pretrained}: cannot load: {exc}") from None
        check_vocab(tokenizer, config, pretrained)
        if tokenizer.pad_token_id is None:
            raise ValidationError(f"pretrained model {pretrained}: tokenizer has no pad token")
        max_len = min(hp["max_seq_length"],
                      int(getattr(config, "max_position_embeddings", 512) or 512))
        tok_name, vocab = tokenizer_name(pretrained), len(tokenizer)
        train_enc = (tokenized_to_encoded(tok_train, label_ids, max_len, tok_name, vocab)
                     if tok_train is not None
                     else encode(tokenizer, texts, train_labels, label_ids, max_len))
        val_enc = (tokenized_to_encoded(tok_val, label_ids, max_len, tok_name, vocab)
                   if tok_val is not None
                   else encode(tokenizer, val_raw.texts, val_raw.labels, label_ids, max_len)
                   if val_raw is not None else None)
        prep_seconds = time.perf_counter() - started

        threads = resolve_threads(hp["threads"], ctx.num_threads)
        rank, world = current_rank(), current_world_size()
        device = resolve_device(ctx.device)
        if device == "cuda" and world > 1:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        old_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with process_group(device) as dist:
                summary, model = self._train_ranked(
                    ctx, hp, pretrained, labels, label_ids, tokenizer, config, train_enc,
                    val_enc, device, seed, threads, prep_seconds, max_len,
                    Parallel(rank, world, os.environ.get("SM_DISTRIBUTION_STRATEGY", "ddp"),
                             dist), get_linear_schedule_with_warmup)
        finally:
            torch.set_num_threads(old_threads)
        if rank != 0:
            return
        summary.update(
            device=device, threads=threads, seed=seed, prep_seconds=round(prep_seconds, 4),
            n_train=len(train_enc), n_validation=len(val_enc) if val_enc is not None else 0,
            labels=labels, base_model=str(pretrained), max_seq_length=max_len,
        )
        t = time.perf_counter()
        save_model(Path(ctx.model_dir), model, tokenizer, labels, {
            "base_model": base_model_name(pretrained),
            "base_model_path": str(pretrained),
            "max_seq_length": max_len,
            "hyperparameters": hp,
            "epochs_run": summary["epochs_run"],
            "final_metrics": summary["final_metrics"],
        })
        summary["save_seconds"] = round(time.perf_counter() - t, 4)
        summary["total_seconds"] = round(time.perf_counter() - started, 4)
        write_training_summary(ctx, summary)
        ctx.log(
            f"bert: trained {summary['epochs_run']} epoch(s) in {summary['train_seconds']:.2f}s "
            f"({summary['samples_per_second']:.1f} samples/s); model saved to {ctx.model_dir}"
        )

    @staticmethod
    def _train_ranked(ctx: TrainingContext, hp: dict[str, Any], pretrained: Path,
                      labels: list[str], label_ids: dict[str, int], tokenizer: Any,
                      config: Any, train_enc: Encoded, val_enc: Encoded | None, device: str,
                      seed: int, threads: int, prep_seconds: float, max_len: int,
                      par: Parallel,
                      make_schedule: Any) -> tuple[dict[str, Any], Any]:
        """Build the model, resume from a checkpoint if there is one, fine-tune; returns the
        summary and (on rank 0) a plain model holding the trained weights."""
        import torch
        from transformers import AutoModelForSequenceClassification

        torch.manual_seed(seed)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(
                pretrained, num_labels=len(labels), local_files_only=True,
                trust_remote_code=False, id2label=dict(enumerate(labels)), label2id=label_ids,
                ignore_mismatched_sizes=True,
            )
        except (OSError, ValueError) as exc:
            raise DataError(f"pretrained model {pretrained}: cannot load: {exc}") from None
        model.to(device)  # type: ignore[arg-type]
        if par.rank == 0:
            ctx.log(
                f"bert: {len(train_enc)} training examples, {len(labels)} labels, "
                f"{len(val_enc) if val_enc is not None else 0} validation examples; "
                f"base model {pretrained}, max_seq_length {max_len}, on {device} "
                f"with {threads} thread(s)"
                + (f", rank 0 of {par.world} ({par.strategy})" if par.world > 1 else "")
                + f"; data prepared in {prep_seconds:.2f}s"
            )
        if ctx.should_stop():
            raise MlyardError(STOPPED_MESSAGE)
        fingerprint = {
            "algorithm": "bert", "base_model": base_model_name(pretrained), "labels": labels,
            "vocab_size": int(getattr(config, "vocab_size", 0) or 0),
            "hidden_size": int(getattr(config, "hidden_size", 0) or 0),
            "num_hidden_layers": int(getattr(config, "num_hidden_layers", 0) or 0),
            "max_seq_length": max_len, "train_batch_size": hp["train_batch_size"],
            "epochs": hp["epochs"], "world_size": par.world, "n_train": len(train_enc),
            "data": data_digest(train_enc),
        }
        checkpoints = CheckpointManager.from_env(fingerprint, writer=par.rank == 0,
                                                 log=ctx.log, background=True)
        trainer = BertTrainer(ctx, hp, model, tokenizer, train_enc, val_enc, device, seed,
                              len(labels), make_schedule, par, checkpoints)
        summary = trainer.fit()
        return summary, trainer.trained_model()

    @classmethod
    def load(cls, model_dir: Path) -> BertClassifier:
        """Load a model saved by :meth:`train`."""
        return load_model(model_dir)
