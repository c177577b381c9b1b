"""The BERT fine-tuning loop: one process or data-parallel ranks, with checkpoints and hooks.

* **Data parallelism.** Every rank computes the same global batch order (same seed) and takes
  every ``world_size``-th example of each global batch. The loss of a rank is its share of
  the global batch's summed loss, scaled so that DDP's gradient averaging gives exactly the
  gradient of the mean loss over the global batch: training with N ranks is the same
  computation as with one (up to float summation order). ``fsdp`` shards parameters,
  gradients and optimizer state (FSDP2 ``fully_shard`` per transformer layer).
* **Checkpoints** (``SM_CHECKPOINT_DIR``): model, optimizer, scheduler and RNG states plus the
  position in the data (epoch, step in epoch, the epoch's shuffling RNG state) every
  ``every_steps`` steps; a restarted job resumes mid-epoch where the checkpoint was taken and
  reaches the same result as an uninterrupted run. The loop only waits for a CPU snapshot;
  writing and hashing happen in a background thread.
* **Debugger / Profiler** hooks from ``MLYARD_DEBUGGER_CONFIG`` / ``MLYARD_PROFILER_CONFIG``.
* **Progress** within an epoch (rank 0, every :data:`PROGRESS_SECONDS`): global step of all
  steps, samples/s, elapsed time, ETA and the epoch's running loss
  (:class:`~mlyard.training.progress.StepProgress`), so a long CPU epoch does not look hung.
* Validation: each rank evaluates an equal share of the validation set; loss sums and the
  confusion matrix are summed across ranks.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlyard.algorithms.base import TrainingContext
from mlyard.algorithms.bert.data import Encoded, PaddedBatches, batches
from mlyard.errors import MlyardError
from mlyard.evaluation.metrics import confusion_scores
from mlyard.training.checkpoint import Checkpoint, CheckpointManager
from mlyard.training.progress import StepProgress

STOPPED_MESSAGE = "stopped"
STOP_CHECK_STEPS = 10
PROGRESS_SECONDS = 10.0  # between progress lines within an epoch (steps, samples/s, ETA)
_NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
STATE_FILE = "state.pt"


@dataclass
class Parallel:
    """This process's place in the job: rank, world size, strategy, the process group."""

    rank: int = 0
    world: int = 1
    strategy: str = "ddp"
    dist: Any = None

    def shard(self, ids: np.ndarray) -> tuple[np.ndarray, float]:
        """This rank's examples of a global batch and the weight of its loss (0 when the
        batch has fewer examples than ranks and this rank got none: it still takes part in
        the collectives with one example that counts for nothing)."""
        mine = ids[self.rank::self.world]
        if len(mine) == 0:
            return ids[:1], 0.0
        return mine, 1.0

    def all_sum(self, values: np.ndarray) -> np.ndarray:
        if self.dist is None:
            return values
        import torch

        tensor = torch.as_tensor(values, dtype=torch.float64)
        self.dist.all_reduce(tensor)
        return tensor.numpy()

    def barrier(self) -> None:
        if self.dist is not None:
            self.dist.barrier()

    def agree(self, flag: bool) -> bool:
        """Rank 0's decision, on every rank."""
        if self.dist is None:
            return flag
        import torch

        tensor = torch.tensor([1 if flag else 0])
        self.dist.broadcast(tensor, 0)
        return bool(tensor.item())


class BertTrainer:
    """Fine-tunes ``model`` on ``train`` (see the module docstring). :meth:`fit` returns the
    training summary; the trained weights are in ``model`` (rank 0 saves them)."""

    def __init__(self, ctx: TrainingContext, hp: dict[str, Any], model: Any, tokenizer: Any,
                 train: Encoded, validation: Encoded | None, device: str, seed: int,
                 n_classes: int, make_schedule: Callable[..., Any], parallel: Parallel,
                 checkpoints: CheckpointManager | None) -> None:
        import torch

        self.ctx, self.hp, self.device = ctx, hp, device
        self.train, self.validation = train, validation
        self.seed, self.n_classes, self.par = seed, n_classes, parallel
        self.checkpoints = checkpoints
        self.checkpoint_blocking = 0.0  # seconds the loop spent on snapshots and waits
        self.model = model
        self.base_model = model
        cuda = device.startswith("cuda")
        if parallel.world > 1:
            from mlyard.training.distributed import wrap_model

            self.model = wrap_model(model, parallel.strategy, device)
        params = list(self.model.named_parameters())
        decay = [p for n, p in params if p.requires_grad and not any(k in n for k in _NO_DECAY)]
        no_decay = [p for n, p in params if p.requires_grad and any(k in n for k in _NO_DECAY)]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": hp["weight_decay"]},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=hp["learning_rate"], fused=True if cuda else None,
        )
        bs = hp["train_batch_size"]
        self.steps_per_epoch = (len(train) + bs - 1) // bs
        self.total_steps = self.steps_per_epoch * hp["epochs"]
        self.scheduler = make_schedule(self.optimizer, int(hp["warmup_ratio"] * self.total_steps),
                                       self.total_steps)
        self.forward = torch.compile(self.model) if hp["torch_compile"] else self.model
        self.use_bf16 = bool(hp["bf16"]) and cuda
        self.pad_id = int(tokenizer.pad_token_id)
        self._padded: dict[int, PaddedBatches] = {}  # per data set (train, validation)
        self.with_tt = "token_type_ids" in getattr(tokenizer, "model_input_names", [])
        from mlyard.training.debugger import DebugHook
        from mlyard.training.profiler import StepProfiler

        self.debug = DebugHook.from_env(parallel.rank)
        self.profiler = StepProfiler.from_env(parallel.rank)

    # -- pieces --------------------------------------------------------------------------
    def _autocast(self) -> Any:
        import torch

        if self.use_bf16:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _batch(self, data: Encoded, ids: np.ndarray) -> tuple[dict[str, Any], Any]:
        import torch

        source = self._padded.get(id(data))
        if source is None:
            source = self._padded[id(data)] = PaddedBatches(data, self.pad_id)
        batch = {k: torch.from_numpy(v).to(self.device, non_blocking=True)
                 for k, v in source(ids).items()}
        if self.with_tt:
            batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
        # non_blocking: a blocking copy would wait for the GPU's queue to drain every step
        targets = torch.from_numpy(np.ascontiguousarray(data.targets[ids], dtype=np.int64))
        return batch, targets.to(self.device, non_blocking=True)

    def evaluate(self, data: Encoded) -> dict[str, float]:
        """Validation loss, accuracy and macro-F1 over all ranks' shares of ``data``."""
        import torch

        self.model.eval()
        par, bs = self.par, self.hp["eval_batch_size"]
        mine = np.arange(len(data))[par.rank::par.world]
        order = [mine[b] for b in batches(data.lengths[mine], bs, None,
                                          self.hp["length_bucketing"])]
        # every rank runs the same number of forward passes (FSDP gathers in each)
        per_rank = -(-len(data) // par.world)
        n_batches = -(-per_rank // bs)
        confusion = np.zeros((self.n_classes, self.n_classes), dtype=np.float64)
        loss_sum = 0.0
        with torch.inference_mode():
            for i in range(n_batches):
                ids, weight = (order[i], 1.0) if i < len(order) else (np.arange(1), 0.0)
                batch, y = self._batch(data, ids)
                with self._autocast():
                    logits = self.forward(**batch).logits.float()
                if weight == 0.0:
                    continue
                loss_sum += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
                pred = logits.argmax(dim=-1).cpu().numpy()
                np.add.at(confusion, (data.targets[ids], pred), 1)
        totals = par.all_sum(np.concatenate([[loss_sum], confusion.ravel()]))
        confusion = totals[1:].reshape(confusion.shape)
        accuracy, f1 = confusion_scores(confusion)
        return {"loss": float(totals[0] / max(confusion.sum(), 1)), "accuracy": accuracy,
                "macro_f1": f1}

    # -- checkpoints ---------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        """A snapshot of everything a resume needs, copied to the CPU (the checkpoint is
        written in the background while training changes the live tensors)."""
        import torch

        if self.par.world > 1:
            from mlyard.training.distributed import full_state_dicts

            model_state, optim_state = full_state_dicts(self.model, self.optimizer)
        else:
            model_state, optim_state = self.model.state_dict(), self.optimizer.state_dict()
        state: dict[str, Any] = {
            "model": model_state, "optimizer": optim_state,
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }
        if self.device.startswith("cuda"):
            state["cuda_rng"] = torch.cuda.get_rng_state(torch.device(self.device))
        return _snapshot(state)

    def _checkpoint_due(self, step: int) -> bool:
        """Whether to checkpoint after ``step``. A step schedule is the same on every rank;
        a time schedule is rank 0's call, broadcast (one small collective per step, only
        then)."""
        assert self.checkpoints is not None
        due = self.checkpoints.due(step)
        return self.par.agree(due) if self.checkpoints.every_seconds is not None else due

    def _save(self, position: dict[str, Any]) -> None:
        import torch

        assert self.checkpoints is not None
        started = time.perf_counter()
        state = self._state()  # a collective under FSDP: every rank
        self.checkpoints.save(position["step"], position["epoch"],
                              lambda folder: torch.save(state, folder / STATE_FILE),
                              meta=copy.deepcopy(position))
        self.par.barrier()
        self.checkpoint_blocking += time.perf_counter() - started

    def _restore(self, checkpoint: Checkpoint) -> dict[str, Any]:
        import pickle
        import re

        import torch

        try:
            # tensors, numbers, strings and containers only: a checkpoint is never unpickled
            state = torch.load(checkpoint.file(STATE_FILE), map_location="cpu",
                               weights_only=True)
        except pickle.UnpicklingError as exc:
            from mlyard.training.checkpoint import CheckpointError

            found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
            named = f" (it names {found.group(1)})" if found else ""
            raise CheckpointError(f"checkpoint {checkpoint.path}: cannot load {STATE_FILE}: it "
                                  "holds objects other than tensors and plain values, which "
                                  f"mlyard does not unpickle{named}") from None
        except Exception as exc:
            from mlyard.training.checkpoint import CheckpointError

            raise CheckpointError(f"checkpoint {checkpoint.path}: cannot load "
                                  f"{STATE_FILE}: {exc}") from None
        if self.par.world > 1:
            from mlyard.training.distributed import load_full_state_dicts

            load_full_state_dicts(self.model, self.optimizer, state["model"], state["optimizer"])
        else:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.startswith("cuda"):
            torch.cuda.set_rng_state(state["cuda_rng"], torch.device(self.device))
        return checkpoint.meta

    def _resume(self) -> dict[str, Any] | None:
        if self.checkpoints is None:
            return None
        # rank 0 looks first (with on_invalid=restart it moves bad checkpoints aside)
        found = self.checkpoints.latest() if self.par.rank == 0 else None
        self.par.barrier()
        if self.par.rank != 0:
            found = self.checkpoints.latest()
        if found is None:
            return None
        meta = self._restore(found)
        self.ctx.log(f"bert: resumed from checkpoint {found.path.name} (epoch {meta['epoch']}, "
                     f"step {meta['step_in_epoch']} of {self.steps_per_epoch} in that epoch, "
                     f"global step {meta['step']})")
        return meta

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train (resuming from the newest checkpoint, if any); returns the summary."""
        try:
            return self._fit()
        except BaseException:
            if self.checkpoints is not None:  # let a checkpoint being written finish
                self.checkpoints.wait(raise_errors=False)
            raise

    def _fit(self) -> dict[str, Any]:
        import torch

        hp, ctx, par = self.hp, self.ctx, self.par
        bs = hp["train_batch_size"]
        rng = np.random.default_rng(self.seed)
        history: list[dict[str, Any]] = []
        train_seconds = eval_seconds = 0.0
        samples = step = 0
        first_epoch, skip = 1, 0
        loss_sum, seen = 0.0, 0
        resumed = self._resume()
        if resumed is not None:
            first_epoch, skip, step = resumed["epoch"], resumed["step_in_epoch"], resumed["step"]
            rng.bit_generator.state = resumed["rng"]
            history = resumed["history"]
            train_seconds, samples = resumed["train_seconds"], resumed["samples"]
            loss_sum, seen = resumed["loss_sum"], resumed["seen"]
        metrics: dict[str, float] = dict(history[-1]) if history else {}
        metrics = {k: v for k, v in metrics.items() if ":" in k}
        progress = StepProgress(max(self.total_steps, 1), start_step=step,
                                every_seconds=PROGRESS_SECONDS)
        ckpt_due = self.checkpoints is not None
        # the epoch's summed loss stays on the device (float64, the same sums as Python
        # floats): reading it every step would wait for the GPU once per step
        loss_acc = torch.zeros((), dtype=torch.float64, device=self.device)
        for epoch in range(first_epoch, hp["epochs"] + 1):
            if ctx.should_stop():
                raise MlyardError(STOPPED_MESSAGE)
            self.model.train()
            epoch_rng_state = rng.bit_generator.state
            order = batches(self.train.lengths, bs, rng, hp["length_bucketing"])
            if epoch != first_epoch or resumed is None:
                loss_sum, seen, skip = 0.0, 0, 0
            loss_acc.fill_(loss_sum)
            t0 = time.perf_counter()
            for k in range(skip, len(order)):
                if self.profiler is not None:
                    self.profiler.step_start(step + 1)
                ids, weight = par.shard(order[k])
                batch, y = self._batch(self.train, ids)
                if self.profiler is not None:
                    self.profiler.dataloader_done()
                with self._autocast():
                    logits = self.forward(**batch).logits
                ce = torch.nn.functional.cross_entropy(logits.float(), y, reduction="sum")
                loss = ce * (weight * par.world / len(order[k]))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                step += 1
                if self.debug is not None:
                    self.debug.record_train_step(step, loss=float(ce.detach()) / len(ids),
                                                 model=self.model, labels=y)
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                self.optimizer.step()
                self.scheduler.step()
                if weight:
                    loss_acc += ce.detach()
                seen += len(ids) if weight else 0
                if self.profiler is not None:
                    self.profiler.step_end(batch_size=len(ids))
                if step % STOP_CHECK_STEPS == 0 and ctx.should_stop():
                    raise MlyardError(STOPPED_MESSAGE)
                if ckpt_due and self._checkpoint_due(step):
                    self._save({"epoch": epoch, "step_in_epoch": k + 1, "step": step,
                                "rng": epoch_rng_state, "history": history,
                                "train_seconds": train_seconds + time.perf_counter() - t0,
                                "samples": samples, "loss_sum": float(loss_acc),
                                "seen": seen})
                if par.rank == 0:
                    line = progress.update(step, len(order[k]))
                    if line is not None:
                        ctx.log(f"bert: epoch {epoch}/{hp['epochs']} {line} "
                                f"loss {float(loss_acc) / max(seen, 1):.4f}")
            loss_sum = float(loss_acc)  # waits for the epoch's last step
            seconds = time.perf_counter() - t0
            train_seconds += seconds
            total = par.all_sum(np.array([loss_sum, seen], dtype=np.float64))
            epoch_seen = int(total[1])
            samples += epoch_seen
            metrics = {"train:loss": float(total[0] / max(epoch_seen, 1))}
            if self.validation is not None:
                t = time.perf_counter()
                for key, value in self.evaluate(self.validation).items():
                    metrics[f"validation:{key}"] = value
                eval_seconds += time.perf_counter() - t
                if self.debug is not None:
                    self.debug.record_eval(step, loss=metrics["validation:loss"],
                                           metrics=metrics)
            sps = epoch_seen / seconds if seconds > 0 else 0.0
            parts = " ".join(f"#{k.replace(':', '_')}: {v:.6f}" for k, v in metrics.items())
            if par.rank == 0:  # every rank has the same (reduced) figures
                ctx.log(f"epoch {epoch}/{hp['epochs']} {parts} "
                        f"lr: {self.scheduler.get_last_lr()[0]:.3e} samples/s: {sps:.1f} "
                        f"time: {seconds:.2f}s")
            for key, value in metrics.items():
                ctx.report_metric(key, value, epoch)
            history.append({"epoch": epoch, **metrics, "seconds": round(seconds, 4),
                            "samples_per_second": round(sps, 2)})
        if self.debug is not None:
            self.debug.close()
        if self.profiler is not None:
            self.profiler.close()
        if self.checkpoints is not None:
            self.checkpoints.wait()
        summary: dict[str, Any] = {
            "epochs_run": len(history),
            "steps": step,
            "train_seconds": round(train_seconds, 4),
            "eval_seconds": round(eval_seconds, 4),
            "samples_per_second": round(samples / train_seconds, 2) if train_seconds else 0.0,
            "final_metrics": metrics,
            "history": history,
            "world_size": par.world,
            "resumed_from_step": resumed["step"] if resumed is not None else None,
        }
        if self.checkpoints is not None:
            summary["checkpoints_saved"] = self.checkpoints.saves
            summary["checkpoint_blocking_seconds"] = round(self.checkpoint_blocking, 4)
            summary["checkpoint_write_seconds"] = round(self.checkpoints.write_seconds, 4)
        return summary

    def trained_model(self) -> Any:
        """A plain (unwrapped, unsharded) model with the trained weights, for saving on
        rank 0. DDP's replica is the model itself; FSDP sharded the parameters, so every
        rank takes part in gathering them and rank 0 loads them into a fresh model."""
        if self.par.world == 1 or self.par.strategy != "fsdp":
            return self.base_model
        from transformers import AutoModelForSequenceClassification

        from mlyard.training.distributed import full_state_dicts

        state, _ = full_state_dicts(self.model, None)
        if self.par.rank != 0:
            return None
        model = AutoModelForSequenceClassification.from_config(self.base_model.config)
        model.load_state_dict(state)
        return model


def _snapshot(value: Any) -> Any:
    """A deep copy of a (nested) state dict with every tensor cloned to the CPU."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_snapshot(v) for v in value)
    return copy.deepcopy(value)
