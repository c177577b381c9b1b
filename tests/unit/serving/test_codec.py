"""SageMaker Runtime payload decoding and encoding (:mod:`mlyard.serving.codec`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.errors import ValidationError, http_status
from mlyard.serving.codec import (
    MAX_INSTANCES,
    MAX_JSON_DEPTH,
    STATUS_BY_CODE,
    ModelError,
    NotAcceptable,
    PayloadError,
    UnsupportedMediaType,
    decode_instances,
    encode_predictions,
    error_body,
    negotiate,
)

PREDS: list[dict[str, Any]] = [
    {"label": ["pos", "mid"], "prob": [0.9, 0.075]},
    {"label": ["neg", "pos"], "prob": [0.5, 0.25]},
]


# -- decoding -------------------------------------------------------------------------------

def test_json_instances_and_configuration_k() -> None:
    body = json.dumps({"instances": ["love it", "awful"], "configuration": {"k": 2}})
    assert decode_instances(body.encode(), "application/json") == (["love it", "awful"],
                                                                    {"top_k": 2})
    assert decode_instances(b'{"instances": ["a"]}', "application/json") == (["a"], {})
    assert decode_instances(b'{"instances": ["a"], "configuration": {"k": "3"}}',
                            "application/json")[1] == {"top_k": 3}


def test_json_bare_list_string_and_object() -> None:
    assert decode_instances(b'["a", "b"]', "application/json") == (["a", "b"], {})
    assert decode_instances(b'"just one"', "application/json") == (["just one"], {})
    assert decode_instances(b'{"text": "x"}', "application/json") == ([{"text": "x"}], {})
    unicode = json.dumps(["très bien ✓"], ensure_ascii=False).encode()
    assert decode_instances(unicode, "application/json")[0] == ["très bien ✓"]


def test_content_type_parameters_and_case_are_ignored() -> None:
    for ctype in ("application/json; charset=utf-8", "Application/JSON", " application/json"):
        assert decode_instances(b'["a"]', ctype) == (["a"], {})
    assert decode_instances(b"a\nb", "text/plain; charset=UTF-8")[0] == ["a", "b"]


def test_csv_rows() -> None:
    body = b'love it\n"awful, really"\n\n"multi\nline"\r\n'
    assert decode_instances(body, "text/csv")[0] == ["love it", "awful, really", "multi\nline"]
    assert decode_instances(b"1,2,3\n4,5,6\n", "text/csv")[0] == [["1", "2", "3"],
                                                                   ["4", "5", "6"]]
    assert decode_instances("\ufeffbom first\n".encode(), "text/csv")[0] == ["bom first"]


def test_jsonlines_each_line_one_instance() -> None:
    body = b'"love it"\n\n{"text": "awful"}\r\n["a", "b"]\n'
    expected = ["love it", {"text": "awful"}, ["a", "b"]]
    for ctype in ("application/jsonlines", "application/x-jsonlines", "application/jsonl"):
        assert decode_instances(body, ctype) == (expected, {})


def test_text_plain_non_blank_lines() -> None:
    assert decode_instances(b"love it\r\n\n  \nawful\n", "text/plain") == (
        ["love it", "awful"], {})


# -- decoding errors --------------------------------------------------------------------------

def test_malformed_json_names_the_position() -> None:
    with pytest.raises(PayloadError, match=r"malformed JSON: .* line 1 column 2 \(char 1\)"):
        decode_instances(b"{not json", "application/json")
    with pytest.raises(PayloadError, match="malformed JSON on line 2"):
        decode_instances(b'"ok"\n{bad\n', "application/jsonlines")
    with pytest.raises(PayloadError, match="not UTF-8"):
        decode_instances(b"\xff\xfe\x00", "text/plain")


@pytest.mark.parametrize("body, ctype", [
    (b"", "application/json"), (b"  \n", "text/plain"), (b'{"instances": []}',
                                                          "application/json"),
    (b"[]", "application/json"), (b"\n\n", "text/csv"), (b"\n", "application/jsonlines"),
])
def test_empty_requests(body: bytes, ctype: str) -> None:
    with pytest.raises(PayloadError, match="no instances"):
        decode_instances(body, ctype)


def test_bad_instances_and_configuration() -> None:
    with pytest.raises(PayloadError, match='"instances" must be a JSON list'):
        decode_instances(b'{"instances": "x"}', "application/json")
    for k in ("0", "-1", '"x"', "1.5", "true"):
        with pytest.raises(PayloadError, match='"k" must be an integer >= 1'):
            decode_instances(f'{{"instances": ["a"], "configuration": {{"k": {k}}}}}'.encode(),
                             "application/json")
    with pytest.raises(PayloadError, match='"configuration" must be an object'):
        decode_instances(b'{"instances": ["a"], "configuration": 3}', "application/json")


def test_unsupported_content_type_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="unsupported content type 'image/png'") as exc:
        decode_instances(b"x", "image/png")
    assert exc.value.code == "UnsupportedMediaType" and http_status(exc.value) == 415
    assert isinstance(exc.value, ValidationError)


def test_too_many_instances() -> None:
    body = json.dumps(["x"] * (MAX_INSTANCES + 1)).encode()
    with pytest.raises(PayloadError, match=f"{MAX_INSTANCES + 1} instances; at most "
                                           f"{MAX_INSTANCES}"):
        decode_instances(body, "application/json")
    assert len(decode_instances(b"a\nb\nc", "text/plain", max_instances=3)[0]) == 3
    with pytest.raises(PayloadError, match="at most 2"):
        decode_instances(b"a\nb\nc", "text/plain", max_instances=2)


# -- encoding -------------------------------------------------------------------------------

def test_json_response_is_the_models_output() -> None:
    body, ctype = encode_predictions(PREDS, "application/json")
    assert ctype == "application/json" and json.loads(body) == PREDS
    for accept in ("*/*", "", "application/json; charset=utf-8", "application/*",
                   "text/html, */*;q=0.1"):
        assert encode_predictions(PREDS, accept) == (body, "application/json")


def test_jsonlines_response() -> None:
    body, ctype = encode_predictions(PREDS, "application/jsonlines")
    assert ctype == "application/jsonlines"
    assert [json.loads(line) for line in body.decode().splitlines()] == PREDS
    assert body.endswith(b"\n")


def test_csv_response_top_label() -> None:
    body, ctype = encode_predictions(PREDS, "text/csv")
    assert ctype == "text/csv" and body == b"pos,0.9\nneg,0.5\n"
    quoted, _ = encode_predictions([{"label": ['a,"b"'], "prob": [1.0]}], "text/csv")
    assert quoted == b'"a,""b""",1.0\n'
    assert encode_predictions([{"score": 2.5}], "text/csv")[0] == b"2.5\n"


def test_accept_negotiation() -> None:
    assert negotiate("text/csv;q=0.5, application/jsonlines") == "application/jsonlines"
    assert negotiate("text/csv;q=0.9, application/json;q=0.2") == "text/csv"
    assert negotiate("image/png, text/csv") == "text/csv"
    for accept in ("image/png", "application/json;q=0"):
        with pytest.raises(NotAcceptable, match="unsupported Accept") as exc:
            encode_predictions(PREDS, accept)
        assert http_status(exc.value) == 406


def test_error_codes_and_body() -> None:
    assert STATUS_BY_CODE == {"ValidationError": 400, "UnsupportedMediaType": 415,
                              "NotAcceptable": 406, "ModelError": 424}
    assert ModelError("boom").code == "ModelError"
    assert json.loads(error_body("ModelError", "boom")) == {"ErrorCode": "ModelError",
                                                            "Message": "boom"}


# -- hostile payloads (issue 10, item 2) ----------------------------------------------------

NESTED = b"[" * 3000 + b"]" * 3000  # about 6 KB; json.loads raises RecursionError on it


@pytest.mark.parametrize("ctype", ["application/json", "application/jsonlines"])
def test_deeply_nested_json_is_a_payload_error(ctype: str) -> None:
    with pytest.raises(PayloadError, match=f"nested more than {MAX_JSON_DEPTH} levels") as exc:
        decode_instances(NESTED, ctype)
    assert http_status(exc.value) == 400
    wrapped = b'{"instances": [' + NESTED + b"]}"
    with pytest.raises(PayloadError, match="nested more than"):
        decode_instances(wrapped, "application/json")
    unclosed = b'{"instances": ' + b"[" * 5000
    with pytest.raises(PayloadError):
        decode_instances(unclosed, ctype)


def test_nesting_up_to_the_limit_is_decoded() -> None:
    inner: Any = "x"
    for _ in range(MAX_JSON_DEPTH - 2):  # the instances list and the object are two levels
        inner = [inner]
    body = json.dumps({"instances": [inner]}).encode()
    assert decode_instances(body, "application/json")[0] == [inner]
    with pytest.raises(PayloadError, match="nested more than"):
        decode_instances(json.dumps({"instances": [[inner]]}).encode(), "application/json")
    # brackets inside strings are text, not nesting
    text = '"' + "[" * 5000 + '{\\"' + "]" * 10 + '"'
    assert decode_instances(f'{{"instances": [{text}]}}'.encode(), "application/json")[0] == \
        [json.loads(text)]
    many = json.dumps({"instances": [[[1.0, 2.0]] * 3 for _ in range(500)]}).encode()
    assert len(decode_instances(many, "application/json")[0]) == 500


@pytest.mark.parametrize("body, ctype, message", [
    (b'"' + b"a" * 200_000 + b'"\n', "text/csv", "malformed CSV"),
    (b'a,"b\x00c\n', "text/csv", None),
    (b"\xff\xfe\x00", "application/json", "not UTF-8"),
    (b"\xff\xfe\x00", "application/jsonlines", "not UTF-8"),
    (b"\xff\xfe\x00", "text/csv", "not UTF-8"),
    (b"1e999999999", "application/json", None),
    (b'"\\ud800"', "application/json", None),
    (b"NaN", "application/json", None),
])
def test_odd_bodies_decode_or_fail_as_payload_errors(body: bytes, ctype: str,
                                                     message: str | None) -> None:
    try:
        decode_instances(body, ctype)
    except PayloadError as exc:
        assert message is None or message in exc.message
    else:
        assert message is None


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30)
_CTYPES = st.sampled_from(["application/json", "application/jsonlines", "text/csv",
                           "text/plain", "application/x-npy", "", "application/json; charset=x",
                           "image/png", "TEXT/CSV"])


def _hostile_bodies() -> st.SearchStrategy[bytes]:
    nested = st.tuples(st.integers(1, 20_000), st.sampled_from("[{"), st.booleans()).map(
        lambda t: (t[1] * t[0] + ("]" if t[1] == "[" else "}") * (t[0] if t[2] else 0))
        .replace("{{", '{"a":{').encode())
    structured = _JSON_VALUES.map(lambda v: json.dumps(v).encode())
    lines = st.lists(structured, max_size=5).map(lambda xs: b"\n".join(xs))
    csvish = st.lists(st.text(alphabet=',"\r\n\x00ab\\', max_size=20), max_size=5).map(
        lambda xs: "\n".join(xs).encode())
    return st.one_of(st.binary(max_size=300), nested, structured, lines, csvish,
                     st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_hostile_bodies(), ctype=_CTYPES)
def test_fuzz_decoding_raises_only_client_errors(body: bytes, ctype: str) -> None:
    """Whatever the bytes, decoding returns instances or raises a 4xx error, nothing else."""
    try:
        instances, params = decode_instances(body, ctype)
    except ValidationError as exc:  # PayloadError, UnsupportedMediaType
        assert 400 <= http_status(exc) < 500 and exc.message
    else:
        assert isinstance(instances, list) and 0 < len(instances) <= MAX_INSTANCES
        assert isinstance(params, dict)
