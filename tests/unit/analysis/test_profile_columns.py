"""Type inference, counts and text statistics of the data profile on generated columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.profile import ProfileConfig, profile_frame
from mlyard.analysis.profile.columns import profile_column
from mlyard.analysis.profile.summary import duplicate_rows, sample
from mlyard.analysis.profile.text import text_stats, token_counts
from mlyard.analysis.profile.types import infer

RNG = np.random.default_rng(0)
N = 300
WORDS = ["soft", "fabric", "runs", "small", "love", "color", "dress", "fits", "great", "return"]


def _sentences(n: int) -> list[str]:
    return [" ".join(RNG.choice(WORDS, size=RNG.integers(4, 12))) + f" #{i}" for i in range(n)]


@pytest.mark.parametrize(("series", "kind"), [
    (pd.Series(RNG.normal(size=N)), "numeric"),
    (pd.Series(RNG.integers(0, 10_000, size=N)), "numeric"),
    (pd.Series(RNG.integers(1, 6, size=N)), "categorical"),          # a 1-5 rating: codes
    (pd.Series(RNG.choice(["a", "b", "c"], size=N)), "categorical"),
    (pd.Series(RNG.choice(["a", "b", "c"], size=N), dtype="str"), "categorical"),
    (pd.Series(RNG.choice([True, False], size=N)), "boolean"),
    (pd.Series(RNG.choice([0, 1], size=N)), "boolean"),
    (pd.Series(RNG.choice(["Yes", "no"], size=N)), "boolean"),
    (pd.Series(pd.date_range("2024-01-01", periods=N, freq="D")), "datetime"),
    (pd.Series(pd.date_range("2024-01-01", periods=N, freq="h").astype(str)), "datetime"),
    (pd.Series(_sentences(N)), "text"),
    (pd.Series(_sentences(N), dtype="str"), "text"),
    (pd.Series(RNG.choice(["red dress with pockets", "blue"], size=N)), "categorical"),
])
def test_infers_each_kind(series: pd.Series, kind: str) -> None:
    assert infer(series).kind == kind


def test_numbers_in_strings_count_invalid_values() -> None:
    values = [str(x) for x in RNG.normal(size=97)] + ["n/a", "12kg", "?"]
    inferred = infer(pd.Series(values, dtype=object))
    assert inferred.kind == "numeric"
    assert inferred.invalid == 3
    prof = profile_column("w", pd.Series(values), inferred, 5)
    assert prof["invalid"] == 3
    assert any("not valid numbers" in w for w in prof["warnings"])


def test_text_columns_override_inference() -> None:
    series = pd.Series(RNG.choice(["a", "b"], size=50).astype(object))
    series[:2] = ["x", "y"]
    assert infer(series, text=True).kind == "text"
    assert infer(pd.Series(_sentences(50)), text=False).kind == "categorical"


def test_counts_on_a_hand_made_frame() -> None:
    frame = pd.DataFrame({
        "num": [1.5, None, 2.5, 2.5, 7.0, None, 3.0, 2.5],
        "cat": ["a", "b", "a", "a", None, "c", "a", "a"],
        "const": ["k"] * 8,
    })
    summary = profile_frame(frame, ProfileConfig(quick_model=False))
    cols = {p["name"]: p for p in summary["column_profiles"]}
    assert cols["num"]["missing"] == 2 and cols["num"]["distinct"] == 4
    assert cols["num"]["numeric"]["max"] == 7.0 and cols["num"]["numeric"]["median"] == 2.5
    assert sum(cols["num"]["histogram"]["counts"]) == 6
    assert cols["cat"]["missing"] == 1 and cols["cat"]["distinct"] == 3
    assert cols["cat"]["top_values"][0] == {"value": "a", "count": 5}
    assert cols["const"]["warnings"] == ["constant: a single distinct value"]
    # rows 2 and 3 are equal (2.5, a, k), as are rows 3 and 7: two repeats.
    assert summary["duplicate_rows"] == 2
    assert duplicate_rows(pd.DataFrame({"a": [[1], [1], [2]]})) == 1  # unhashable cells


def test_text_statistics() -> None:
    series = pd.Series(["The dress runs small", "love the dress", None, "", "dress dress"])
    stats = text_stats(series, 3, token_counts(series))
    assert stats["words"]["max"] == 4.0 and stats["words"]["min"] == 0.0
    assert stats["characters"]["max"] == len("The dress runs small")
    assert stats["empty"] == 1
    assert stats["vocabulary_size"] == 5  # the, dress, runs, small, love
    assert stats["top_tokens"][0] == {"token": "dress", "count": 4}
    assert "the" not in [t["token"] for t in stats["top_tokens_no_stop_words"]]


@pytest.mark.parametrize("texts", [
    ["The dress runs small", "love the dress", None, "", "dress dress"],
    ["Ünïcode ΣΑΣ straße İstanbul x_y 12 ab\x00cd", "a b c", "dé-jà vu, déjà!", "\n\tz9 9z"],
    [f"{w} {v} {w}" for w in WORDS for v in WORDS[::-1]] + [None] * 3,
])
def test_token_counts_match_count_vectorizer(texts: list[str | None]) -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    series = pd.Series(texts)
    counts = token_counts(series)
    assert counts is not None
    vectorizer = CountVectorizer(ngram_range=(1, 2), dtype=np.float32)
    expected = vectorizer.fit_transform(series.fillna("").astype(str).to_numpy(dtype=object))
    assert list(counts.names) == list(vectorizer.get_feature_names_out())
    assert counts.matrix.shape == expected.shape
    assert (counts.matrix != expected).nnz == 0
    assert list(counts.vocabulary) == [n for n in counts.names if " " not in n]


def test_token_counts_without_tokens() -> None:
    assert token_counts(pd.Series(["a b", None, "!", "\x00"])) is None


def test_sampling_states_its_size() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0), "y": RNG.choice(["a", "b"], size=1000)})
    summary = profile_frame(frame, ProfileConfig(sample_size=100, seed=3, quick_model=False))
    assert summary["rows"] == 1000 and summary["sampled_rows"] == 100
    assert summary["sample"] == {"size": 100, "total_rows": 1000, "sampled": True, "seed": 3,
                                 "sample_size": 100}
    assert sample(frame, 100, 3).equals(sample(frame, 100, 3))
    assert len(sample(frame, None, 0)) == 1000
