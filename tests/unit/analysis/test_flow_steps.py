"""Each flow step on a small hand-made frame, with the expected output written out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.flow import parse_flow, recipes, run_flow
from mlyard.errors import ValidationError


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["Ann", "Bob", None, "Dee", "Eve"],
        "age": [30.0, None, 50.0, 20.0, 40.0],
        "city": ["Oslo", "Rome", "Oslo", "Oslo", None],
        "score": [1, 2, 3, 4, 5],
    })


def run(steps: str, data: pd.DataFrame | None = None) -> pd.DataFrame:
    doc = parse_flow(f"version: 1\ninputs: [t]\nsteps:\n{steps}", "t.flow.yaml")
    return run_flow(doc, {"t": frame() if data is None else data})["output"]


def test_rename_drop_select() -> None:
    out = run("  - rename: {name: who, score: points}\n  - drop: [city]\n"
              "  - select: [points, who]\n")
    assert list(out.columns) == ["points", "who"]
    assert out["points"].tolist() == [1, 2, 3, 4, 5]


def test_cast() -> None:
    data = pd.DataFrame({"a": ["1", "2", None], "b": ["yes", "no", "true"], "c": [1.0, 2.0, 3.0]})
    out = run("  - cast: {a: int, b: bool, c: str}\n", data)
    assert str(out["a"].dtype) == "Int64" and out["a"].tolist()[:2] == [1, 2]
    assert out["a"].isna().tolist() == [False, False, True]
    assert out["b"].tolist() == [True, False, True]
    assert out["c"].tolist() == ["1.0", "2.0", "3.0"]
    with pytest.raises(ValidationError, match=r"line 4: step 1 \(cast\): failed on the data"):
        run("  - cast: {name: float}\n")


@pytest.mark.parametrize(("condition", "expected"), [
    ("{column: age, op: '>=', value: 30}", [1, 3, 5]),
    ("{column: city, op: '==', value: Oslo}", [1, 3, 4]),
    ("{column: city, op: '!=', value: Oslo}", [2]),
    ("{column: city, op: isin, value: [Rome, Paris]}", [2]),
    ("{column: city, op: notin, value: [Rome]}", [1, 3, 4]),
    ("{column: age, op: isnull}", [2]),
    ("{column: name, op: notnull}", [1, 2, 4, 5]),
    ("{column: name, op: contains, value: e}", [4, 5]),
    ("{all: [{column: city, op: '==', value: Oslo}, {column: age, op: '<', value: 40}]}",
     [1, 4]),
    ("{any: [{column: score, op: '==', value: 1}, {column: score, op: '>', value: 4}]}",
     [1, 5]),
])
def test_filter(condition: str, expected: list[int]) -> None:
    out = run(f"  - filter: {condition}\n")
    assert out["score"].tolist() == expected
    assert out.index.tolist() == list(range(len(expected)))


def test_filter_refuses_code_and_bad_values() -> None:
    with pytest.raises(ValidationError, match=r"line 4: step 1 \(filter\): parameter 'op'"):
        run("  - filter: {column: age, op: '__import__', value: 1}\n")
    with pytest.raises(ValidationError, match="needs a list value"):
        run("  - filter: {column: age, op: isin, value: 1}\n")


def test_drop_missing_and_impute() -> None:
    assert run("  - drop_missing: [name, city]\n")["score"].tolist() == [1, 2, 4]
    assert run("  - drop_missing: {}\n")["score"].tolist() == [1, 4]
    assert run("  - impute: {columns: [age]}\n")["age"].tolist() == [30, 35, 50, 20, 40]
    assert run("  - impute: {columns: [age], strategy: median}\n")["age"][1] == 35
    assert run("  - impute: {columns: [city], strategy: mode}\n")["city"][4] == "Oslo"
    out = run("  - impute: {columns: [name], strategy: constant, value: nobody}\n")
    assert out["name"][2] == "nobody"
    with pytest.raises(ValidationError, match="strategy 'constant' needs a value"):
        run("  - impute: {columns: [name], strategy: constant}\n")


def test_one_hot() -> None:
    out = run("  - drop_missing: [city]\n  - one_hot: [city]\n")
    assert list(out.columns) == ["name", "age", "score", "city_Oslo", "city_Rome"]
    assert out["city_Oslo"].tolist() == [1, 0, 1, 1] and out["city_Rome"].dtype == np.int64


def test_scale() -> None:
    out = run("  - scale: {columns: [score]}\n")
    root2 = np.sqrt(2.0)
    assert np.allclose(out["score"], [-root2, -root2 / 2, 0, root2 / 2, root2])
    out = run("  - scale: {columns: [score, age], method: minmax}\n")
    assert out["score"].tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert np.allclose(out["age"], [1 / 3, np.nan, 1, 0, 2 / 3], equal_nan=True)


def test_map_and_drop_rare() -> None:
    out = run("  - map: {column: city, values: {Oslo: 'NO', Rome: IT}, to: country}\n")
    assert out["country"].tolist()[:4] == ["NO", "IT", "NO", "NO"]
    out = run("  - map: {column: score, values: {1: 10}}\n")
    assert out["score"].tolist() == [10, 2, 3, 4, 5]
    assert run("  - map: {column: score, values: {1: 10}, unmapped: 'null'}\n")[
        "score"].isna().sum() == 4
    with pytest.raises(ValidationError, match=r"have no mapping"):
        run("  - map: {column: score, values: {1: 10}, unmapped: error}\n")
    assert run("  - drop_rare: {column: city, at_most: 1}\n")["score"].tolist() == [1, 3, 4, 5]
    assert run("  - drop_rare: {column: city, at_most: 3}\n")["score"].tolist() == [5]


def test_custom_pandas_and_sql() -> None:
    out = run("  - pandas: |\n      df['double'] = df['score'] * 2\n      df = df[df.double > 4]\n")
    assert out["double"].tolist() == [6, 8, 10]
    out = run("  - pandas: return df.head(2)\n")
    assert len(out) == 2
    out = run("  - sql: SELECT city, count(*) AS n FROM df WHERE city IS NOT NULL "
              "GROUP BY city ORDER BY city\n")
    assert out.to_dict("list") == {"city": ["Oslo", "Rome"], "n": [3, 1]}
    with pytest.raises(ValidationError, match=r"line 4: step 1 \(sql\): failed on the data"):
        run("  - sql: SELECT nope FROM df\n")
    with pytest.raises(ValidationError, match=r"line 4: step 1 \(pandas\): .*KeyError"):
        run("  - pandas: df = df['nope']\n")
    with pytest.raises(ValidationError, match=r"not a DataFrame"):
        run("  - pandas: df = 3\n")
    with pytest.raises(ValidationError, match=r"line 4: step 1 \(pandas\): the code does not"):
        run("  - pandas: 'df = ('\n")


def test_text_recipes() -> None:
    data = pd.DataFrame({"text": ["Hello, World!", "It's  FINE.", None]})
    out = run("  - lowercase: text\n  - remove_punctuation: text\n"
              "  - tokenize: {column: text, to: tokens}\n", data)
    assert out["text"].tolist()[:2] == ["hello world", "its  fine"]
    assert out["tokens"].tolist() == [["hello", "world"], ["its", "fine"], []]
    out = run("  - remove_punctuation: {columns: [text], replace_with: ' '}\n", data)
    assert out["text"][1] == "It s  FINE "
    out = run("  - tokenize: {column: text, pattern: '[A-Za-z]+'}\n", data)
    assert out["text"][1] == ["It", "s", "FINE"]


def test_ngrams_on_a_known_sentence() -> None:
    tokens = pd.Series([["I", "really", "enjoyed", "reading", "this", "book"]])
    assert recipes.ngrams(tokens, 2)[0] == [
        "I", "really", "enjoyed", "reading", "this", "book",
        "I really", "really enjoyed", "enjoyed reading", "reading this", "this book"]
    assert recipes.ngrams(tokens, 3, all_sizes=False)[0] == [
        "I really enjoyed", "really enjoyed reading", "enjoyed reading this",
        "reading this book"]
    assert recipes.ngrams(pd.Series(["a b", None]), 2).tolist() == [["a", "b", "a b"], []]
    out = run("  - ngrams: {column: t, n: 2, to: grams}\n", pd.DataFrame({"t": ["x y z"]}))
    assert out["grams"][0] == ["x", "y", "z", "x y", "y z"]


def test_osb_on_amazon_mls_example() -> None:
    text = pd.Series(["The quick brown fox jumps over the lazy dog"])
    assert recipes.osb(text, 4)[0] == [
        "The_quick", "The__brown", "The___fox", "quick_brown", "quick__fox", "quick___jumps",
        "brown_fox", "brown__jumps", "brown___over", "fox_jumps", "fox__over", "fox___the",
        "jumps_over", "jumps__the", "jumps___lazy", "over_the", "over__lazy", "over___dog",
        "the_lazy", "the__dog", "lazy_dog"]
    out = run("  - osb: {column: t, window: 2}\n", pd.DataFrame({"t": ["a b c"]}))
    assert out["t"][0] == ["a_b", "b_c"]


def test_quantile_binning_edges() -> None:
    data = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8]})
    out = run("  - quantile_bin: {column: x, n: 4, to: bin}\n", data)
    assert out["bin"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    # edges 0, 0, 1/3, 2: the tied edges merge, giving 2 bins, not 3
    assert recipes.quantile_bin(pd.Series([0, 0, 0, 0, 1, 2]), 3).tolist() == [0, 0, 0, 0, 1, 1]
    # a value on an edge goes to the lower bin: edges 1, 2, 3 -> 2 is in bin 0
    assert recipes.quantile_bin(pd.Series([1, 2, 3]), 2).tolist() == [0, 0, 1]
    assert recipes.quantile_bin(pd.Series([1.0, None, 3.0]), 2).tolist() == [0, pd.NA, 1]


def test_cartesian() -> None:
    out = run("  - cartesian: [city, score]\n")
    assert out["city_score"].tolist()[:4] == ["Oslo_1", "Rome_2", "Oslo_3", "Oslo_4"]
    assert pd.isna(out["city_score"][4])
    out = run("  - cartesian: {columns: [city, name], to: pair, sep: '|'}\n")
    assert out["pair"][0] == "Oslo|Ann"


def test_split_step_outputs_and_chains() -> None:
    data = pd.DataFrame({"y": [0] * 8 + [1] * 4, "x": range(12)})
    doc = parse_flow("version: 1\ninputs: [t]\nsteps:\n"
                     "  - split: {fractions: {train: 0.75, test: 0.25}, stratify: [y], seed: 3}\n"
                     "  - input: test\n  - select: [x]\n  - output: test_x\n", "s.yaml")
    out = run_flow(doc, {"t": data})
    assert list(out) == ["train", "test", "test_x"]
    assert out["train"]["y"].value_counts().to_dict() == {0: 6, 1: 3}
    assert out["test"]["y"].value_counts().to_dict() == {0: 2, 1: 1}
    assert sorted([*out["train"]["x"], *out["test"]["x"]]) == list(range(12))
    assert out["test_x"]["x"].tolist() == out["test"]["x"].tolist()
    again = run_flow(doc, {"t": data})
    pd.testing.assert_frame_equal(again["train"], out["train"])
