"""Property tests of the server's request parsers: whatever the input, a parser returns a
value of its documented type and range or raises ValidationError (HTTP 400) — never any
other exception (which the server would answer with a 500)."""

from __future__ import annotations

import json
import math
import re
from enum import StrEnum
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from mlyard.errors import ValidationError
from mlyard.server.wire import (
    MAX_INT,
    declared_length,
    json_safe,
    parse_json_object,
    query_choice,
    query_float,
    query_int,
    query_str,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


class Color(StrEnum):
    RED = "red"
    GREEN = "green"


def _query(**values: str) -> QueryParams:
    return QueryParams(urlencode(values))


@given(st.binary(max_size=300))
def test_any_bytes_give_an_object_or_a_validation_error(raw: bytes) -> None:
    try:
        data = parse_json_object(raw)
    except ValidationError as exc:
        assert exc.message.startswith("request body")
    else:
        assert isinstance(data, dict)


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=5))
def test_json_objects_round_trip(obj: dict[str, object]) -> None:
    for encoding in ("utf-8", "utf-16"):
        assert parse_json_object(json.dumps(obj).encode(encoding)) == obj


@given(JSON_VALUES.filter(lambda v: not isinstance(v, dict)))
def test_other_json_is_refused(value: object) -> None:
    with pytest.raises(ValidationError, match="must be a JSON object"):
        parse_json_object(json.dumps(value).encode())


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"a": NaN}', "not valid JSON: NaN is not a JSON number"),
    (b'{"a": Infinity}', "not valid JSON: Infinity is not a JSON number"),
    (b'{"a": -Infinity}', "not valid JSON: -Infinity is not a JSON number"),
    (b'{"a": 1e999}', "not valid JSON: number 1e999 is out of range"),
    (b'{"a": 99999999999999999999}', "is out of the 64-bit range"),
    (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not valid JSON: nested too deeply"),
    (b"\xff\xfe\xfa", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'"text"', "must be a JSON object"),
    (b"{", "not valid JSON"),
])
def test_refused_json(raw: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=f"^request body .*{re.escape(message)}"):
        parse_json_object(raw)


def test_empty_body_is_an_empty_object() -> None:
    assert parse_json_object(b"") == {} == parse_json_object(b" \n")


@given(st.one_of(st.none(), st.text(max_size=30)))
def test_declared_length(header: str | None) -> None:
    try:
        length = declared_length(header)
    except ValidationError:
        assert header is not None
        assert not (header.strip().isascii() and header.strip().isdigit())
    else:
        if header is None:
            assert length is None
        else:
            assert length is not None and length >= 0
            assert str(length) == header.strip().lstrip("0").rjust(1, "0")


def test_declared_length_refuses_non_ascii_digits() -> None:
    for header in ("\u0663", "\u00b2", "-1", "1.5", "", "0x10"):
        message = f"Content-Length {header!r} is not a byte count"
        with pytest.raises(ValidationError, match=re.escape(message)):
            declared_length(header)
    assert declared_length(" 0042 ") == 42


@given(st.text(max_size=30), st.integers(-100, 100), st.integers(0, 200))
def test_query_int_in_bounds_or_refused(text: str, low: int, span: int) -> None:
    try:
        value = query_int(_query(n=text), "n", low, minimum=low, maximum=low + span)
    except ValidationError as exc:
        assert "'n'" in exc.message
    else:
        assert low <= value <= low + span
        assert value == int(text.strip())


@given(st.integers(0, MAX_INT))
def test_query_int_accepts_every_int64(number: int) -> None:
    assert query_int(_query(n=str(number)), "n", 0) == number


def test_query_int_refuses_beyond_int64_and_repeats() -> None:
    with pytest.raises(ValidationError,
                       match=r"'n' must be in 0\.\.9223372036854775807, got 9223372036854775808"):
        query_int(_query(n=str(MAX_INT + 1)), "n", 0)
    with pytest.raises(ValidationError, match="given 2 times"):
        query_int(QueryParams("n=1&n=2"), "n", 0)
    assert query_int(_query(), "n", 7) == 7


@given(st.text(max_size=30))
def test_query_float_is_finite_or_refused(text: str) -> None:
    try:
        value = query_float(_query(x=text), "x", None, minimum=-1e6, maximum=1e6)
    except ValidationError as exc:
        assert "'x'" in exc.message
    else:
        assert value is not None and math.isfinite(value) and -1e6 <= value <= 1e6


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_query_float_reads_every_finite_float(number: float) -> None:
    assert query_float(_query(x=repr(number)), "x", None) == number


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999", "", "1,5"])
def test_query_float_refuses(text: str) -> None:
    with pytest.raises(ValidationError,
                       match=f"'x' must be a (finite )?number.*, got {re.escape(repr(text))}$"):
        query_float(_query(x=text), "x", 1.0)


@given(st.text(max_size=20))
def test_query_choice(text: str) -> None:
    try:
        value = query_choice(_query(c=text), "c", Color)
    except ValidationError as exc:
        assert "red, green" in exc.message
        assert text not in {"red", "green"}
    else:
        assert value is Color(text)
    assert query_choice(_query(), "c", Color) is None


@given(st.text(max_size=40))
def test_query_str_length(text: str) -> None:
    assume(text)
    try:
        value = query_str(_query(s=text), "s", max_length=20)
    except ValidationError:
        assert len(text) > 20
    else:
        assert value == text


@given(JSON_VALUES | st.floats())
def test_json_safe_output_is_strict_json(value: object) -> None:
    json.dumps(json_safe(value), allow_nan=False)
    assert json_safe({"a": [math.nan, math.inf, 1.5]}) == {"a": [None, None, 1.5]}
