"""Bounded decoding of untrusted request bodies (JSON, NumPy ``.npy``).

Why this module exists: request bodies come from anyone who can reach an endpoint, and the
standard decoders are not safe against hostile input on their own.

* About 6 KB of nested JSON, ``[[[[...]]]]`` 3,000 deep, makes :func:`json.loads` raise
  :class:`RecursionError` (and a value that decodes just under the interpreter's limit
  makes every later recursive walk of it fail). :func:`check_json_depth` refuses a document
  nested more than :data:`MAX_JSON_DEPTH` levels *before* it is parsed, in a few C-speed
  passes over the bytes, and :func:`loads_json` turns every failure of the parser
  (``RecursionError``, ``JSONDecodeError``, the integer-digits ``ValueError``,
  ``UnicodeDecodeError``) into a :class:`~mlyard.errors.ValidationError` (HTTP 400).
* A ``.npy`` header may claim a shape of terabytes: :func:`numpy.load` allocates the whole
  array before it reads the data. :func:`load_npy` reads the header itself, checks that the
  shape and dtype account for exactly the bytes that follow (so it never allocates more
  than the body's size), refuses object arrays (pickles), and copies the data out.

Both the endpoint codec (:mod:`mlyard.serving.codec`) and SageMaker-style inference handlers
(:mod:`mlyard.models.handler`) use it; it sits in :mod:`mlyard.models` so both can import it
without going up the layers.
"""

from __future__ import annotations

import io
import json
import math
import re
from typing import Any

from mlyard.errors import ValidationError

#: Deepest JSON nesting (objects and arrays, counted together) a request may have. Model
#: inputs need a handful of levels (a batch of images is 4); 64 leaves room for any real
#: document and stays far below the interpreter's recursion limit (1,000).
MAX_JSON_DEPTH = 64

# A JSON string (escapes included); used to blank strings out before counting brackets.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Keep only brackets, braces folded into brackets.
_FOLD = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text ``data`` nests arrays and objects more than ``max_depth`` deep.

    Brackets inside strings do not count. Cheap for ordinary bodies (two ``count`` calls when
    the body has at most ``max_depth`` brackets in all); otherwise at most ``max_depth + 1``
    passes over the brackets. For malformed text the answer errs on the side of "too deep"
    only where the text is not JSON anyway.
    """
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= max_depth:
            return False
        raw = data.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(data)
        if raw.count(b"[") + raw.count(b"{") <= max_depth:
            return False
    brackets = _JSON_STRING.sub(b"", raw).translate(_FOLD, _NOT_BRACKETS)
    if brackets.count(b"[") <= max_depth:
        return False
    run = b"[" * (max_depth + 1)  # a run of openers: deep without a doubt
    # Each pass removes the innermost level ("[]" pairs of the text as it was); a valid
    # document of depth d is gone after exactly d passes.
    for _ in range(max_depth):
        if run in brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):  # unbalanced: not JSON; the parser says why
            return shorter.count(b"[") > max_depth
        brackets = shorter
        if b"[" not in brackets:
            return False
    return b"[" in brackets


def check_json_depth(data: bytes | str, max_depth: int = MAX_JSON_DEPTH, *,
                     what: str = "JSON body",
                     error: type[ValidationError] = ValidationError) -> None:
    """Raise ``error`` (400) if ``data`` nests more than ``max_depth`` levels."""
    if json_depth_exceeds(data, max_depth):
        raise error(f"{what} is nested more than {max_depth} levels deep (arrays and objects "
                    "together); flatten the input")


def loads_json(data: bytes | str, max_depth: int = MAX_JSON_DEPTH, *, what: str = "JSON body",
               error: type[ValidationError] = ValidationError) -> Any:
    """:func:`json.loads` for untrusted text: depth checked first, every failure ``error``."""
    check_json_depth(data, max_depth, what=what, error=error)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise error(f"malformed {what}: {exc.msg} at line {exc.lineno} column {exc.colno} "
                    f"(char {exc.pos})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text: {exc}") from None
    except RecursionError:
        raise error(f"{what} is nested too deeply; flatten the input") from None
    except (ValueError, TypeError, MemoryError) as exc:  # e.g. integers past 4,300 digits
        raise error(f"malformed {what}: {exc}") from None


def load_npy(body: bytes, *, what: str = "request body",
             error: type[ValidationError] = ValidationError) -> Any:
    """The array of a ``.npy`` body (NumPy format versions 1.0 and 2.0), never allocating
    more than the body holds; raises ``error`` for anything else."""
    import numpy as np
    from numpy.lib import format as npy_format

    fp = io.BytesIO(body)
    try:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fp)
        else:
            raise error(f"{what} is a .npy file of format version {version[0]}.{version[1]}; "
                        "versions 1.0 and 2.0 are accepted")
    except ValidationError:
        raise
    except Exception as exc:  # header parsing: ValueError, SyntaxError, RecursionError, ...
        raise error(f"{what} is not a .npy array: {type(exc).__name__}: {exc}") from None
    if dtype.hasobject:
        raise error(f"{what} is a .npy array of Python objects (dtype {dtype}); send numbers")
    if dtype.itemsize == 0:
        raise error(f"{what} is a .npy array of the zero-size dtype {dtype}")
    count = math.prod(shape)
    offset = fp.tell()
    expected = count * dtype.itemsize
    if expected != len(body) - offset:
        raise error(f"{what}: the .npy header claims shape {tuple(shape)} of {dtype} "
                    f"({expected} bytes) but {len(body) - offset} bytes of data follow")
    try:
        flat = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
        return flat.reshape(shape, order="F" if fortran else "C").copy()
    except (ValueError, TypeError, MemoryError) as exc:
        raise error(f"{what} is not a usable .npy array: {exc}") from None
