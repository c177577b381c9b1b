"""The ``bert`` algorithm: fine-tune a BERT-family encoder as a text classifier.

Training reads the ``train`` (and optional ``validation``) channel (``label,text`` CSV),
maps the sorted training labels to class ids 0..K-1, loads the pretrained model from the
``pretrained`` channel or the bundled MiniLM-L6, and fine-tunes it with AdamW (linear warmup
then decay, gradient clipping at 1.0) on length-bucketed, dynamically padded batches. After
each epoch it logs one line::

    epoch 2/3 #train_loss: 0.412345 #validation_loss: 0.301234 #validation_accuracy: 0.9100 \
#validation_macro_f1: 0.9087 samples/s: 123 time: 4.2s

(the ``#name: value`` parts are what :data:`METRICS` regexes match; the same values go through
``ctx.report_metric(name, value, epoch)``), then saves the model into ``ctx.model_dir`` and
``training_summary.json`` into ``ctx.output_dir``.

``ctx.should_stop()`` is checked before each epoch and every :data:`STOP_CHECK_STEPS` steps;
when it turns true training raises :class:`mlyard.errors.MlyardError` (``"stopped"``) and
saves nothing.
"""

from __future__ import annotations

import contextlib
import json
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
    batches,
    collate,
    encode,
    iter_examples,
    label_index,
    read_channel,
    resolve_pretrained,
)
from mlyard.algorithms.bert.model import (
    BertClassifier,
    load_model,
    offline,
    resolve_device,
    save_model,
)
from mlyard.algorithms.bert.params import HYPERPARAMETERS, METRICS
from mlyard.algorithms.blazingtext.algorithm import resolve_threads
from mlyard.core.params import Hyperparameter
from mlyard.errors import DataError, MlyardError, ValidationError

STOPPED_MESSAGE = "stopped"
STOP_CHECK_STEPS = 10
PROGRESS_SECONDS = 30.0
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")


def macro_f1(targets: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes that occur in ``targets`` or
    ``predicted`` (a class neither present nor predicted is left out)."""
    scores: list[float] = []
    for c in range(n_classes):
        tp = int(np.sum((predicted == c) & (targets == c)))
        fp = int(np.sum((predicted == c) & (targets != c)))
        fn = int(np.sum((predicted != c) & (targets == c)))
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


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

    def train(self, ctx: TrainingContext, hyperparameters: dict[str, Any]) -> None:
        """Fine-tune on ``ctx.channels`` and save the model into ``ctx.model_dir``."""
        hp = self.resolve_hyperparameters(hyperparameters)
        self.check_channels(ctx.channels)
        channels = {k: Path(v) for k, v in ctx.channels.items()}
        started = time.perf_counter()
        pretrained = resolve_pretrained(channels)
        raw = read_channel(channels["train"], "train")
        val_raw = read_channel(channels["validation"], "validation") \
            if "validation" in channels else None
        labels = label_index(raw.labels, val_raw.labels if val_raw is not None else None)
        label_ids = {label: i for i, label in enumerate(labels)}
        seed = hp["seed"] if hp["seed"] >= 0 else ctx.seed
        texts, train_labels = raw.texts, raw.labels
        if 0 < hp["max_train_samples"] < len(raw):
            keep = np.sort(np.random.default_rng(seed).choice(
                len(raw), hp["max_train_samples"], replace=False))
            texts = [texts[i] for i in keep]
            train_labels = [train_labels[i] for i in keep]

        offline()
        import torch
        from transformers import (
            AutoConfig,
            AutoModelForSequenceClassification,
            AutoTokenizer,
            get_linear_schedule_with_warmup,
        )
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        try:
            config = AutoConfig.from_pretrained(pretrained, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(pretrained, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise DataError(f"pretrained model {pretrained}: cannot load: {exc}") from None
        check_vocab(tokenizer, config, pretrained)
        if tokenizer.pad_token_id is None:
            raise ValidationError(f"pretrained model {pretrained}: tokenizer has no pad token")
        max_len = min(hp["max_seq_length"],
                      int(getattr(config, "max_position_embeddings", 512) or 512))
        train_enc = encode(tokenizer, texts, train_labels, label_ids, max_len)
        val_enc = encode(tokenizer, val_raw.texts, val_raw.labels, label_ids, max_len) \
            if val_raw is not None else None
        prep_seconds = time.perf_counter() - started

        threads = resolve_threads(hp["threads"], ctx.num_threads)
        device = resolve_device(ctx.device)
        old_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            torch.manual_seed(seed)
            try:
                model = AutoModelForSequenceClassification.from_pretrained(
                    pretrained, num_labels=len(labels), local_files_only=True,
                    id2label=dict(enumerate(labels)), label2id=label_ids,
                    ignore_mismatched_sizes=True,
                )
            except (OSError, ValueError) as exc:
                raise DataError(f"pretrained model {pretrained}: cannot load: {exc}") from None
            model.to(device)  # type: ignore[arg-type]
            ctx.log(
                f"bert: {len(train_enc)} training examples ({len(raw)} read), {len(labels)} "
                f"labels, {len(val_enc) if val_enc is not None else 0} validation examples; "
                f"base model {pretrained}, max_seq_length {max_len}, on {device} with "
                f"{threads} thread(s); data prepared in {prep_seconds:.2f}s"
            )
            if ctx.should_stop():
                raise MlyardError(STOPPED_MESSAGE)
            summary = self._fit(ctx, hp, model, tokenizer, train_enc, val_enc, device, seed,
                                len(labels), get_linear_schedule_with_warmup)
        finally:
            torch.set_num_threads(old_threads)
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
    def _fit(ctx: TrainingContext, hp: dict[str, Any], model: Any, tokenizer: Any,
             train_enc: Encoded, val_enc: Encoded | None, device: str, seed: int,
             n_classes: int, make_schedule: Any) -> dict[str, Any]:
        import torch

        cuda = device.startswith("cuda")
        decay = [p for n, p in model.named_parameters()
                 if p.requires_grad and not any(k in n for k in _NO_DECAY)]
        no_decay = [p for n, p in model.named_parameters()
                    if p.requires_grad and any(k in n for k in _NO_DECAY)]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": hp["weight_decay"]},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=hp["learning_rate"], fused=True if cuda else None,
        )
        bs = hp["train_batch_size"]
        steps_per_epoch = (len(train_enc) + bs - 1) // bs
        total_steps = steps_per_epoch * hp["epochs"]
        scheduler = make_schedule(optimizer, int(hp["warmup_ratio"] * total_steps),
                                  total_steps)
        forward = torch.compile(model) if hp["torch_compile"] else model
        use_bf16 = bool(hp["bf16"]) and cuda
        pad_id = int(tokenizer.pad_token_id)
        with_tt = "token_type_ids" in getattr(tokenizer, "model_input_names", [])
        rng = np.random.default_rng(seed)
        lengths = train_enc.lengths

        def autocast() -> Any:
            if use_bf16:
                return torch.autocast("cuda", dtype=torch.bfloat16)
            return contextlib.nullcontext()

        def evaluate(data: Encoded) -> dict[str, float]:
            model.eval()
            loss_sum, preds = 0.0, np.empty(len(data), dtype=np.int64)
            order = batches(data.lengths, hp["eval_batch_size"], None, hp["length_bucketing"])
            with torch.inference_mode():
                for idx, (ids, targets) in zip(order, iter_examples(data, order), strict=True):
                    batch = {k: v.to(device) for k, v in collate(ids, pad_id, with_tt).items()}
                    with autocast():
                        logits = forward(**batch).logits.float()
                    y = torch.as_tensor(targets, device=device)
                    loss_sum += float(torch.nn.functional.cross_entropy(
                        logits, y, reduction="sum"))
                    preds[idx] = logits.argmax(dim=-1).cpu().numpy()
            return {
                "loss": loss_sum / len(data),
                "accuracy": float(np.mean(preds == data.targets)),
                "macro_f1": macro_f1(data.targets, preds, n_classes),
            }

        history: list[dict[str, Any]] = []
        train_seconds = eval_seconds = 0.0
        samples = step = 0
        last_log = time.perf_counter()
        metrics: dict[str, float] = {}
        for epoch in range(1, hp["epochs"] + 1):
            if ctx.should_stop():
                raise MlyardError(STOPPED_MESSAGE)
            model.train()
            t0 = time.perf_counter()
            loss_sum, seen = 0.0, 0
            order = batches(lengths, bs, rng, hp["length_bucketing"])
            for ids, targets in iter_examples(train_enc, order):
                batch = {k: v.to(device, non_blocking=True)
                         for k, v in collate(ids, pad_id, with_tt).items()}
                y = torch.as_tensor(targets, device=device)
                with autocast():
                    logits = forward(**batch).logits
                loss = torch.nn.functional.cross_entropy(logits.float(), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                step += 1
                loss_sum += float(loss.detach()) * len(ids)
                seen += len(ids)
                if step % STOP_CHECK_STEPS == 0 and ctx.should_stop():
                    raise MlyardError(STOPPED_MESSAGE)
                now = time.perf_counter()
                if now - last_log >= PROGRESS_SECONDS:
                    last_log = now
                    ctx.log(f"bert: epoch {epoch} step {step}/{total_steps} "
                            f"loss {loss_sum / seen:.4f} "
                            f"{seen / (now - t0):.1f} samples/s")
            seconds = time.perf_counter() - t0
            train_seconds += seconds
            samples += seen
            metrics = {"train:loss": loss_sum / max(seen, 1)}
            if val_enc is not None:
                t = time.perf_counter()
                for key, value in evaluate(val_enc).items():
                    metrics[f"validation:{key}"] = value
                eval_seconds += time.perf_counter() - t
            sps = seen / seconds if seconds > 0 else 0.0
            parts = " ".join(f"#{k.replace(':', '_')}: {v:.6f}" for k, v in metrics.items())
            ctx.log(f"epoch {epoch}/{hp['epochs']} {parts} "
                    f"lr: {scheduler.get_last_lr()[0]:.3e} samples/s: {sps:.1f} "
                    f"time: {seconds:.2f}s")
            for key, value in metrics.items():
                ctx.report_metric(key, value, epoch)
            history.append({"epoch": epoch, **metrics, "seconds": round(seconds, 4),
                            "samples_per_second": round(sps, 2)})
        return {
            "epochs_run": len(history),
            "steps": step,
            "train_seconds": round(train_seconds, 4),
            "eval_seconds": round(eval_seconds, 4),
            "samples_per_second": round(samples / train_seconds, 2) if train_seconds else 0.0,
            "final_metrics": metrics,
            "history": history,
        }

    @classmethod
    def load(cls, model_dir: Path) -> BertClassifier:
        """Load a model saved by :meth:`train`."""
        return load_model(model_dir)
