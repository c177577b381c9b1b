"""Unit and property tests of mlyard.models.predictions (and the content types it reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.errors import DataError
from mlyard.models.content_types import (
    CSV,
    JSON,
    JSONLINES,
    TEXT,
    is_json,
    is_jsonlines,
    media_type,
)
from mlyard.models.predictions import predicted_labels, top_label
from mlyard.serving.codec import encode_predictions


def test_content_types() -> None:
    assert media_type(" Text/CSV ; charset=utf-8") == CSV
    assert is_json("application/json; charset=utf-8") and is_json("application/vnd.x+json")
    assert not is_json(JSONLINES) and not is_json(CSV)
    assert is_jsonlines("application/x-ndjson") and is_jsonlines(JSONLINES)
    assert not is_jsonlines(JSON)


@pytest.mark.parametrize(("body", "content_type", "labels"), [
    (b'[{"label": ["pos", "neg"], "prob": [0.9, 0.1]}, {"label": ["neg"], "prob": [1]}]', JSON,
     [("pos", "neg"), ("neg",)]),
    (b'[{"label": ["__label__1"], "prob": [0.7]}]', JSON, [("__label__1",)]),
    (b'{"predictions": [{"predicted_label": 3, "score": 0.9}, {"predicted_label": 1}]}', JSON,
     [("3",), ("1",)]),
    (b'{"predictions": {"prediction": {"class": true}}}', JSON, [("true",)]),
    (b'{"label": "a"}\n{"label": "b"}\n', JSONLINES, [("a",), ("b",)]),
    (b'{"label": "a"}\n\n{"label": "b"}', JSON, [("a",), ("b",)]),  # JSON Lines sent as JSON
    (b'["a", "b"]\n["c"]\n', JSONLINES, [("a", "b"), ("c",)]),
    (b'{\n  "label": ["x", "y"]\n}', JSONLINES, [("x", "y")]),  # a document sent as lines
    (b'["cat", "dog"]', JSON, [("cat",), ("dog",)]),
    (b'[{"score": 1.5}]', JSON, [()]),
    (b"[]", JSON, []),
    (b"predicted_label,probability\nneg,0.7\npos,0.6\n", CSV, [("neg",), ("pos",)]),
    (b"input,predicted_label_1,predicted_label_2\n\"a, b\",x,y\n", CSV, [("x", "y")]),
    (b"id,label\n1, pos \n", CSV, [("pos",)]),
    (b"spam,0.9\nham,0.1", CSV, [("spam",), ("ham",)]),
    (b"predicted_label\n", CSV, []),
    (b"\xef\xbb\xbf__label__pos\n", TEXT, [("__label__pos",)]),
    (b'[{"label": ["p"]}]', "", [("p",)]),  # no content type: sniffed
    (b"[x,1\n", CSV, [("[x",)]),  # a bracket that is no JSON
])
def test_formats(body: bytes, content_type: str, labels: list[tuple[str, ...]]) -> None:
    assert predicted_labels(body, content_type) == labels
    assert top_label(body, content_type) == (labels[0][0] if labels and labels[0] else None)


@pytest.mark.parametrize(("body", "content_type", "match"), [
    (b"", CSV, "empty"),
    (b" \n ", JSON, "empty"),
    (b"\xff", CSV, "not UTF-8"),
    (b"{not json", JSON, "malformed JSON"),
    (b'{"label": "a"}\n{oops', JSONLINES, "malformed JSON on line 2"),
    (b'[{"label": {"x": 1}}]', JSON, "prediction 1: 'label'"),
    (b'[{"label": null}]', JSON, "must be a string, number or boolean"),
    (b'[{"label": [["a"]]}]', JSON, "a list of labels"),
    (b'[null]', JSON, "prediction 1"),
    (b'{"label": {"label": {"label": {"label": {"label": {"label": "x"}}}}}}', JSON,
     "nested more than 4"),
    (b"[" * 100_000 + b"]" * 100_000, JSON, "nested too deeply"),
    (b"predicted_label,probability\n\n", CSV, None),
    (b"a,predicted_label\nx\n", CSV, "line 2 has 1 fields"),
    (b'"unterminated\n', CSV, None),
])
def test_malformed(body: bytes, content_type: str, match: str | None) -> None:
    if match is None:  # well-formed after all: no prediction, or a field running to the end
        predicted_labels(body, content_type)
        return
    with pytest.raises(DataError, match=match):
        predicted_labels(body, content_type)


def test_not_bytes() -> None:
    with pytest.raises(DataError, match="bytes"):
        predicted_labels("[1]", JSON)  # type: ignore[arg-type]


# -- properties ----------------------------------------------------------------------------

# Labels a CSV row can carry unambiguously: no surrounding blanks (fields are stripped) and
# not a header name (a first row naming a label column is read as a header).
_csv_safe = st.text(max_size=12).filter(
    lambda s: s == s.strip() and s.lower() not in ("label", "predicted_label")
    and not s.lower().startswith("predicted_label_")
)


@st.composite
def classifier_output(draw: st.DrawFn) -> list[dict[str, Any]]:
    """What LoadedModel.predict returns for a classifier: ranked labels with probabilities."""
    preds = []
    for _ in range(draw(st.integers(1, 6))):
        labels = draw(st.lists(_csv_safe, min_size=1, max_size=4))
        probs = draw(st.lists(st.floats(0, 1), min_size=len(labels), max_size=len(labels)))
        preds.append({"label": labels, "prob": probs})
    return preds


@settings(max_examples=200)
@given(classifier_output(), st.sampled_from([JSON, JSONLINES, CSV]))
def test_endpoint_responses_round_trip(preds: list[dict[str, Any]], accept: str) -> None:
    body, content_type = encode_predictions(preds, accept)
    got = predicted_labels(body, content_type)
    if content_type == CSV:  # CSV rows carry the top label only
        assert got == [(p["label"][0],) for p in preds]
    else:
        assert got == [tuple(p["label"]) for p in preds]
    assert top_label(body, content_type) == preds[0]["label"][0]


@given(st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=3), min_size=1, max_size=5))
def test_sagemaker_shape_round_trips(ranked: list[list[str]]) -> None:
    body = json.dumps({"predictions": [{"predicted_label": r} for r in ranked]}).encode()
    assert predicted_labels(body, "application/json; charset=utf-8") == [tuple(r) for r in ranked]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["label", "prob", "predictions", "class", "x"]), inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_json_values, st.sampled_from([JSON, JSONLINES, CSV, TEXT, ""]))
def test_any_json_reads_or_raises_data_error(value: Any, content_type: str) -> None:
    body = json.dumps(value).encode()
    try:
        labels = predicted_labels(body, content_type)
    except DataError:
        return
    assert all(isinstance(p, tuple) and all(isinstance(x, str) for x in p) for p in labels)


@settings(max_examples=300)
@given(st.binary(max_size=64), st.sampled_from([JSON, JSONLINES, CSV, TEXT, "", "x/y"]))
def test_any_bytes_read_or_raise_data_error(body: bytes, content_type: str) -> None:
    try:
        labels = predicted_labels(body, content_type)
    except DataError:
        return
    assert isinstance(labels, list)
