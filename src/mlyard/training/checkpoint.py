"""Training checkpoints: atomic, verified, tied to the model that wrote them.

A checkpoint is a folder ``checkpoint-<step>`` inside the job's checkpoint directory
(``SM_CHECKPOINT_DIR``; SageMaker's ``/opt/ml/checkpoints``) holding whatever files the
trainer writes plus ``mlyard-checkpoint.json``::

    {"format": "mlyard-checkpoint-v1", "step": 500, "epoch": 2, "fingerprint": {...},
     "files": {"state.pt": {"sha256": "...", "bytes": 123}}, "meta": {...}, "created": ...}

It is written into a temporary folder first and renamed into place, so a process killed
mid-write (a spot reclaim) never leaves a half-written checkpoint that looks complete.
Loading checks the checksums and compares the *fingerprint* (what must match for a resume to
make sense: algorithm, labels, model shape, batch size, world size, data) with the current
run's: a corrupt checkpoint or one from another model raises :class:`CheckpointError`, and
training does not silently start from scratch unless ``on_invalid="restart"`` was asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlyard.errors import MlyardError

FORMAT = "mlyard-checkpoint-v1"
MANIFEST = "mlyard-checkpoint.json"
PREFIX = "checkpoint-"
#: One line per checkpoint written (``<step> <folder>``), so a watcher can count saves even
#: though old checkpoints are pruned.
SAVE_LOG = ".mlyard-saves"
#: Environment of a training process: the checkpoint folder (SageMaker-style name) and the
#: schedule/policy as JSON.
DIR_ENV = "SM_CHECKPOINT_DIR"
CONFIG_ENV = "MLYARD_CHECKPOINT_CONFIG"


class CheckpointError(MlyardError):
    """A checkpoint is corrupt or was written by a different model or run setup."""

    code = "CheckpointError"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint on disk: its folder, step, epoch and the trainer's metadata."""

    path: Path
    step: int
    epoch: int
    meta: dict[str, Any]

    def file(self, name: str) -> Path:
        """One of the files the trainer wrote."""
        return self.path / name


def fingerprint_diff(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two fingerprints (empty when they match)."""
    diffs = []
    for key in sorted(set(saved) | set(current)):
        if saved.get(key) != current.get(key):
            diffs.append(f"{key}: checkpoint {saved.get(key)!r}, this run {current.get(key)!r}")
    return diffs


@dataclass
class CheckpointManager:
    """Saves and finds checkpoints in ``directory`` for a run identified by ``fingerprint``.

    ``every_steps`` / ``every_seconds`` set the schedule (:meth:`due`); ``keep`` is how many
    complete checkpoints stay on disk; ``on_invalid`` is what to do with a corrupt or
    mismatched checkpoint: ``"fail"`` (raise :class:`CheckpointError`) or ``"restart"``
    (log it, move it aside, start from scratch). Only the writer (rank 0) saves.

    With ``background=True`` :meth:`save` returns once the trainer's state is handed over
    (the caller passes a snapshot, not live tensors); writing, hashing and the atomic rename
    happen in a thread while training goes on, one save at a time. ``save_seconds`` is the
    time the training loop was blocked, ``write_seconds`` the time spent writing.
    """

    directory: Path
    fingerprint: dict[str, Any]
    every_steps: int = 500
    every_seconds: float | None = None
    keep: int = 2
    on_invalid: Literal["fail", "restart"] = "fail"
    writer: bool = True
    log: Callable[[str], None] = print
    background: bool = False
    save_seconds: float = 0.0
    write_seconds: float = 0.0
    saves: int = 0
    _last_save: float = field(default_factory=time.monotonic)
    _pending: threading.Thread | None = None
    _error: BaseException | None = None

    @classmethod
    def from_env(cls, fingerprint: dict[str, Any], *, writer: bool = True,
                 log: Callable[[str], None] = print,
                 background: bool = False) -> CheckpointManager | None:
        """The manager for this training process, or None when the job has no checkpoint
        location (``SM_CHECKPOINT_DIR`` unset)."""
        directory = os.environ.get(DIR_ENV)
        if not directory:
            return None
        config = json.loads(os.environ.get(CONFIG_ENV) or "{}")
        return cls(Path(directory), fingerprint,
                   every_steps=int(config.get("every_steps", 500)),
                   every_seconds=config.get("every_seconds"),
                   keep=int(config.get("keep", 2)),
                   on_invalid=config.get("on_invalid", "fail"), writer=writer, log=log,
                   background=background)

    # -- finding -----------------------------------------------------------------------
    def _candidates(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        found = [p for p in self.directory.iterdir()
                 if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX):].isdigit()]
        return sorted(found, key=lambda p: int(p.name[len(PREFIX):]), reverse=True)

    def verify(self, path: Path) -> Checkpoint:
        """Read and check one checkpoint folder; raise :class:`CheckpointError` if it is
        incomplete, corrupt or from another model."""
        manifest_path = path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint {path} has no {MANIFEST}: incomplete") from None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path}: unreadable {MANIFEST}: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path}: not an {FORMAT} checkpoint")
        for name, info in (manifest.get("files") or {}).items():
            file = path / name
            if not file.is_file():
                raise CheckpointError(f"checkpoint {path}: file {name} is missing")
            if file.stat().st_size != info.get("bytes") or _sha256(file) != info.get("sha256"):
                raise CheckpointError(
                    f"checkpoint {path}: file {name} is corrupt (checksum mismatch)")
        diffs = fingerprint_diff(manifest.get("fingerprint") or {}, self.fingerprint)
        if diffs:
            raise CheckpointError(
                f"checkpoint {path} was written by a different model or setup ("
                + "; ".join(diffs) + "); remove it, point the job at another checkpoint "
                "location, or set on_invalid=restart to start from scratch")
        return Checkpoint(path, int(manifest["step"]), int(manifest.get("epoch", 0)),
                          dict(manifest.get("meta") or {}))

    def latest(self) -> Checkpoint | None:
        """The newest valid checkpoint, or None when there is none.

        The newest folder is the one that counts: if it is corrupt or from another model,
        :class:`CheckpointError` is raised (``on_invalid="fail"``) or every checkpoint is
        moved aside and None returned (``"restart"``)."""
        candidates = self._candidates()
        if not candidates:
            return None
        try:
            return self.verify(candidates[0])
        except CheckpointError as exc:
            if self.on_invalid != "restart":
                raise
            self.log(f"checkpoint: {exc}; on_invalid=restart: starting from scratch")
            if self.writer:
                aside = self.directory / f"invalid-{int(time.time())}"
                aside.mkdir(parents=True, exist_ok=True)
                for path in candidates:
                    shutil.move(str(path), aside / path.name)
            return None

    # -- saving ------------------------------------------------------------------------
    def due(self, step: int) -> bool:
        """Whether a checkpoint is due after ``step`` (steps count from 1)."""
        if self.every_steps > 0 and step % self.every_steps == 0:
            return True
        return (self.every_seconds is not None
                and time.monotonic() - self._last_save >= self.every_seconds)

    def save(self, step: int, epoch: int, write: Callable[[Path], None],
             meta: Mapping[str, Any] | None = None) -> Path | None:
        """Write a checkpoint for ``step``: ``write(folder)`` puts the trainer's files in a
        temporary folder, which gets its manifest and is renamed into place. Returns the
        folder (None on non-writer ranks)."""
        self._last_save = time.monotonic()
        if not self.writer:
            return None
        started = time.perf_counter()
        self.wait()
        final = self.directory / f"{PREFIX}{step:09d}"
        if self.background:
            def run() -> None:
                try:
                    self._write(step, epoch, write, meta)
                except BaseException as exc:  # raised by the next save() or wait()
                    self._error = exc

            self._pending = threading.Thread(target=run, name="mlyard-checkpoint", daemon=True)
            self._pending.start()
        else:
            self._write(step, epoch, write, meta)
        self.save_seconds += time.perf_counter() - started
        return final

    def wait(self, raise_errors: bool = True) -> None:
        """Block until a background save has finished; re-raise its error (unless told
        not to, when training is failing or stopping anyway)."""
        if self._pending is not None:
            self._pending.join()
            self._pending = None
        if self._error is not None and raise_errors:
            error, self._error = self._error, None
            raise error

    def _write(self, step: int, epoch: int, write: Callable[[Path], None],
               meta: Mapping[str, Any] | None) -> Path:
        started = time.perf_counter()
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.directory / f"{PREFIX}{step:09d}"
        tmp = self.directory / f".tmp-{PREFIX}{step:09d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            write(tmp)
            files = {}
            for file in sorted(p for p in tmp.rglob("*") if p.is_file()):
                with open(file, "rb+") as fh:
                    os.fsync(fh.fileno())
                files[str(file.relative_to(tmp))] = {"sha256": _sha256(file),
                                                     "bytes": file.stat().st_size}
            manifest = {"format": FORMAT, "step": step, "epoch": epoch,
                        "fingerprint": self.fingerprint, "files": files,
                        "meta": dict(meta or {}), "created": time.time()}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
            _fsync_dir(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            _fsync_dir(self.directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        with open(self.directory / SAVE_LOG, "a") as fh:
            fh.write(f"{step} {final.name}\n")
        self._prune(final)
        self.saves += 1
        self.write_seconds += time.perf_counter() - started
        return final

    def _prune(self, newest: Path) -> None:
        for old in self._candidates()[max(self.keep, 1):]:
            if old != newest:
                shutil.rmtree(old, ignore_errors=True)


def checkpoint_env(directory: Path, *, every_steps: int, every_seconds: float | None,
                   keep: int, on_invalid: str) -> dict[str, str]:
    """The variables that hand a checkpoint location and policy to a training process."""
    return {
        DIR_ENV: str(directory),
        CONFIG_ENV: json.dumps({"every_steps": every_steps, "every_seconds": every_seconds,
                                "keep": keep, "on_invalid": on_invalid}),
    }
