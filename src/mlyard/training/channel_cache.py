"""Prepared channels cached across training jobs, keyed by the content of their input.

Why: the trials of a tuning job train on the same channels with different
hyperparameters, and a built-in algorithm's data preparation (reading, tokenizing,
hashing n-grams) cost each BlazingText trial about 2 s, more than many trials trained.
An algorithm prepares its channels once per distinct input and preparation, stores the
result here and loads it in every later job.

The key is a digest of the input files' *content* (not their names or times), the
preparation's parameters and the algorithm's format, so a changed file is a miss and an
unchanged copy elsewhere is a hit. An entry is a folder ``<root>/<key>/`` of ``.npy``
arrays plus ``manifest.json`` (the SHA-256 of each array and the algorithm's metadata),
written into a temporary folder and renamed into place as a whole, so concurrent jobs
never see a partial entry; two jobs preparing the same key both succeed and one entry
stays. On load every array is checked against the manifest and read without pickle
(``allow_pickle=False``); an entry that is missing, partial, corrupt or of another format
is never used: it counts as a miss, is moved aside and prepared again.

The location comes from :data:`ENV` (set for every training process by
:class:`mlyard.training.run.TrainingRun` to ``<workspace cache>/channels``); without it
there is no cache. At most :data:`MAX_ENTRIES` entries are kept (the least recently used
go first).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

ENV = "MLYARD_CHANNEL_CACHE"
MANIFEST = "manifest.json"
#: Bumped when the layout of an entry changes (older entries are then misses).
FORMAT = 1
MAX_ENTRIES = 32
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ChannelCache:
    """Prepared-channel entries under ``root`` (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_env(cls) -> ChannelCache | None:
        """The cache named by :data:`ENV`, or None when the variable is not set."""
        location = os.environ.get(ENV)
        return cls(Path(location)) if location else None

    # -- keys --------------------------------------------------------------------------
    @staticmethod
    def key(kind: str, inputs: Mapping[str, Iterable[Path]], params: Mapping[str, Any]) -> str:
        """The key of preparing ``inputs`` (channel name -> its files, in reading order)
        with ``params`` for ``kind`` (the algorithm and its preparation's version)."""
        content = {name: [file_digest(Path(f)) for f in files] for name, files in inputs.items()}
        text = json.dumps({"format": FORMAT, "kind": kind, "inputs": content,
                           "params": dict(params)}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    # -- reading -----------------------------------------------------------------------
    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """The arrays and metadata stored under ``key``, or None (a miss) when there is no
        complete, intact entry. A damaged entry is moved aside."""
        folder = self.root / key
        if not folder.is_dir():
            return None
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            if manifest.get("format") != FORMAT or manifest.get("key") != key:
                raise ValueError("another format or key")
            arrays: dict[str, np.ndarray] = {}
            for name, entry in manifest["arrays"].items():
                path = folder / f"{name}.npy"
                raw = path.read_bytes()
                if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
                    raise ValueError(f"{name}.npy does not match its checksum")
                with open(path, "rb") as handle:
                    arrays[name] = np.load(handle, allow_pickle=False)
            meta = dict(manifest["meta"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._discard(folder)
            return None
        with contextlib.suppress(OSError):  # least recently used goes first
            os.utime(folder)
        return arrays, meta

    # -- writing -----------------------------------------------------------------------
    def store(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bool:
        """Store an entry atomically; True when this call's entry is the one in place
        (False when another job stored the same key first, or the cache is not writable)."""
        tmp = self.root / f".tmp-{key}-{uuid.uuid4().hex}"
        try:
            tmp.mkdir(parents=True)
            sums = {}
            for name, array in arrays.items():
                path = tmp / f"{name}.npy"
                with open(path, "wb") as handle:
                    np.save(handle, np.ascontiguousarray(array), allow_pickle=False)
                    handle.flush()
                    os.fsync(handle.fileno())
                sums[name] = {"sha256": file_digest(path)}
            manifest = {"format": FORMAT, "key": key, "created": time.time(),
                        "arrays": sums, "meta": dict(meta)}
            (tmp / MANIFEST).write_text(json.dumps(manifest))
            target = self.root / key
            if target.exists() and self.load(key) is not None:
                return False  # another job stored it first
            try:
                os.rename(tmp, target)
            except OSError:  # it appeared meanwhile
                return False
        except OSError:
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._prune()
        return True

    def _discard(self, folder: Path) -> None:
        """Move a damaged entry out of the way (then delete it)."""
        aside = self.root / f".bad-{folder.name}-{uuid.uuid4().hex}"
        try:
            os.rename(folder, aside)
        except OSError:
            return
        shutil.rmtree(aside, ignore_errors=True)

    def _prune(self) -> None:
        try:
            entries = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            return
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda p: p.stat().st_mtime if p.exists() else 0.0)
        for old in entries[:len(entries) - MAX_ENTRIES]:
            self._discard(old)
