"""The Debugger's on-disk record format, shared by the hook (writer) and the trace (reader).

A hook writes ``tensors-rank{rank}.jsonl`` in its output folder: one strict JSON object per
line, ``{"step", "mode", "collection", "name", "stats", "time"}``. Non-finite floats are not
valid JSON, so they are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``
and turned back into floats when read; statistics that are undefined (the mean of a tensor
without a single finite value) are ``null``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "MLYARD_DEBUGGER_CONFIG"
"""Environment variable carrying the hook's settings (JSON) into the training process."""

COLLECTIONS: tuple[str, ...] = ("losses", "weights", "gradients", "labels")
"""The built-in collections a hook can save."""

MODES: tuple[str, ...] = ("train", "eval")
"""Record modes: training steps and evaluation (validation) passes."""

_FILE_RE = re.compile(r"^tensors-rank(\d+)\.jsonl$")
_NONFINITE_OUT = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def trace_file(out_dir: Path, rank: int) -> Path:
    """The file the hook of ``rank`` writes in ``out_dir``."""
    return Path(out_dir) / f"tensors-rank{rank}.jsonl"


def trace_files(out_dir: Path) -> dict[int, Path]:
    """All hook files in ``out_dir`` by rank (empty when the folder does not exist)."""
    folder = Path(out_dir)
    if not folder.is_dir():
        return {}
    found: dict[int, Path] = {}
    for path in folder.iterdir():
        match = _FILE_RE.match(path.name)
        if match and path.is_file():
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class TensorRecord:
    """One line of a hook file: the statistics of one tensor (or a loss, or label counts)
    at one step, as read back, with the rank of the file it came from."""

    step: int
    mode: str
    collection: str
    name: str
    stats: Mapping[str, Any]
    time: float
    rank: int = 0

    @property
    def value(self) -> float | None:
        """The scalar of a loss or metric record (``stats["value"]``), else ``None``."""
        raw = self.stats.get("value")
        return None if raw is None else float(raw)


def sanitize(obj: Any) -> Any:
    """``obj`` with non-finite floats replaced by ``"NaN"``/``"Infinity"``/``"-Infinity"``
    (recursively through dicts, lists and tuples), so it encodes as strict JSON."""
    if isinstance(obj, float):
        if math.isnan(obj):
            return "NaN"
        if math.isinf(obj):
            return "Infinity" if obj > 0 else "-Infinity"
        return obj
    if isinstance(obj, Mapping):
        return {str(k): sanitize(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [sanitize(v) for v in obj]
    return obj


def _restore(obj: Any) -> Any:
    """Inverse of :func:`sanitize` for values read back."""
    if isinstance(obj, str):
        return _NONFINITE_OUT.get(obj, obj)
    if isinstance(obj, dict):
        return {k: _restore(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_restore(v) for v in obj]
    return obj


def encode_record(step: int, mode: str, collection: str, name: str,
                  stats: Mapping[str, Any], time: float) -> str:
    """One line of a hook file (with the trailing newline), as strict JSON."""
    payload = {"step": int(step), "mode": mode, "collection": collection, "name": name,
               "stats": sanitize(stats), "time": float(time)}
    return json.dumps(payload, allow_nan=False, separators=(",", ":")) + "\n"


def decode_line(line: str | bytes, rank: int = 0) -> TensorRecord:
    """Parse one line of a hook file; raises ``ValueError`` for a malformed line."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("debugger record must be a JSON object")
    try:
        stats = data["stats"]
        if not isinstance(stats, dict):
            raise ValueError("debugger record 'stats' must be an object")
        return TensorRecord(step=int(data["step"]), mode=str(data["mode"]),
                            collection=str(data["collection"]), name=str(data["name"]),
                            stats=_restore(stats), time=float(data.get("time", 0.0)),
                            rank=rank)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed debugger record: {exc!r}") from None
