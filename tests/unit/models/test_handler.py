"""SageMaker's default ``input_fn`` (:mod:`mlyard.models.handler`) on hostile payloads: every
bad body is a 400 ``ValidationError`` (never a 424 ``ModelError`` or a crash)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from mlyard.errors import ValidationError, http_status
from mlyard.models.handler import default_input_fn


def _huge_npy() -> bytes:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }"
    header += b" " * (64 - (10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00" * 64


@pytest.mark.parametrize("body, ctype, message", [
    ("[" * 3000 + "]" * 3000, "application/json", "nested more than"),
    ("1" * 5000, "application/json", "malformed request body"),
    (_huge_npy(), "application/x-npy", "claims shape"),
    (b"\x93NUMPY\x01\x00\xff\xff", "application/x-npy", "not a .npy array"),
])
def test_bad_bodies_are_validation_errors(body: str | bytes, ctype: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as exc:
        default_input_fn(body, ctype)
    assert http_status(exc.value) == 400


def test_good_npy_and_json_still_decode() -> None:
    buf = io.BytesIO()
    np.save(buf, np.arange(6, dtype=np.float32).reshape(2, 3))
    tensor = default_input_fn(buf.getvalue(), "application/x-npy")
    assert tuple(tensor.shape) == (2, 3) and float(tensor.sum()) == 15.0
    assert tuple(default_input_fn("[[1, 2], [3, 4]]", "application/json").shape) == (2, 2)
    assert default_input_fn('{"text": "hi"}', "application/json") == {"text": "hi"}
