"""Step caching: the key a step's result is stored and found under.

The key is the SHA-256 of the step's type, the canonical JSON of its *resolved* arguments
(expressions already replaced, so an upstream step that produced other outputs gives
another key) and a content digest of every local file or folder the arguments name
(``file://`` URIs, absolute local paths and artifact URIs that are on this machine, and
relative paths in the location fields: processing inputs, training channels, transform
inputs, source folders, an entry point outside a source folder). The execution id
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


#: Arguments whose value is a location even when it is a relative path (resolved against
#: the working folder, as the step's job resolves it).
PATH_KEYS = frozenset({"SourceDir", "Source", "Uri", "S3Uri", "TransformInput",
                       "ModelDataUrl", "source_dir", "source", "uri", "input"})


def _strings(value: Any, key: str | None = None) -> Iterator[tuple[str, str | None]]:
    if isinstance(value, str):
        yield value, key
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _strings(item, str(k))
        entry, folder = value.get("EntryPoint"), value.get("SourceDir")
        if isinstance(entry, str) and not isinstance(folder, str):
            yield entry, "SourceDir"  # a script outside any source folder
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, key)


def local_location(text: str, to_local: Callable[[str], Path | None] | None = None,
                   *, relative: bool = False) -> Path | None:
    """The existing local file/folder ``text`` names (``file://`` URI, absolute path, a
    URI ``to_local`` maps to this machine, or with ``relative`` a path relative to the
    working folder), else None."""
    path: Path | None = None
    if text.startswith("file://"):
        path = Path(text[7:])
    elif "://" in text:
        path = to_local(text) if to_local is not None else None
    elif os.path.isabs(text) or (relative and text.strip() not in ("", ".", "..")):
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
    named = sorted({(text, key in PATH_KEYS) for text, key in _strings(arguments)})
    for text, relative in named:
        path = local_location(text, to_local, relative=relative)
        if path is not None:
            h.update(text.encode() + b"\0" + digest_path(path).encode() + b"\0")
    return h.hexdigest()
