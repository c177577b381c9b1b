"""The ``blazingtext`` algorithm: fastText-style supervised text classification.

Training reads the ``train`` (and optional ``validation``) channel, builds the vocabulary and
hashed n-gram features once, trains with the chosen backend, logs one line per epoch::

    epoch 3/10 #train_accuracy: 0.912345 #validation_accuracy: 0.874000 loss: 0.2841 ...

(the ``#..._accuracy: value`` parts are what :data:`METRICS` regexes match; the same values go
through ``ctx.report_metric(name, value, epoch)``), and saves the model into
``ctx.model_dir`` and ``training_summary.json`` into ``ctx.output_dir``.

``train:accuracy`` is fastText-style *online* accuracy: the share of training examples the
model classified correctly just before updating on them during the epoch (free to compute;
a separate pass would cost about half an epoch).

When ``ctx.should_stop()`` turns true (checked between epochs and between chunks of work
inside an epoch), training raises :class:`mlyard.errors.MlyardError` with the message
``"stopped"`` and saves nothing.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from mlyard.algorithms.base import (
    Algorithm,
    MetricDefinition,
    TrainingContext,
    write_training_summary,
)
from mlyard.algorithms.blazingtext.backend import EpochStats
from mlyard.algorithms.blazingtext.data import check_validation_labels, read_channel
from mlyard.algorithms.blazingtext.features import Encoded, FeatureSpace
from mlyard.algorithms.blazingtext.model import BlazingTextModel, load_model, save_model
from mlyard.algorithms.blazingtext.params import (
    HYPERPARAMETERS,
    METRICS,
    SUPPORTED_MODE,
    WORD2VEC_MODES,
)
from mlyard.core.params import Hyperparameter
from mlyard.errors import DataError, MlyardError, ValidationError
from mlyard.evaluation.metrics import macro_f1
from mlyard.models.datafiles import BadRows
from mlyard.training.checkpoint import CheckpointManager

STOPPED_MESSAGE = "stopped"


class _Trainer(Protocol):
    def current_lr(self, epoch: int) -> float: ...
    def run_epoch(self, epoch: int, should_stop: Any) -> EpochStats: ...
    def evaluate(self, data: Encoded) -> float: ...
    def predict(self, data: Encoded) -> np.ndarray: ...
    def weights(self) -> tuple[Any, Any]: ...
    def restore(self, wi: Any, wo: Any, rng_state: dict[str, Any]) -> None: ...
    def close(self) -> None: ...
    rng: np.random.Generator


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_threads(requested: int, ctx_threads: int) -> int:
    """``threads`` hyperparameter > 0 wins; else the job's allowance when above 1; else all
    available cores."""
    if requested > 0:
        return requested
    if ctx_threads > 1:
        return ctx_threads
    return available_cores()


def labels_look_sorted(targets: np.ndarray) -> bool:
    """Whether labels change far less often between consecutive examples than in a random
    order (fewer than half the expected changes)."""
    n = targets.shape[0]
    if n < 20:
        return False
    share = np.bincount(targets) / n
    expected = (n - 1) * (1.0 - float(np.sum(share**2)))
    changes = int(np.count_nonzero(targets[1:] != targets[:-1]))
    return bool(expected > 0 and changes < 0.5 * expected)


def _cuda_available() -> bool:
    # Importing torch costs a second or more: look for an NVIDIA driver first.
    if not (os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def choose_backend(backend: str, device: str) -> tuple[str, str]:
    """(backend, device) to train with, from the hyperparameter and the job's device."""
    device = (device or "auto").lower()
    if device == "gpu":
        device = "cuda"
    if backend == "cpu":
        return "cpu", "cpu"
    if backend == "torch":
        if device == "auto":
            return "torch", "cuda" if _cuda_available() else "cpu"
        return "torch", device
    if device.startswith("cuda"):
        return "torch", device
    if device == "auto" and _cuda_available():
        return "torch", "cuda"
    return "cpu", "cpu"


class BlazingText(Algorithm):
    """SageMaker BlazingText-compatible supervised text classifier (fastText's model)."""

    name: ClassVar[str] = "blazingtext"
    description: ClassVar[str] = (
        "fastText-style text classification (SageMaker BlazingText, mode=supervised): "
        "averaged word and hashed word-n-gram embeddings, softmax, Hogwild SGD."
    )
    HYPERPARAMETERS: ClassVar[tuple[Hyperparameter, ...]] = HYPERPARAMETERS
    METRICS: ClassVar[tuple[MetricDefinition, ...]] = METRICS
    # numba and the Hogwild kernel (loaded from numba's cache): about 1.4 s per process
    PRELOAD: ClassVar[tuple[str, ...]] = ("mlyard.algorithms.blazingtext.warm",)

    def resolve_hyperparameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``; refuses modes other than ``supervised``."""
        mode = given.get("mode")
        if mode is not None and str(mode).strip() != SUPPORTED_MODE:
            kind = "Word2Vec mode " if str(mode).strip() in WORD2VEC_MODES else "mode "
            raise ValidationError(
                f"algorithm 'blazingtext': {kind}{str(mode).strip()!r} is not supported; "
                f"mlyard implements only mode={SUPPORTED_MODE!r} (text classification)"
            )
        return super().resolve_hyperparameters(given)

    def train(self, ctx: TrainingContext, hyperparameters: dict[str, Any]) -> None:
        """Train on ``ctx.channels`` and save the model into ``ctx.model_dir``."""
        hp = self.resolve_hyperparameters(hyperparameters)
        self.check_channels(ctx.channels)
        has_validation = "validation" in ctx.channels
        if hp["early_stopping"] and not has_validation:
            raise ValidationError(
                "blazingtext: early_stopping=true needs a 'validation' channel"
            )
        started = time.perf_counter()
        n_train, space, train_enc, val_enc, cached = prepare_channels(ctx, hp, has_validation)
        prep_seconds = time.perf_counter() - started
        if not hp["shuffle"] and labels_look_sorted(train_enc.targets):
            ctx.log("blazingtext: warning: the training examples look sorted by label; "
                    "training reads them in order, so shuffle the file or set shuffle=true")
        threads = resolve_threads(hp["threads"], ctx.num_threads)
        seed = hp["seed"] if hp["seed"] >= 0 else ctx.seed
        backend, device = choose_backend(hp["backend"], ctx.device)
        ctx.log(
            f"blazingtext: {n_train} training examples, {train_enc.n_tokens} words, "
            f"{len(space.labels)} labels, vocabulary {space.n_words}, "
            f"{space.bucket_ids.shape[0]} n-gram buckets used, "
            f"{len(val_enc) if val_enc is not None else 0} validation examples; "
            f"backend {backend} on {device}, {threads} thread(s); "
            f"data {'loaded from the channel cache' if cached else 'prepared'} in "
            f"{prep_seconds:.2f}s"
        )
        if ctx.should_stop():
            raise MlyardError(STOPPED_MESSAGE)
        t = time.perf_counter()
        trainer = self._make_trainer(backend, device, space, train_enc, hp, threads, seed)
        setup_seconds = time.perf_counter() - t
        checkpoints = CheckpointManager.from_env({
            "algorithm": "blazingtext", "labels": space.labels, "input_rows": space.n_rows,
            "vector_dim": hp["vector_dim"], "epochs": hp["epochs"],
            "learning_rate": hp["learning_rate"], "n_train": len(train_enc),
            "train_words": int(train_enc.n_tokens),
        }, log=ctx.log)
        try:
            summary = self._epochs(ctx, hp, trainer, train_enc, val_enc, checkpoints)
            wi, wo = trainer.weights()
        finally:
            trainer.close()
        summary.update(
            backend=backend, device=device, threads=threads, seed=seed,
            prep_seconds=round(prep_seconds, 4), setup_seconds=round(setup_seconds, 4),
            n_train=len(train_enc), n_validation=len(val_enc) if val_enc is not None else 0,
            train_words=train_enc.n_tokens, vocab_size=space.n_words,
            input_rows=space.n_rows, labels=space.labels,
        )
        t = time.perf_counter()
        save_model(Path(ctx.model_dir), space, wi, wo, {
            "hyperparameters": hp,
            "backend": backend,
            "epochs_run": summary["epochs_run"],
            "train_accuracy": summary["train_accuracy"],
            "validation_accuracy": summary["validation_accuracy"],
        })
        summary["save_seconds"] = round(time.perf_counter() - t, 4)
        summary["total_seconds"] = round(time.perf_counter() - started, 4)
        write_training_summary(ctx, summary)
        ctx.log(
            f"blazingtext: trained {summary['epochs_run']} epoch(s) in "
            f"{summary['train_seconds']:.2f}s ({summary['train_words_per_second']:.0f} "
            f"words/s); model saved to {ctx.model_dir}"
        )

    @staticmethod
    def _make_trainer(backend: str, device: str, space: FeatureSpace, data: Encoded,
                      hp: dict[str, Any], threads: int, seed: int) -> _Trainer:
        args = (space.n_rows, hp["vector_dim"], len(space.labels), data, hp["epochs"],
                hp["learning_rate"])
        if backend == "torch":
            try:
                from mlyard.algorithms.blazingtext.torch_backend import TorchTrainer
            except ImportError as exc:
                raise ValidationError(
                    f"blazingtext: backend torch needs PyTorch (the 'torch' extra): {exc}"
                ) from None
            return TorchTrainer(*args, batch_size=hp["batch_size"], seed=seed, device=device,
                                threads=threads, shuffle=hp["shuffle"])
        from mlyard.algorithms.blazingtext.hogwild import HogwildTrainer

        return HogwildTrainer(*args, threads=threads, seed=seed, shuffle=hp["shuffle"])

    @staticmethod
    def _epochs(ctx: TrainingContext, hp: dict[str, Any], trainer: _Trainer,
                train_enc: Encoded, val_enc: Encoded | None,
                checkpoints: CheckpointManager | None = None) -> dict[str, Any]:
        """The epoch loop. With a checkpoint location it saves the weights, the shuffling
        RNG and the loop's bookkeeping after every epoch, and resumes from the newest
        checkpoint (a Hogwild run with one thread resumes to the same weights)."""
        epochs = hp["epochs"]
        n_labels = int(trainer.weights()[1].shape[0])
        history: list[dict[str, Any]] = []
        train_seconds = eval_seconds = 0.0
        words = 0
        best, best_epoch, since_best = -1.0, 0, 0
        stopped_early = False
        stats: EpochStats | None = None
        val_acc: float | None = None
        first = 0
        found = checkpoints.latest() if checkpoints is not None else None
        if found is not None:
            arrays = np.load(found.file("weights.npz"), allow_pickle=False)
            meta = found.meta
            trainer.restore(arrays["wi"], arrays["wo"], meta["rng"])
            first, history, words = meta["epoch"], meta["history"], meta["words"]
            train_seconds, eval_seconds = meta["train_seconds"], meta["eval_seconds"]
            best, best_epoch, since_best = meta["best"], meta["best_epoch"], meta["since_best"]
            val_acc = meta["validation_accuracy"]
            stats = EpochStats(**meta["stats"])
            ctx.log(f"blazingtext: resumed from checkpoint {found.path.name} after epoch "
                    f"{first}")
        for epoch in range(first, epochs):
            if ctx.should_stop():
                raise MlyardError(STOPPED_MESSAGE)
            lr = trainer.current_lr(epoch)
            t = time.perf_counter()
            stats = trainer.run_epoch(epoch, ctx.should_stop)
            seconds = time.perf_counter() - t
            if stats.stopped:
                raise MlyardError(STOPPED_MESSAGE)
            train_seconds += seconds
            words += stats.tokens
            t = time.perf_counter()
            val_f1: float | None = None
            if val_enc is not None:
                pred = trainer.predict(val_enc)
                val_acc = float(np.mean(pred == val_enc.targets)) if len(val_enc) else 0.0
                val_f1 = macro_f1(val_enc.targets, pred, n_labels)
            eval_seconds += time.perf_counter() - t
            step = epoch + 1
            line = f"epoch {step}/{epochs} #train_accuracy: {stats.accuracy:.6f}"
            if val_acc is not None:
                line += f" #validation_accuracy: {val_acc:.6f}"
                line += f" #validation_macro_f1: {val_f1:.6f}"
            wps = stats.tokens / seconds if seconds > 0 else 0.0
            ctx.log(f"{line} loss: {stats.loss:.6f} lr: {lr:.6f} words/s: {wps:.0f} "
                    f"time: {seconds:.3f}s")
            ctx.report_metric("train:accuracy", stats.accuracy, step)
            record: dict[str, Any] = {
                "epoch": step, "train_accuracy": stats.accuracy, "loss": stats.loss,
                "seconds": round(seconds, 4), "words_per_second": round(wps),
            }
            if val_acc is not None and val_f1 is not None:
                ctx.report_metric("validation:accuracy", val_acc, step)
                ctx.report_metric("validation:macro_f1", val_f1, step)
                record["validation_accuracy"] = val_acc
                record["validation_macro_f1"] = val_f1
                if val_acc > best:
                    best, best_epoch, since_best = val_acc, step, 0
                else:
                    since_best += 1
            history.append(record)
            if checkpoints is not None:
                state = {"epoch": step, "rng": trainer.rng.bit_generator.state,
                         "history": history, "words": words, "train_seconds": train_seconds,
                         "eval_seconds": eval_seconds, "best": best, "best_epoch": best_epoch,
                         "since_best": since_best, "validation_accuracy": val_acc,
                         "stats": dataclasses.asdict(stats)}
                wi, wo = trainer.weights()

                def write(folder: Path, wi: Any = wi, wo: Any = wo) -> None:
                    np.savez(folder / "weights.npz", wi=wi, wo=wo)

                checkpoints.save(step, step, write, meta=state)
            if (hp["early_stopping"] and step >= hp["min_epochs"]
                    and since_best >= hp["patience"] and step < epochs):
                ctx.log(f"early stopping after epoch {step}: validation accuracy has not "
                        f"improved for {since_best} epoch(s) (best {best:.6f} at epoch "
                        f"{best_epoch})")
                stopped_early = True
                break
        assert stats is not None  # epochs >= 1
        return {
            "epochs_run": len(history),
            "stopped_early": stopped_early,
            "train_seconds": round(train_seconds, 4),
            "eval_seconds": round(eval_seconds, 4),
            "train_words_per_second": round(words / train_seconds) if train_seconds else 0,
            "train_accuracy": stats.accuracy,
            "validation_accuracy": val_acc,
            "best_validation_accuracy": best if val_enc is not None else None,
            "best_epoch": best_epoch if val_enc is not None else None,
            "final_loss": stats.loss,
            "history": history,
        }

    @classmethod
    def load(cls, model_dir: Path) -> BlazingTextModel:
        """Load a model saved by :meth:`train`."""
        return load_model(model_dir)


#: Bumped when the preparation's output changes (older cache entries are then misses).
PREPARATION_VERSION = 2
_ENCODED = ("ids", "offsets", "targets", "tokens")


def prepare_channels(ctx: TrainingContext, hp: Mapping[str, Any], has_validation: bool
                     ) -> tuple[int, FeatureSpace, Encoded, Encoded | None, bool]:
    """Read, tokenize and encode the channels: ``(training examples, feature space,
    training set, validation set, whether it came from the channel cache)``.

    With a channel cache (:mod:`mlyard.training.channel_cache`, set up for every training
    job) the result is keyed by the channels' content and the preparation's parameters
    (``min_count``, ``word_ngrams``, ``buckets``) and the bad-row policy
    (``skip_bad_rows``): the trials of a tuning job prepare the same data once. What the
    bad-row policy skipped is logged on a cache hit as on a miss."""
    from mlyard.algorithms.blazingtext.data import channel_files
    from mlyard.training.channel_cache import ChannelCache

    names = ["train", "validation"] if has_validation else ["train"]
    cache = ChannelCache.from_env()
    key = None
    if cache is not None:
        files = {name: channel_files(Path(ctx.channels[name]), name) for name in names}
        key = cache.key("blazingtext", files, {
            "version": PREPARATION_VERSION, "min_count": hp["min_count"],
            "word_ngrams": hp["word_ngrams"], "buckets": hp["buckets"],
            "skip_bad_rows": ctx.skip_bad_rows})
        found = cache.load(key)
        if found is not None:
            try:
                prepared = _from_cache(*found)
            except (KeyError, ValueError, TypeError):
                pass  # an entry of an unexpected shape: prepare again
            else:
                if found[1].get("bad_rows"):
                    ctx.log(f"blazingtext: {found[1]['bad_rows']}")
                return (*prepared, True)
    bad_rows = BadRows(skip=ctx.skip_bad_rows)
    raw = read_channel(Path(ctx.channels["train"]), "train", bad_rows)
    val_raw = read_channel(Path(ctx.channels["validation"]), "validation", bad_rows) \
        if has_validation else None
    summary = bad_rows.summary()
    if summary:
        ctx.log(f"blazingtext: {summary}")
    space, train_enc = FeatureSpace.fit(raw.texts, raw.labels, hp["min_count"],
                                        hp["word_ngrams"], hp["buckets"])
    if len(space.labels) < 2:
        raise DataError(
            f"channel 'train' has a single label {space.labels[0]!r}; a classifier needs "
            "at least 2"
        )
    if val_raw is not None:
        check_validation_labels(space.labels, val_raw.labels)
    val_enc = space.encode(val_raw.texts, val_raw.labels) if val_raw is not None else None
    if cache is not None and key is not None:
        arrays, meta = _to_cache(len(raw), space, train_enc, val_enc)
        meta["bad_rows"] = summary
        cache.store(key, arrays, meta)
    return len(raw), space, train_enc, val_enc, False


def _to_cache(n_train: int, space: FeatureSpace, train: Encoded, val: Encoded | None
              ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    vocab = space.to_json()
    counts = vocab.pop("counts")
    arrays = {"bucket_ids": space.bucket_ids}
    if counts is not None:
        arrays["word_counts"] = np.asarray(space.word_counts)
    meta: dict[str, Any] = {"vocab": vocab, "n_train": n_train, "sets": {}}
    for prefix, enc in (("train", train), ("validation", val)):
        if enc is None:
            continue
        meta["sets"][prefix] = {"n_tokens": int(enc.n_tokens)}
        for field_name in _ENCODED:
            arrays[f"{prefix}_{field_name}"] = getattr(enc, field_name)
    return arrays, meta


def _from_cache(arrays: dict[str, np.ndarray], meta: dict[str, Any]
                ) -> tuple[int, FeatureSpace, Encoded, Encoded | None]:
    vocab = dict(meta["vocab"])
    vocab["counts"] = arrays.get("word_counts")
    space = FeatureSpace.from_json(vocab, arrays["bucket_ids"])
    sets: dict[str, Encoded] = {}
    for prefix, info in meta["sets"].items():
        ids, offsets, targets, tokens = (arrays[f"{prefix}_{f}"] for f in _ENCODED)
        sets[prefix] = Encoded(ids, offsets, targets, int(info["n_tokens"]), tokens)
    return int(meta["n_train"]), space, sets["train"], sets.get("validation")
