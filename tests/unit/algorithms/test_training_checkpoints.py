"""Built-in algorithms resume from checkpoints to the same result as an uninterrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlyard.algorithms import get_algorithm
from mlyard.algorithms.base import TrainingContext
from mlyard.errors import MlyardError
from mlyard.testing.algorithms import make_text_dataset
from mlyard.training.checkpoint import CheckpointError, checkpoint_env

BT_HP = {"epochs": 4, "threads": 1, "learning_rate": 0.3, "word_ngrams": 2, "seed": 3}


def _ctx(root: Path, channels: dict[str, Path], **kw: Any) -> TrainingContext:
    return TrainingContext(channels=channels, model_dir=root / "model",
                           output_dir=root / "output", device="cpu", log=lambda m: None, **kw)


def _use_checkpoints(monkeypatch: pytest.MonkeyPatch, folder: Path, every: int = 1) -> None:
    for key, value in checkpoint_env(folder, every_steps=every, every_seconds=None, keep=2,
                                     on_invalid="fail").items():
        monkeypatch.setenv(key, value)


def _weights(model_dir: Path) -> list[np.ndarray]:
    files = sorted(model_dir.glob("*.npy")) + sorted(model_dir.glob("*.npz"))
    out: list[np.ndarray] = []
    for f in files:
        loaded = np.load(f)
        out.extend([loaded] if isinstance(loaded, np.ndarray) else [loaded[k] for k in loaded])
    return out


def test_blazingtext_resumes_to_the_same_weights(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 400, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 80, seed=2)
    algo = get_algorithm("blazingtext")
    channels = {"train": train, "validation": val}
    algo.train(_ctx(tmp_path / "straight", channels), BT_HP)

    _use_checkpoints(monkeypatch, tmp_path / "ckpt")
    epochs_seen: list[int] = []

    def stop_after_two(name: str, value: float, step: int | None) -> None:
        if name == "train:accuracy" and step is not None:
            epochs_seen.append(step)

    with pytest.raises(MlyardError, match="stopped"):
        algo.train(_ctx(tmp_path / "first", channels, report_metric=stop_after_two,
                        should_stop=lambda: len(epochs_seen) >= 2), BT_HP)
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir())[-1] == "checkpoint-000000002"
    logs: list[str] = []
    ctx = _ctx(tmp_path / "second", channels)
    ctx.log = logs.append
    algo.train(ctx, BT_HP)
    assert any("resumed from checkpoint checkpoint-000000002" in line for line in logs)
    straight, resumed = _weights(tmp_path / "straight" / "model"), _weights(
        tmp_path / "second" / "model")
    assert straight and len(straight) == len(resumed)
    for a, b in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(a, b)


def test_blazingtext_refuses_a_checkpoint_of_another_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 200, seed=1)
    algo = get_algorithm("blazingtext")
    _use_checkpoints(monkeypatch, tmp_path / "ckpt")
    algo.train(_ctx(tmp_path / "a", {"train": train}), {**BT_HP, "epochs": 1})
    with pytest.raises(CheckpointError, match="vector_dim"):
        algo.train(_ctx(tmp_path / "b", {"train": train}), {**BT_HP, "vector_dim": 20})
