"""Bounded decoding of untrusted bodies (:mod:`mlyard.models.payloads`)."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.errors import ValidationError, http_status
from mlyard.models.payloads import (
    MAX_JSON_DEPTH,
    check_json_depth,
    json_depth_exceeds,
    load_npy,
    loads_json,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _nest(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for i in range(depth):
        value = [value] if i % 2 else {"k": value, "s": "[[[{{"}
    return value


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=40)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, limit=st.integers(0, 8))
def test_depth_check_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    text = json.dumps(value)
    assert json_depth_exceeds(text, limit) == (_depth(value) > limit)
    assert json_depth_exceeds(text.encode(), limit) == (_depth(value) > limit)


def test_depth_limit_and_messages() -> None:
    ok = json.dumps(_nest(MAX_JSON_DEPTH))
    assert loads_json(ok) == json.loads(ok)
    deep = json.dumps(_nest(MAX_JSON_DEPTH + 1))
    with pytest.raises(ValidationError, match=f"nested more than {MAX_JSON_DEPTH} levels") as e:
        loads_json(deep, what="request body")
    assert http_status(e.value) == 400 and e.value.message.startswith("request body is")
    for hostile in ("[" * 3000 + "]" * 3000, "[" * 100_000, '{"a":' * 5000,
                    "[[]" * 5000 + "]" * 5000, "[]" * 100_000):
        if hostile == "[]" * 100_000:
            check_json_depth(hostile)  # wide, not deep
            continue
        with pytest.raises(ValidationError, match="nested"):
            loads_json(hostile)


@pytest.mark.parametrize("text, message", [
    ("{bad", "malformed JSON body: Expecting property name"),
    ("1" * 5000, "malformed JSON body: Exceeds the limit"),
    (b"\xff\xfe\xfd", "JSON body is not UTF-8"),
    ('"\\ud800', "malformed JSON body"),
])
def test_every_parser_failure_is_a_validation_error(text: str | bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        loads_json(text)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@pytest.mark.parametrize("array", [np.arange(12, dtype=np.float32).reshape(3, 4),
                                   np.asfortranarray(np.arange(6.0).reshape(2, 3)),
                                   np.array(3.5), np.zeros((0, 5)), np.array(["ab", "c"])])
def test_npy_roundtrip(array: np.ndarray) -> None:
    out = load_npy(_npy(array))
    assert out.dtype == array.dtype and out.shape == array.shape
    assert np.array_equal(out, array) and out.flags.writeable


def _with_header(header: str, data: bytes = b"") -> bytes:
    body = header.encode("latin1")
    pad = 64 - (10 + len(body) + 1) % 64
    body += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + data


@pytest.mark.parametrize("body, message", [
    (_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (10**6, 10**6), }"),
     "not a .npy array"),
    (_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"),
     r"claims shape \(1000000, 1000000\) of float64 \(8000000000000 bytes\) but 0 bytes"),
    (_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", b"x" * 15),
     "but 15 bytes"),
    (_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", b"x" * 8),
     "Python objects"),
    (_with_header("{'descr': '|V0', 'fortran_order': False, 'shape': (1000000000,), }"),
     "zero-size dtype"),
    (_with_header("{'descr': [" + "[" * 3000 + "]" * 3000 + "], 'fortran_order': False, "
                  "'shape': (1,), }"), "not a .npy array"),
    (b"\x93NUMPY\x03\x00" + b"\x00" * 60, "format version 3.0"),
    (b"not numpy at all", "not a .npy array"),
    (b"", "not a .npy array"),
])
def test_hostile_npy_is_refused_before_allocating(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_npy(body)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(
    st.binary(max_size=200),
    st.binary(max_size=120).map(lambda b: b"\x93NUMPY\x01\x00" + b),
    st.tuples(st.sampled_from(["<f4", "|u1", "<i8", "|O", "|V0", "<U3", "bad"]),
              st.lists(st.integers(-2, 10**12), max_size=4), st.booleans(),
              st.binary(max_size=64)).map(
        lambda t: _with_header(f"{{'descr': '{t[0]}', 'fortran_order': {t[2]}, "
                               f"'shape': {tuple(t[1])}, }}", t[3]))))
def test_fuzz_npy_raises_only_validation_errors(body: bytes) -> None:
    try:
        out = load_npy(body)
    except ValidationError as exc:
        assert http_status(exc) == 400 and exc.message
    else:
        assert isinstance(out, np.ndarray) and out.nbytes <= len(body)
