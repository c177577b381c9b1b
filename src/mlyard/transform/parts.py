"""Batch transform output side: predicting one part, part files, the resume manifest and
the final assembly.

A *part* is a run of consecutive records of one input file (``part_records`` of them, the
last one fewer). :func:`run_part` predicts a part in mini-batches and writes its rendered
output to ``<output>/.parts/<file>.<index:06d>`` through a temporary file and an atomic
rename, so an existing part file is always complete. A part file starts with one JSON line
of metadata (``{"records": n, "columns": [...]}``, ``columns`` being the CSV header of
text/csv output) followed by the output records. :func:`assemble_output` concatenates the
parts of a file into its final ``<file>.out``, again atomically.

The worker-process entry points (:func:`init_worker`, :func:`worker_run_part`) live here so
that a ``spawn``-ed worker imports this module and nothing bigger.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.errors import MlyardError
from mlyard.models.base import LoadedModel, load_model
from mlyard.transform.records import CSV, INPUT_COLUMN, JSONLINES

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 1

#: CSV output names of the prediction fields of :meth:`LoadedModel.predict`'s results.
PREDICTION_COLUMNS = {"label": "predicted_label", "prob": "probability", "score": "predicted_score"}

#: The JSON key that holds the prediction of a joined record (as SageMaker names it).
OUTPUT_KEY = "SageMakerOutput"
#: The JSON key that holds a joined input record that is not a JSON object.
INPUT_KEY = "SageMakerInput"


class PartStopped(Exception):
    """A part was abandoned because the transform was asked to stop."""


@dataclass(frozen=True)
class RenderSpec:
    """How predictions become output records (the options every part shares)."""

    accept: str
    join_source: str
    top_k: int
    batch_size: int


@dataclass
class PartTask:
    """One unit of work: the records of part ``index`` of input file ``rel``.

    ``source_kind`` is ``"csv"``, ``"json"`` or ``"text"`` (how to join ``sources``);
    ``columns`` names the input columns of joined CSV output; ``first_record`` is the
    0-based position of the part's first record in its file (for error messages).
    """

    rel: str
    index: int
    path: str
    first_record: int
    instances: list[Any]
    sources: list[Any] | None
    source_kind: str
    columns: list[str] | None
    spec: RenderSpec


def part_path(parts_dir: Path, rel: str, index: int) -> Path:
    """Where part ``index`` of input file ``rel`` is stored."""
    return parts_dir / f"{rel}.{index:06d}"


def clear_parts(parts_dir: Path, rel: str) -> int:
    """Remove every part file (and leftover temporary file) of input file ``rel``; return
    how many were removed."""
    folder = (parts_dir / rel).parent
    if not folder.is_dir():
        return 0
    pattern = re.compile(re.escape(Path(rel).name) + r"\.\d{6,}(\.tmp\.\d+)?")
    removed = 0
    for entry in os.scandir(folder):
        if entry.is_file() and pattern.fullmatch(entry.name):
            os.unlink(entry.path)
            removed += 1
    return removed


# -- rendering --------------------------------------------------------------------------------


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return _dumps(value)


def prediction_cells(prediction: Any, top_k: int) -> tuple[list[str], list[str]]:
    """The CSV column names and cells of one prediction.

    ``label``/``prob``/``score`` become ``predicted_label``/``probability``/
    ``predicted_score``; with ``top_k > 1`` list fields become numbered columns
    (``predicted_label_1, ..., predicted_label_k``). A non-object prediction is one column
    ``prediction``.
    """
    if not isinstance(prediction, dict):
        prediction = {"prediction": prediction}
    names: list[str] = []
    cells: list[str] = []
    for key, value in prediction.items():
        name = PREDICTION_COLUMNS.get(key, str(key))
        if isinstance(value, (list, tuple, np.ndarray)):
            if top_k == 1 and len(value) == 1:
                names.append(name)
                cells.append(_cell(value[0]))
            else:
                for i, item in enumerate(value, 1):
                    names.append(f"{name}_{i}")
                    cells.append(_cell(item))
        else:
            names.append(name)
            cells.append(_cell(value))
    return names, cells


def _joined_json(prediction: Any, source: Any, kind: str, columns: list[str] | None) -> Any:
    if kind == "csv":
        joined: dict[str, Any] = dict(zip(columns or [], source, strict=False))
        joined[OUTPUT_KEY] = prediction
        return joined
    if kind == "json" and isinstance(source, dict):
        return {**source, OUTPUT_KEY: prediction}
    if kind == "json" and isinstance(source, list):
        return [*source, prediction]
    return {INPUT_KEY: source, OUTPUT_KEY: prediction}


def _input_cells(source: Any, kind: str, columns: list[str] | None) -> list[str]:
    if kind == "csv":
        return list(source)
    if kind == "json" and isinstance(source, dict):
        return [_cell(source.get(name)) for name in columns or list(source)]
    return [_cell(source)]


class _Renderer:
    """Accumulates the rendered output records of one part."""

    def __init__(self, task: PartTask) -> None:
        self.task = task
        self.spec = task.spec
        self.join = task.spec.join_source == "Input"
        self.lines: list[str] = []
        self.columns: list[str] | None = None
        self._pred_names: list[str] | None = None
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def add(self, predictions: Sequence[Any], sources: Sequence[Any] | None, where: str) -> None:
        kind, columns = self.task.source_kind, self.task.columns
        if self.spec.accept == JSONLINES:
            if self.join and sources is not None:
                self.lines.extend(
                    _dumps(_joined_json(pred, src, kind, columns))
                    for pred, src in zip(predictions, sources, strict=True)
                )
            else:
                self.lines.extend(_dumps(pred) for pred in predictions)
            return
        for i, pred in enumerate(predictions):
            names, cells = prediction_cells(pred, self.spec.top_k)
            if self._pred_names is None:
                self._pred_names = names
                input_names = (columns or [INPUT_COLUMN]) if self.join else []
                self.columns = list(input_names) + names
            elif names != self._pred_names:
                raise MlyardError(
                    f"{where}: prediction fields changed from {', '.join(self._pred_names)} "
                    f"to {', '.join(names)}; text/csv output needs the same fields for every "
                    "record"
                )
            if self.join and sources is not None:
                cells = _input_cells(sources[i], kind, columns) + cells
            self._writer.writerow(cells)

    def body(self) -> str:
        if self.spec.accept == JSONLINES:
            return "\n".join(self.lines) + "\n" if self.lines else ""
        return self._buffer.getvalue()


def _with_context(exc: Exception, where: str) -> MlyardError:
    message = (
        f"{where}: {exc.message}"
        if isinstance(exc, MlyardError)
        else (f"{where}: {type(exc).__name__}: {exc}")
    )
    if isinstance(exc, MlyardError):
        try:
            return type(exc)(message)
        except TypeError:
            pass
    return MlyardError(message)


def run_part(
    model: LoadedModel,
    task: PartTask,
    should_stop: Callable[[], bool],
    on_records: Callable[[int], None],
) -> int:
    """Predict the records of ``task`` in mini-batches and write its part file; return the
    number of records.

    ``should_stop`` is checked before every mini-batch (raising :class:`PartStopped`, no
    part file written); ``on_records(n)`` is called after each mini-batch. Model errors
    are re-raised as :class:`MlyardError` naming the file, the part and the records.
    """
    spec = task.spec
    renderer = _Renderer(task)
    total = len(task.instances)
    for start in range(0, total, spec.batch_size):
        if should_stop():
            raise PartStopped()
        stop = min(start + spec.batch_size, total)
        batch = task.instances[start:stop]
        where = (
            f"{task.rel} part {task.index} (records {task.first_record + start + 1}-"
            f"{task.first_record + stop})"
        )
        try:
            predictions = model.predict(batch, top_k=spec.top_k)
        except Exception as exc:
            raise _with_context(exc, f"model failed on {where}") from exc
        if len(predictions) != len(batch):
            raise MlyardError(
                f"model returned {len(predictions)} predictions for {len(batch)} records on {where}"
            )
        sources = task.sources[start:stop] if task.sources is not None else None
        try:
            renderer.add(predictions, sources, where)
        except MlyardError:
            raise
        except Exception as exc:
            raise _with_context(exc, f"cannot write the predictions of {where}") from exc
        on_records(len(batch))
    meta = {"records": total, "columns": renderer.columns}
    write_atomic(Path(task.path), (_dumps(meta) + "\n" + renderer.body()).encode("utf-8"))
    return total


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def assemble_output(parts_dir: Path, rel: str, n_parts: int, out_path: Path, accept: str) -> int:
    """Concatenate parts ``0..n_parts-1`` of ``rel`` into ``out_path`` (atomically; a CSV
    header first for text/csv) and return the number of records."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp.{os.getpid()}")
    header: list[str] | None = None
    total = 0
    try:
        with open(tmp, "wb") as out:
            for index in range(n_parts):
                with open(part_path(parts_dir, rel, index), "rb") as fh:
                    meta = json.loads(fh.readline())
                    total += int(meta["records"])
                    if accept == CSV:
                        columns = meta.get("columns")
                        if index == 0:
                            header = columns
                            buffer = io.StringIO()
                            csv.writer(buffer, lineterminator="\n").writerow(columns or [])
                            out.write(buffer.getvalue().encode("utf-8"))
                        elif columns != header:
                            raise MlyardError(
                                f"{rel}: part {index} has columns {columns}, part 0 has "
                                f"{header}; cannot assemble text/csv output"
                            )
                    shutil.copyfileobj(fh, out)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return total


class PartsManifest:
    """``.parts/manifest.json``: per input file, what its parts were made from
    (options fingerprint, input size and mtime) and whether its output is complete."""

    def __init__(self, parts_dir: Path, log: Callable[[str], None]) -> None:
        self.path = parts_dir / MANIFEST_FILE
        self.files: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") != MANIFEST_VERSION:
                    raise ValueError(f"version {data.get('version')!r}")
                self.files = dict(data["files"])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log(f"transform: ignoring unreadable {self.path} ({exc}); starting over")
                self.files = {}

    def save(self) -> None:
        """Write the manifest atomically."""
        data = {"version": MANIFEST_VERSION, "files": self.files}
        write_atomic(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))


# -- worker processes ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


class _Reporter:
    """Sends record counts to the coordinator at most every ``interval`` seconds."""

    def __init__(self, queue: Any, interval: float = 0.2) -> None:
        self.queue = queue
        self.interval = interval
        self.pending = 0
        self.last = time.monotonic()

    def add(self, n: int) -> None:
        self.pending += n
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.queue.put(self.pending)
            self.pending = 0
        self.last = time.monotonic()


def init_worker(model_dir: str, stop_event: Any, queue: Any) -> None:
    """Worker-process initializer: load the model once (a load error is kept and raised by
    every task, so it reaches the coordinator as a normal task error)."""
    _WORKER.clear()
    _WORKER["stop"] = stop_event
    _WORKER["queue"] = queue
    try:
        _WORKER["model"] = load_model(model_dir)
    except Exception as exc:  # reported by worker_run_part
        _WORKER["error"] = exc


def worker_run_part(task: PartTask) -> int:
    """Worker-process task: :func:`run_part` with the worker's model."""
    if "error" in _WORKER:
        raise _WORKER["error"]
    reporter = _Reporter(_WORKER["queue"])
    try:
        return run_part(_WORKER["model"], task, _WORKER["stop"].is_set, reporter.add)
    finally:
        reporter.flush()
