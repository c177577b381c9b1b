"""Conformance suite for :class:`mlyard.algorithms.Algorithm` implementations.

Each check trains the algorithm under test on a small generated text-classification set
(label/text CSV) and checks the contract every algorithm must keep: declared
hyperparameters parse their own defaults, the model directory carries a manifest and loads
through :func:`mlyard.models.load_model`, predictions have the wire shape, probabilities sum
to one, and declared metrics are reported.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlyard.algorithms.base import Algorithm, TrainingContext
from mlyard.errors import ValidationError
from mlyard.models import load_model, read_manifest

TOPICS = {
    "pos": "love great perfect beautiful comfortable flattering soft",
    "neg": "returned awful cheap itchy ripped terrible disappointed",
    "mid": "okay average fine decent alright ordinary mediocre",
}
FILLER = "the dress fabric size color fit top this was it and very".split()


def make_text_dataset(path: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` labelled rows (``label,text``) whose label is learnable from words."""
    rng = random.Random(seed)
    labels = sorted(TOPICS)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["label", "text"])
        for i in range(n):
            label = labels[i % len(labels)]
            words = rng.sample(TOPICS[label].split(), 2) + rng.sample(FILLER, 6)
            rng.shuffle(words)
            writer.writerow([label, " ".join(words)])
    return path


class AlgorithmConformance:
    """Subclass; define ``algorithm`` (an instance) and ``fast_hyperparameters`` fixtures."""

    @pytest.fixture
    def algorithm(self) -> Algorithm:  # pragma: no cover - overridden
        raise pytest.UsageError("define an `algorithm` fixture")

    @pytest.fixture
    def fast_hyperparameters(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def trained(self, algorithm: Algorithm, fast_hyperparameters: dict[str, Any],
                tmp_path: Path) -> tuple[Path, list[tuple[str, float, int | None]]]:
        train = make_text_dataset(tmp_path / "train.csv", 300, seed=1)
        val = make_text_dataset(tmp_path / "val.csv", 60, seed=2)
        points: list[tuple[str, float, int | None]] = []
        ctx = TrainingContext(
            channels={"train": train, "validation": val}, model_dir=tmp_path / "model",
            output_dir=tmp_path / "output", num_threads=1, device="cpu",
            log=lambda _msg: None,
            report_metric=lambda name, value, step: points.append((name, value, step)),
        )
        algorithm.train(ctx, algorithm.resolve_hyperparameters(fast_hyperparameters))
        return ctx.model_dir, points

    def test_declarations(self, algorithm: Algorithm) -> None:
        names = [h.name for h in algorithm.HYPERPARAMETERS]
        assert names and len(names) == len(set(names))
        defaults = algorithm.resolve_hyperparameters({})
        assert set(defaults) == set(names)
        for h in algorithm.HYPERPARAMETERS:
            assert h.parse(h.default) == h.default
            if h.tunable:
                assert h.tuning_range() is not None
        assert algorithm.METRICS, "an algorithm must declare the metrics it emits"
        with pytest.raises(ValidationError, match="unknown hyperparameter"):
            algorithm.resolve_hyperparameters({"no_such_parameter": 1})

    def test_model_contract(self, trained: tuple[Path, list[Any]], tmp_path: Path) -> None:
        model_dir, _ = trained
        manifest = read_manifest(model_dir)
        assert sorted(manifest.labels) == sorted(TOPICS)
        model = load_model(model_dir)
        texts = ["love perfect dress", "awful ripped top", "okay fine size"]
        proba = model.predict_proba(texts)
        assert proba.shape == (3, len(manifest.labels))
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
        preds = model.predict(texts, top_k=2)
        assert len(preds) == 3 and all(len(p["label"]) == 2 == len(p["prob"]) for p in preds)
        assert all(p["prob"][0] >= p["prob"][1] for p in preds)
        assert [p["label"][0] for p in preds] == ["pos", "neg", "mid"]

    def test_reports_declared_metrics(self, algorithm: Algorithm,
                                      trained: tuple[Path, list[Any]]) -> None:
        _, points = trained
        reported = {name for name, _, _ in points}
        declared = {m.name for m in algorithm.METRICS}
        assert reported & declared, f"reported {reported}, declared {declared}"
        assert reported <= declared | {n for n in reported if ":" not in n}
