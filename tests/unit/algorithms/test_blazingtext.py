"""Unit tests of the BlazingText algorithm (fastText-style supervised text classification)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlyard.algorithms import get_algorithm
from mlyard.algorithms.base import TrainingContext
from mlyard.algorithms.blazingtext import BlazingText, BlazingTextModel, load_model, tokenize
from mlyard.algorithms.blazingtext.algorithm import choose_backend, resolve_threads
from mlyard.algorithms.blazingtext.data import read_channel
from mlyard.algorithms.blazingtext.text import fnv1a, ngram_buckets
from mlyard.errors import DataError, MlyardError, ValidationError
from mlyard.models.base import MANIFEST_NAME
from mlyard.models.base import load_model as load_any_model

CLASS_WORDS = {
    "sports": ["goal", "match", "team", "coach", "league", "score", "player", "stadium"],
    "food": ["pizza", "pasta", "recipe", "oven", "spicy", "dessert", "chef", "flavor"],
    "tech": ["laptop", "software", "python", "server", "cloud", "chip", "code", "network"],
}
NOISE = [f"noise{i}" for i in range(40)] + ["the", "a", "is", "and", "of", "it", "!", ","]
FAST = {"epochs": 8, "learning_rate": 0.5, "vector_dim": 16, "buckets": 5000,
        "min_count": 1, "threads": 1, "seed": 7}


def make_examples(n: int, seed: int) -> list[tuple[str, str]]:
    """(label, text) pairs: a few class words among noise words."""
    rng = np.random.default_rng(seed)
    labels = sorted(CLASS_WORDS)
    out = []
    for _ in range(n):
        label = labels[int(rng.integers(len(labels)))]
        words = list(rng.choice(CLASS_WORDS[label], size=int(rng.integers(2, 4))))
        words += list(rng.choice(NOISE, size=int(rng.integers(4, 9))))
        rng.shuffle(words)
        text = " ".join(words)
        out.append((label, text.capitalize() + "."))
    return out


def write_fasttext(path: Path, examples: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"__label__{lab} {text}\n" for lab, text in examples))
    return path


def write_csv(path: Path, examples: list[tuple[str, str]]) -> Path:
    lines = ["id,label,text"] + [f'{i},{lab},"{text}"' for i, (lab, text) in enumerate(examples)]
    path.write_text("\n".join(lines) + "\n")
    return path


def make_ctx(tmp_path: Path, train: Path, validation: Path | None = None,
             **kw: Any) -> TrainingContext:
    channels = {"train": train}
    if validation is not None:
        channels["validation"] = validation
    kw.setdefault("log", lambda _msg: None)
    return TrainingContext(channels=channels, model_dir=tmp_path / "model",
                           output_dir=tmp_path / "output", **kw)


def accuracy_on(model: BlazingTextModel, examples: list[tuple[str, str]]) -> float:
    proba = model.predict_proba([text for _, text in examples])
    predicted = [model.labels[i] for i in proba.argmax(axis=1)]
    return float(np.mean([p == lab for p, (lab, _) in zip(predicted, examples, strict=True)]))


@pytest.fixture(scope="module")
def heldout() -> list[tuple[str, str]]:
    return make_examples(300, seed=99)


# --- training, both backends, both formats --------------------------------------------------


def test_cpu_backend_csv_trains_accurate_model_and_roundtrips(
        tmp_path: Path, heldout: list[tuple[str, str]]) -> None:
    train = write_csv(tmp_path / "train.csv", make_examples(600, seed=1))
    ctx = make_ctx(tmp_path, train)
    algo = BlazingText()
    algo.train(ctx, algo.resolve_hyperparameters({**FAST, "backend": "cpu"}))

    model = load_model(ctx.model_dir)
    assert model.labels == ["food", "sports", "tech"]
    assert accuracy_on(model, heldout) > 0.9
    texts = [text for _, text in heldout[:50]]
    again = load_any_model(ctx.model_dir)  # through the manifest's loader
    assert isinstance(again, BlazingTextModel)
    np.testing.assert_array_equal(model.predict_proba(texts), again.predict_proba(texts))
    proba = model.predict_proba(texts)
    assert proba.shape == (50, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)

    manifest = json.loads((ctx.model_dir / MANIFEST_NAME).read_text())
    assert manifest["flavor"] == "blazingtext"
    assert manifest["loader"] == "mlyard.algorithms.blazingtext:load_model"
    assert manifest["task"] == "classification"
    assert manifest["metadata"]["hyperparameters"]["epochs"] == FAST["epochs"]
    assert manifest["metadata"]["vocab_size"] == len(model.space.words)

    summary = json.loads((ctx.output_dir / "training_summary.json").read_text())
    assert summary["epochs_run"] == FAST["epochs"]
    assert summary["train_words_per_second"] > 0
    assert summary["train_seconds"] > 0
    assert summary["backend"] == "cpu"


def test_torch_backend_fasttext_format_trains_accurate_model(
        tmp_path: Path, heldout: list[tuple[str, str]]) -> None:
    train = write_fasttext(tmp_path / "train.txt", make_examples(600, seed=2))
    ctx = make_ctx(tmp_path, train, device="cpu")
    hp = BlazingText().resolve_hyperparameters({**FAST, "backend": "torch", "batch_size": 16})
    torch = pytest.importorskip("torch")
    threads_before = torch.get_num_threads()
    BlazingText().train(ctx, hp)
    assert torch.get_num_threads() == threads_before
    model = load_model(ctx.model_dir)
    assert accuracy_on(model, heldout) > 0.9
    summary = json.loads((ctx.output_dir / "training_summary.json").read_text())
    assert summary["backend"] == "torch" and summary["device"] == "cpu"


def test_multithreaded_hogwild_and_word_ngrams_1(
        tmp_path: Path, heldout: list[tuple[str, str]]) -> None:
    train = write_fasttext(tmp_path / "train.txt", make_examples(600, seed=3))
    ctx = make_ctx(tmp_path, train)
    hp = BlazingText().resolve_hyperparameters(
        {**FAST, "threads": 2, "word_ngrams": 1, "backend": "cpu"})
    BlazingText().train(ctx, hp)
    model = load_model(ctx.model_dir)
    assert model.space.bucket_ids.size == 0
    assert accuracy_on(model, heldout) > 0.9


def test_predict_wire_format_and_odd_inputs(tmp_path: Path) -> None:
    train = write_fasttext(tmp_path / "train.txt", make_examples(300, seed=4))
    ctx = make_ctx(tmp_path, train)
    BlazingText().train(ctx, BlazingText().resolve_hyperparameters(FAST))
    model = load_model(ctx.model_dir)
    out = model.predict(["The chef made spicy pasta", "", "zzz unknown words only"], top_k=2)
    assert out[0]["label"][0] == "food"
    assert all(len(row["label"]) == 2 and len(row["prob"]) == 2 for row in out)
    assert model.predict([{"text": "laptop code"}])[0]["label"] == ["tech"]
    assert model.predict_fasttext(["laptop code"])[0]["label"] == ["__label__tech"]
    assert model.predict_proba([]).shape == (0, 3)
    with pytest.raises(ValidationError, match=r"predicts from strings.*got int"):
        model.predict_proba([42])


# --- input formats -------------------------------------------------------------------------


def test_fasttext_lines_several_labels_take_first(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("__label__a __label__b hello world\n\nsome text __label__c here\n")
    raw = read_channel(path)
    assert raw.labels == ["a", "c"]
    assert raw.texts == ["hello world", "some text here"]


def test_folder_channel_mixes_formats_and_skips_hidden(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    write_fasttext(folder / "part-0.txt", [("x", "one two")])
    write_csv(folder / "part-1.csv", [("y", "three, four")])
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden").write_text("garbage")
    raw = read_channel(folder)
    assert raw.labels == ["x", "y"]
    assert raw.texts == ["one two", "three, four"]


def test_csv_detected_by_content_and_column_case(tmp_path: Path) -> None:
    path = tmp_path / "data.tsvish"
    path.write_text('Text,Label\n"Good, very good",1\nbad,0\n')
    raw = read_channel(path)
    assert raw.labels == ["1", "0"]
    assert raw.texts == ["Good, very good", "bad"]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.txt", "", r"empty\.txt: empty file"),
        ("blank.csv", "\n\n", r"blank\.csv: empty file"),
        ("nolabel.txt", "just some text\n", r"nolabel\.txt:1: expected fastText"),
        ("later.txt", "__label__a ok\nno label here\n", r"later\.txt:2: no label"),
        ("emptylabel.txt", "__label__ text\n", r"emptylabel\.txt:1: empty label"),
        ("nocol.csv", "label,body\n1,hello\n", r"nocol\.csv: CSV needs a 'label' and a 'text'"),
        ("rowlabel.csv", "label,text\n1,ok\n,missing\n", r"rowlabel\.csv:3: empty label"),
        ("header.csv", "label,text\n", r"header\.csv: CSV has a header but no rows"),
    ],
)
def test_bad_input_raises_data_error(tmp_path: Path, name: str, content: str,
                                     match: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        read_channel(path)


def test_missing_channel_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_channel(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no data files"):
        read_channel(tmp_path / "empty")


def test_train_refuses_single_label(tmp_path: Path) -> None:
    train = write_fasttext(tmp_path / "t.txt", [("only", "a b c")] * 5)
    with pytest.raises(DataError, match="single label"):
        BlazingText().train(make_ctx(tmp_path, train), BlazingText().resolve_hyperparameters({}))


# --- hyperparameters -------------------------------------------------------------------------


def test_defaults_follow_sagemaker() -> None:
    hp = BlazingText().resolve_hyperparameters({})
    assert hp["mode"] == "supervised"
    assert (hp["epochs"], hp["learning_rate"], hp["min_count"], hp["vector_dim"]) == (
        5, 0.05, 5, 100)
    assert (hp["word_ngrams"], hp["buckets"], hp["early_stopping"]) == (2, 2_000_000, False)
    assert (hp["patience"], hp["min_epochs"]) == (4, 5)
    assert (hp["threads"], hp["backend"]) == (0, "auto")


def test_hyperparameter_parsing_and_errors() -> None:
    algo = BlazingText()
    hp = algo.resolve_hyperparameters({"epochs": "12", "early_stopping": "true",
                                       "learning_rate": "0.1"})
    assert hp["epochs"] == 12 and hp["early_stopping"] is True and hp["learning_rate"] == 0.1
    with pytest.raises(ValidationError, match="unknown hyperparameter"):
        algo.resolve_hyperparameters({"epoch": 3})
    with pytest.raises(ValidationError, match="below its minimum"):
        algo.resolve_hyperparameters({"vector_dim": 0})
    with pytest.raises(ValidationError, match="above its maximum"):
        algo.resolve_hyperparameters({"word_ngrams": 7})
    with pytest.raises(ValidationError, match="not one of"):
        algo.resolve_hyperparameters({"backend": "gpu"})
    for mode in ("unsupervised", "skipgram", "cbow"):
        with pytest.raises(ValidationError, match="only mode='supervised'"):
            algo.resolve_hyperparameters({"mode": mode})
    assert algo.resolve_hyperparameters({"mode": "supervised"})["mode"] == "supervised"


def test_tuning_ranges() -> None:
    by_name = {h.name: h for h in BlazingText.HYPERPARAMETERS}
    assert by_name["learning_rate"].tuning_range() == {
        "type": "Continuous", "min": 0.005, "max": 1.0, "scaling": "Logarithmic"}
    for name in ("epochs", "vector_dim", "word_ngrams", "min_count", "buckets"):
        assert by_name[name].tuning_range() is not None
    assert by_name["threads"].tuning_range() is None


def test_backend_choice() -> None:
    assert choose_backend("cpu", "cuda") == ("cpu", "cpu")
    assert choose_backend("auto", "cpu") == ("cpu", "cpu")
    assert choose_backend("auto", "cuda:1") == ("torch", "cuda:1")
    assert choose_backend("auto", "GPU") == ("torch", "cuda")
    assert choose_backend("torch", "cpu") == ("torch", "cpu")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(_cuda_available(), reason="checks the error raised where CUDA is absent")
def test_torch_refuses_missing_cuda() -> None:
    pytest.importorskip("torch")
    from mlyard.algorithms.blazingtext.torch_backend import resolve_device

    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ValidationError, match="no CUDA device"):
        resolve_device("cuda")


def test_registry_and_threads() -> None:
    assert isinstance(get_algorithm("BlazingText"), BlazingText)
    assert resolve_threads(3, 8) == 3
    assert resolve_threads(0, 4) == 4
    assert resolve_threads(0, 1) >= 1


# --- metrics, early stopping, stop requests -------------------------------------------------


def test_metrics_reported_and_logged_each_epoch(tmp_path: Path) -> None:
    examples = make_examples(400, seed=5)
    train = write_fasttext(tmp_path / "train.txt", examples[:300])
    val = write_csv(tmp_path / "val.csv", examples[300:])
    logs: list[str] = []
    points: list[tuple[str, float, int | None]] = []
    ctx = make_ctx(tmp_path, train, val, log=logs.append,
                   report_metric=lambda n, v, s: points.append((n, v, s)))
    BlazingText().train(ctx, BlazingText().resolve_hyperparameters({**FAST, "epochs": 4}))
    for name in ("train:accuracy", "validation:accuracy"):
        assert [s for n, _, s in points if n == name] == [1, 2, 3, 4]
        regex = re.compile(BlazingText().metric(name).regex)
        logged = [float(m.group(1)) for line in logs if (m := regex.search(line))]
        reported = [v for n, v, _ in points if n == name]
        np.testing.assert_allclose(logged, reported, atol=1e-6)
    assert all(0.0 <= v <= 1.0 for _, v, _ in points)
    assert [v for n, v, _ in points if n == "validation:accuracy"][-1] > 0.9


def test_early_stopping_stops_on_plateau(tmp_path: Path) -> None:
    examples = make_examples(400, seed=6)
    train = write_fasttext(tmp_path / "train.txt", examples[:300])
    val = write_fasttext(tmp_path / "val.txt", examples[300:])
    logs: list[str] = []
    ctx = make_ctx(tmp_path, train, val, log=logs.append)
    hp = BlazingText().resolve_hyperparameters(
        {**FAST, "epochs": 40, "early_stopping": True, "min_epochs": 2, "patience": 2})
    BlazingText().train(ctx, hp)
    summary = json.loads((ctx.output_dir / "training_summary.json").read_text())
    assert summary["stopped_early"] is True
    assert summary["epochs_run"] < 40
    assert summary["epochs_run"] >= summary["best_epoch"] + 2
    assert any(line.startswith("early stopping") for line in logs)
    assert (ctx.model_dir / MANIFEST_NAME).is_file()


def test_early_stopping_needs_validation(tmp_path: Path) -> None:
    train = write_fasttext(tmp_path / "train.txt", make_examples(50, seed=7))
    with pytest.raises(ValidationError, match="validation"):
        BlazingText().train(make_ctx(tmp_path, train),
                            BlazingText().resolve_hyperparameters({"early_stopping": True}))


@pytest.mark.parametrize("backend_threads", [("cpu", 1), ("cpu", 2), ("torch", 1)])
def test_should_stop_is_honored(tmp_path: Path, backend_threads: tuple[str, int]) -> None:
    backend, threads = backend_threads
    if backend == "torch":
        pytest.importorskip("torch")
    train = write_fasttext(tmp_path / "train.txt", make_examples(200, seed=8))
    points: list[int | None] = []
    ctx = make_ctx(tmp_path, train, device="cpu",
                   report_metric=lambda n, v, s: points.append(s),
                   should_stop=lambda: len(points) > 0)
    hp = BlazingText().resolve_hyperparameters(
        {**FAST, "epochs": 20, "backend": backend, "threads": threads})
    with pytest.raises(MlyardError, match=r"^stopped$"):
        BlazingText().train(ctx, hp)
    assert points == [1]
    assert not (ctx.model_dir / MANIFEST_NAME).exists()


def test_should_stop_checked_inside_an_epoch(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from mlyard.algorithms.blazingtext import hogwild

    monkeypatch.setattr(hogwild, "CHUNK_ROWS", 64)
    train = write_fasttext(tmp_path / "train.txt", make_examples(300, seed=9))
    calls: list[int] = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) >= 4  # train start, epoch start, first chunk, then stop

    points: list[int | None] = []
    ctx = make_ctx(tmp_path, train, should_stop=should_stop,
                   report_metric=lambda n, v, s: points.append(s))
    hp = BlazingText().resolve_hyperparameters({**FAST, "backend": "cpu", "threads": 1})
    with pytest.raises(MlyardError, match=r"^stopped$"):
        BlazingText().train(ctx, hp)
    assert points == []


# --- tokenizer and hashing ------------------------------------------------------------------


def test_tokenizer_is_simple_and_idempotent() -> None:
    text = "Don't buy it!! Size: 8, TOO small... (returned)"
    tokens = tokenize(text)
    assert tokens == ["don't", "buy", "it", "!", "!", "size", ":", "8", ",", "too", "small",
                      ".", ".", ".", "(", "returned", ")"]
    assert tokenize(" ".join(tokens)) == tokens


def test_fnv1a_matches_reference_values() -> None:
    assert fnv1a("") == 2166136261
    assert fnv1a("a") == 0xE40C292C
    assert fnv1a("foobar") == 0xBF9CF968
    assert 0 <= fnv1a("café") < 2**32


def test_ngram_buckets_match_fasttext() -> None:
    # Same buckets as fastText 0.9 (checked against its get_sentence_vector): token hashes
    # enter sign-extended, h = h * 116049371 + next, bucket = h % buckets.
    tokens = ["i", "love", "this", "café", "</s>"]
    hashes = np.array([fnv1a(t) for t in tokens], dtype=np.uint64)
    (pos2, b2), (pos3, b3) = ngram_buckets(hashes, np.full(5, 5), 3, 2_000_000)
    assert pos2.tolist() == [0, 1, 2, 3] and b2.tolist() == [578813, 995916, 1024676, 501452]
    assert pos3.tolist() == [0, 1, 2] and b3.tolist() == [1411824, 860237, 114341]
    # n-grams never cross example boundaries
    (pos, _), = ngram_buckets(hashes, np.array([2, 2, 5, 5, 5]), 2, 100)
    assert pos.tolist() == [0, 2, 3]


def test_sorted_labels_warn_and_shuffle_fixes_them(
        tmp_path: Path, heldout: list[tuple[str, str]]) -> None:
    examples = sorted(make_examples(600, seed=10))
    train = write_fasttext(tmp_path / "train.txt", examples)
    logs: list[str] = []
    ctx = make_ctx(tmp_path, train, log=logs.append)
    hp = BlazingText().resolve_hyperparameters({**FAST, "shuffle": True})
    BlazingText().train(ctx, hp)
    assert accuracy_on(load_model(ctx.model_dir), heldout) > 0.9
    assert not any("look sorted" in line for line in logs)
    BlazingText().train(ctx, BlazingText().resolve_hyperparameters(FAST))
    assert any("look sorted by label" in line for line in logs)
