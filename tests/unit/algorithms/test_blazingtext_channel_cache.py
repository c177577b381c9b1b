"""BlazingText prepares a channel once: the second job with the same inputs loads it from
the channel cache, a changed file or a damaged entry is prepared again, and the model is
the same either way (issue 10, item 16)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlyard.algorithms.base import TrainingContext
from mlyard.algorithms.blazingtext import BlazingText, load_model
from mlyard.testing.algorithms import make_text_dataset
from mlyard.training.channel_cache import ENV

HPS = {"epochs": 2, "threads": 1, "buckets": 20000, "vector_dim": 8, "seed": 1}


def _train(tmp_path: Path, name: str, train: Path, val: Path) -> tuple[list[str], Path]:
    lines: list[str] = []
    out = tmp_path / name
    ctx = TrainingContext(channels={"train": train, "validation": val},
                          model_dir=out / "model", output_dir=out / "output", num_threads=1,
                          seed=1, log=lines.append)
    BlazingText().train(ctx, HPS)
    return lines, out / "model"


def _source(lines: list[str]) -> str:
    found = [line for line in lines if "training examples" in line]
    assert found, lines
    return "cache" if "loaded from the channel cache" in found[0] else "prepared"


def test_the_second_job_loads_the_prepared_channels(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv(ENV, str(cache))
    train = make_text_dataset(tmp_path / "train.csv", 200, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 60, seed=2)
    first, model_1 = _train(tmp_path, "one", train, val)
    second, model_2 = _train(tmp_path, "two", train, val)
    assert (_source(first), _source(second)) == ("prepared", "cache")
    texts = ["the first example", "another one entirely"]
    p1 = load_model(model_1).predict_proba(texts)
    p2 = load_model(model_2).predict_proba(texts)
    assert np.allclose(p1, p2)  # same data, same seed: the same model

    # the file's content changes: a miss
    make_text_dataset(train, 200, seed=3)
    third, _ = _train(tmp_path, "three", train, val)
    assert _source(third) == "prepared"

    # a damaged entry is not used: prepared again, and it still trains
    for entry in cache.iterdir():
        for array in entry.glob("*.npy"):
            raw = bytearray(array.read_bytes())
            raw[-1] ^= 0xFF
            array.write_bytes(bytes(raw))
    fourth, _ = _train(tmp_path, "four", train, val)
    assert _source(fourth) == "prepared"


def test_without_a_cache_location_nothing_is_cached(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    train = make_text_dataset(tmp_path / "train.csv", 120, seed=1)
    val = make_text_dataset(tmp_path / "val.csv", 40, seed=2)
    assert _source(_train(tmp_path, "a", train, val)[0]) == "prepared"
    assert _source(_train(tmp_path, "b", train, val)[0]) == "prepared"
