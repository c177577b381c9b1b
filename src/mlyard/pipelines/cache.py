"""Step caching: the key a step's result is stored and found under.

The key is the SHA-256 of the step's type, the canonical JSON of its *resolved* arguments
(expressions already replaced, so an upstream step that produced other outputs gives
another key) and a content digest of every local file or folder the arguments name
(``file://`` URIs, absolute local paths and artifact URIs that are on this machine:
processing inputs, training channels, transform inputs, source folders). The execution id
is not part of it, so another execution with the same inputs finds the result; changing a
byte of an input or of a script changes the key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: Files are hashed in blocks of this many bytes.
BLOCK = 1 << 20


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def local_location(text: str, to_local: Callable[[str], Path | None] | None = None
                   ) -> Path | None:
    """The existing local file/folder ``text`` names (``file://`` URI, absolute path, or a
    URI ``to_local`` maps to this machine), else None."""
    path: Path | None = None
    if text.startswith("file://"):
        path = Path(text[7:])
    elif "://" in text:
        path = to_local(text) if to_local is not None else None
    elif os.path.isabs(text):
        path = Path(text)
    if path is None:
        return None
    try:
        return path if path.exists() else None
    except OSError:
        return None


def digest_path(path: Path) -> str:
    """SHA-256 over a file's bytes, or over a folder's files (sorted relative paths and
    their bytes; hidden ``__pycache__`` folders skipped)."""
    h = hashlib.sha256()
    if path.is_file():
        _hash_file(h, path)
        return h.hexdigest()
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            file = Path(root) / name
            h.update(file.relative_to(path).as_posix().encode() + b"\0")
            _hash_file(h, file)
            h.update(b"\0")
    return h.hexdigest()


def _hash_file(h: Any, path: Path) -> None:
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            h.update(block)


def cache_key(step_type: str, arguments: dict[str, Any],
              to_local: Callable[[str], Path | None] | None = None) -> str:
    """The cache key of a step (see the module docstring)."""
    h = hashlib.sha256()
    h.update(step_type.encode() + b"\0")
    h.update(json.dumps(arguments, sort_keys=True, separators=(",", ":"),
                        default=str).encode() + b"\0")
    seen: set[str] = set()
    for text in _strings(arguments):
        if text in seen:
            continue
        seen.add(text)
        path = local_location(text, to_local)
        if path is not None:
            h.update(text.encode() + b"\0" + digest_path(path).encode() + b"\0")
    return h.hexdigest()
