"""Text explanations with shap's Partition explainer: the planted word, units per
granularity, additivity, batching, short texts, language."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.explain import ExplainAnalysisConfig, explain_text, explain_texts
from mlyard.analysis.explain.text import check_language, segments
from mlyard.errors import ValidationError
from tests.unit.analysis.explain_models import PLANTED, corpus, text_model


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return text_model()


def test_planted_word_is_the_top_token_with_the_right_sign(model) -> None:  # type: ignore[no-untyped-def]
    texts, _ = corpus(30, seed=7)
    exp = explain_texts(texts, model)
    pos = exp.outputs.index("pos")
    top = exp.top_tokens(pos, 3)
    assert top[0][0] == PLANTED
    assert top[0][2] > 0  # it pushes towards "pos"
    neg_top = exp.top_tokens(exp.outputs.index("neg"), 1)[0]
    assert neg_top[0] == PLANTED and neg_top[2] < 0
    for rec in exp.records:
        # Owen values add up: base + sum of unit values = the model's output
        np.testing.assert_allclose(rec.base + rec.values.sum(axis=0), rec.prediction, atol=1e-6)
        assert "".join(rec.segments) == rec.text
        assert [rec.text[s:s + len(u)] for s, u in zip(rec.starts, rec.units, strict=True)] \
            == rec.units


def test_model_calls_are_batched_and_deduplicated(model) -> None:  # type: ignore[no-untyped-def]
    texts, _ = corpus(12, seed=3)
    model.calls.clear()
    exp = explain_texts(texts, model, batch_size=64)
    assert max(model.calls) <= 64
    assert sum(model.calls) == exp.model_rows
    assert 1 not in model.calls[1:]  # unmasked/fully masked strings come prefetched
    assert np.mean(model.calls) > 10
    assert exp.model_rows < exp.inputs_requested  # repeated masked strings asked for once
    assert len(model.calls) < 12 * 12


def test_granularities_cut_units() -> None:
    text = "Great dress! Fits well.\n\nBut the color... not so much?"
    segs, units, starts = segments(text, "token")
    assert units[:3] == ["Great", "dress", "Fits"] and "".join(segs) == text
    _, sentences, _ = segments(text, "sentence")
    assert sentences == ["Great dress!", "Fits well.", "But the color...", "not so much?"]
    _, paragraphs, starts = segments(text, "paragraph")
    assert paragraphs == ["Great dress! Fits well.", "But the color... not so much?"]
    assert starts == [0, 25]
    assert segments("  ", "token") == ([], [], [])


def test_sentence_level_and_short_texts(model) -> None:  # type: ignore[no-untyped-def]
    texts = [f"Nice dress. The {PLANTED} fabric is soft. Wear it.", "", PLANTED, "?!"]
    exp = explain_texts(texts, model, granularity="sentence")
    first, empty, single, punct = exp.records
    pos = exp.outputs.index("pos")
    assert len(first.units) == 3 and int(np.argmax(first.values[:, pos])) == 1
    assert empty.units == [] and empty.values.shape == (0, 2)
    assert single.units == [PLANTED]
    np.testing.assert_allclose(single.base + single.values[0], single.prediction, atol=1e-9)
    assert punct.units == ["?!"]


def test_explain_text_on_a_frame_with_a_baseline_text(model) -> None:  # type: ignore[no-untyped-def]
    texts, labels = corpus(20, seed=9)
    frame = pd.DataFrame({"review": texts, "label": labels})
    frame.loc[3, "review"] = None
    config = ExplainAnalysisConfig(text_column="review", label="label", max_records=8, seed=1,
                                   baseline=[["unknownword"]], num_samples=60)
    exp = explain_text(frame, model, config)
    assert len(exp.records) == 8 and exp.index == sorted(exp.index)
    assert exp.max_evals == 60
    again = explain_text(frame, model, config)
    for a, b in zip(exp.records, again.records, strict=True):
        np.testing.assert_allclose(a.values, b.values)


def test_log_odds_explanations_add_up(model) -> None:  # type: ignore[no-untyped-def]
    texts, _ = corpus(3, seed=11)
    exp = explain_texts([*texts, "nice"], model, use_logit=True, max_evals=100)
    for rec in exp.records:
        p = np.clip(model.clf.predict_proba([rec.text])[0], 1e-7, 1 - 1e-7)
        np.testing.assert_allclose(rec.prediction, np.log(p / (1 - p)), atol=1e-6)
        np.testing.assert_allclose(rec.base + rec.values.sum(axis=0), rec.prediction,
                                   atol=1e-6)


def test_language_is_checked() -> None:
    assert check_language("English") == "english"
    assert check_language("en") == "english"
    with pytest.raises(ValidationError, match="language 'japanese' is not supported"):
        check_language("japanese")


def test_blazingtext_model_is_explained_by_its_class_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mlyard.algorithms.base import TrainingContext
    from mlyard.algorithms.blazingtext import BlazingText, load_model

    rng = np.random.default_rng(0)
    words = {"sports": ["goal", "match", "team", "coach"], "food": ["pizza", "pasta", "oven",
                                                                     "chef"]}
    noise = [f"noise{i}" for i in range(30)]
    lines = []
    for i in range(600):
        label = "sports" if i % 2 else "food"
        toks = list(rng.choice(words[label], 2)) + list(rng.choice(noise, 6))
        rng.shuffle(toks)
        lines.append(f"__label__{label} {' '.join(toks)}")
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    ctx = TrainingContext(channels={"train": tmp_path / "train.txt"},
                          model_dir=tmp_path / "model", output_dir=tmp_path / "out",
                          log=lambda _m: None)
    algo = BlazingText()
    algo.train(ctx, algo.resolve_hyperparameters(
        {"epochs": 8, "learning_rate": 0.5, "vector_dim": 16, "buckets": 5000,
         "min_count": 1, "threads": 1, "seed": 7, "backend": "cpu"}))
    model = load_model(ctx.model_dir)
    texts = ["noise1 goal noise2 noise3 team noise4", "noise5 pizza noise6 chef noise7"]
    exp = explain_texts(texts, model)
    sports = exp.outputs.index("sports")
    top = {u for u, _, mean, _ in exp.top_tokens(sports, 4) if mean > 0}
    assert {"goal", "team"} <= top
    food_top = {u for u, _, mean, _ in exp.top_tokens(exp.outputs.index("food"), 4)
                if mean > 0}
    assert {"pizza", "chef"} <= food_top


def test_linear_clustering_is_shaps_clustering() -> None:
    from mlyard.analysis.explain._shap import import_shap
    from mlyard.analysis.explain.text import SPLIT_PATTERNS, RegexTokenizer, _masker_class

    shap = import_shap()
    texts = ["I love this (really) dress, but it's too long! Won't keep it.",
             "Soft fabric and nice color; the size runs small... returned it?",
             " ".join(corpus(1, seed=2)[0]) * 3, "a b", "don't (stop) [now] , ok"]
    for text in texts:
        ours = _masker_class()(RegexTokenizer(SPLIT_PATTERNS["token"]), "")
        theirs = shap.maskers.Text(RegexTokenizer(SPLIT_PATTERNS["token"]), mask_token="mask")
        np.testing.assert_array_equal(ours.clustering(text), theirs.clustering(text))
