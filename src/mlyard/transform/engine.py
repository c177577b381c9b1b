"""Batch transform: run a saved model over input files, as SageMaker Batch Transform does.

:func:`run_transform` reads every input file (one file, or every non-hidden regular file of
a folder, recursively, sorted), splits it into records (see
:mod:`mlyard.transform.records` for the rules per content type; CSV input needs a
header row), sends mini-batches of ``batch_size`` records to
:meth:`mlyard.models.LoadedModel.predict` and writes, for input ``x.csv``, the output
``<output_dir>/x.csv.out`` (sub-folders of a folder input are kept), one output record per
input record, in input order.

Work is cut into *parts* of ``part_records`` consecutive records of one file, so even a
single big file spreads over ``workers`` processes. Each finished part is stored under
``<output_dir>/.parts/`` (atomically), and ``.parts/manifest.json`` records what the parts
were made from (an options-and-model fingerprint and each input file's size and mtime).
A re-run with the same model, options and inputs skips finished parts and finished files
(a re-run after success does nothing); a changed file or changed options start that file
over. Once all its parts exist a file's ``.out`` is assembled atomically and its parts are
deleted, so a failed or stopped run never leaves a partial ``.out``. ``batch_size`` and
``workers`` may change between a run and its resumption. One transform at a time may use
an output folder.

With ``workers > 1`` parts run in a pool of ``spawn``-ed processes (safe from threads),
each loading the model once through :func:`mlyard.models.load_model`, so the model's
loader must be importable in a fresh interpreter; start-up costs about half a second.

Output (``accept``):

* ``application/jsonlines``: one prediction a line, as :meth:`LoadedModel.predict` gives it
  (``{"label": [...], "prob": [...]}``). With ``join_source="Input"`` a JSON object input
  record gets the key ``"SageMakerOutput"`` added, a JSON array gets the prediction
  appended, a CSV row becomes an object ``{column: value, ..., "SageMakerOutput": ...}``
  and any other input ``{"SageMakerInput": ..., "SageMakerOutput": ...}``.
* ``text/csv``: a header row, then one row per record: ``predicted_label, probability``
  (``predicted_score`` for regressors; with ``top_k > 1`` numbered columns
  ``predicted_label_1..k, probability_1..k``). With ``join_source="Input"`` the input
  columns come first (the CSV header; the keys of JSON objects, which must then be the same
  in every record; else one column ``input``).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from mlyard.core.specs import Spec
from mlyard.errors import MlyardError, ValidationError
from mlyard.models.base import MANIFEST_NAME, LoadedModel, load_model, read_manifest
from mlyard.transform.parts import (
    PartsManifest,
    PartStopped,
    PartTask,
    RenderSpec,
    assemble_output,
    clear_parts,
    init_worker,
    part_path,
    run_part,
    worker_run_part,
)
from mlyard.transform.records import (
    CSV,
    JSONLINES,
    InputFile,
    RecordReader,
    list_input_files,
)

PARTS_DIR = ".parts"
OUTPUT_SUFFIX = ".out"
STOPPED_MESSAGE = "transform stopped"


class TransformOptions(Spec):
    """Options of a batch transform (SageMaker's names where it has one)."""

    content_type: Literal["text/csv", "application/jsonlines", "text/plain"] | None = Field(
        default=None,
        description="Input format; None infers it per file from the suffix (.csv: text/csv, "
        ".jsonl/.json/.ndjson: application/jsonlines, else text/plain).",
    )
    split_type: Literal["Line", "None"] = Field(
        default="Line",
        description="'Line': a record per line (per CSV row); 'None': a whole file is one "
        "record (not for text/csv).",
    )
    batch_size: int = Field(default=256, ge=1, description="Records per predict call.")
    part_records: int = Field(
        default=10_000,
        ge=1,
        description="Records per part (the unit of parallel work and of resumption).",
    )
    workers: int = Field(default=1, ge=1, description="Worker processes; 1 runs in-process.")
    accept: Literal["application/jsonlines", "text/csv"] = Field(
        default="application/jsonlines", description="Output format."
    )
    join_source: Literal["None", "Input"] = Field(
        default="None", description="'Input' puts each input record next to its prediction.",
        alias="JoinSource")
    text_field: str | None = Field(
        default=None,
        description="CSV column or JSON key holding the model input; default: 'text', else "
        "the only column/key.",
    )
    top_k: int = Field(default=1, ge=1, description="Labels per prediction (classifiers).")
    skip_bad_rows: bool = Field(
        default=False,
        description="Leave out (and count) records that are not UTF-8, CSV rows with the "
        "wrong number of fields and malformed JSON lines, instead of refusing the file.",
    )


class TransformResult(BaseModel):
    """What a transform run did."""

    input_files: int = Field(description="Input files considered.")
    output_files: list[Path] = Field(description="The .out file of every input, input order.")
    records: int = Field(description="Records transformed by this run.")
    records_skipped: int = Field(description="Records of parts/files an earlier run finished.")
    parts_done: int = Field(description="Parts transformed by this run.")
    parts_skipped: int = Field(description="Parts an earlier run finished (resumed).")
    files_skipped: int = Field(description="Files whose output an earlier run completed.")
    seconds: float = Field(description="Wall-clock seconds of this run.")
    records_per_second: float = Field(description="records / seconds.")


def _never() -> bool:
    return False


def _model_fingerprint(model_dir: Path) -> str:
    read_manifest(model_dir)  # NotFoundError / ValidationError for a bad model directory
    digest = hashlib.sha256(str(model_dir.resolve()).encode("utf-8"))
    digest.update((model_dir / MANIFEST_NAME).read_bytes())
    return digest.hexdigest()


def _options_fingerprint(options: TransformOptions, content_type: str, model_fp: str) -> str:
    payload = {
        "format": 1,
        "model": model_fp,
        "content_type": content_type,
        "split_type": options.split_type,
        "accept": options.accept,
        "join_source": options.join_source,
        "text_field": options.text_field,
        "top_k": options.top_k,
        "part_records": options.part_records,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()[:32]


@dataclass
class _FileRun:
    """Book-keeping of one input file during a run."""

    file: InputFile
    out_path: Path
    pending: int = 0
    parts: int = 0
    parts_skipped: int = 0
    parsed: bool = False


class _InlineRunner:
    """Runs parts in this process, one after the other."""

    def __init__(
        self,
        model: LoadedModel,
        should_stop: Callable[[], bool],
        on_records: Callable[[int], None],
        on_done: Callable[[PartTask, int], None],
    ) -> None:
        self.model = model
        self.should_stop = should_stop
        self.on_records = on_records
        self.on_done = on_done

    def submit(self, task: PartTask) -> None:
        self.on_done(task, run_part(self.model, task, self.should_stop, self.on_records))

    def finish(self) -> None:
        return None

    def close(self, abort: bool) -> None:
        return None


class _PoolRunner:
    """Runs parts in a pool of ``spawn``-ed worker processes, each with the model loaded
    once; at most ``2 * workers`` parts are queued at a time."""

    def __init__(
        self,
        model_dir: Path,
        workers: int,
        should_stop: Callable[[], bool],
        on_records: Callable[[int], None],
        on_done: Callable[[PartTask, int], None],
    ) -> None:
        self.model_dir = model_dir
        self.workers = workers
        self.should_stop = should_stop
        self.on_records = on_records
        self.on_done = on_done
        self.ctx = multiprocessing.get_context("spawn")
        self.executor: ProcessPoolExecutor | None = None
        self.pending: dict[Future[int], PartTask] = {}
        self.stop_event: Any = None
        self.queue: Any = None

    def _start(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.stop_event = self.ctx.Event()
            self.queue = self.ctx.SimpleQueue()
            self.executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self.ctx,
                initializer=init_worker,
                initargs=(str(self.model_dir), self.stop_event, self.queue),
            )
        return self.executor

    def submit(self, task: PartTask) -> None:
        executor = self._start()
        while len(self.pending) >= 2 * self.workers:
            self._poll(0.1)
        if self.should_stop():
            raise PartStopped()
        try:
            future = executor.submit(worker_run_part, task)
        except BrokenProcessPool as exc:
            raise MlyardError(f"transform worker process died: {exc}") from exc
        self.pending[future] = task

    def _drain(self, report: bool = True) -> None:
        if self.queue is None:
            return
        while not self.queue.empty():
            n = self.queue.get()
            if report:
                self.on_records(n)

    def _poll(self, timeout: float) -> None:
        done, _ = wait(list(self.pending), timeout=timeout, return_when=FIRST_COMPLETED)
        self._drain()
        if self.should_stop():
            raise PartStopped()
        for future in sorted(done, key=lambda f: (self.pending[f].rel, self.pending[f].index)):
            task = self.pending.pop(future)
            exc = future.exception()
            if isinstance(exc, BrokenProcessPool):
                raise MlyardError(
                    f"transform worker process died on {task.rel} part {task.index}: {exc}"
                ) from exc
            if exc is not None:
                raise exc
            self.on_done(task, future.result())

    def finish(self) -> None:
        while self.pending:
            self._poll(0.1)
        self._drain()

    def close(self, abort: bool) -> None:
        """Shut the pool down: queued parts are cancelled; running ones finish (their part
        files stay for a resume) unless ``abort`` tells them to stop at the next batch."""
        if self.executor is None:
            return
        if abort:
            self.stop_event.set()
        for future in self.pending:
            future.cancel()
        while any(not future.done() for future in self.pending):
            wait(list(self.pending), timeout=0.1)
            self._drain(report=False)
        self.executor.shutdown(wait=True)
        self._drain(report=False)
        self.queue.close()
        self.executor = None
        self.pending.clear()


def run_transform(
    model_dir: Path,
    input_path: Path,
    output_dir: Path,
    options: TransformOptions | None = None,
    log: Callable[[str], None] = print,
    should_stop: Callable[[], bool] = _never,
    progress: Callable[[int], None] | None = None,
) -> TransformResult:
    """Transform ``input_path`` (a file or a folder) with the model in ``model_dir`` into
    ``output_dir`` (see the module docstring), resuming an earlier run's finished parts.

    ``log`` gets progress lines; ``should_stop`` is checked between mini-batches and
    between parts: once true the run stops, keeps its finished parts and raises
    ``MlyardError("transform stopped")``. ``progress(n)``, if given, is called as
    mini-batches finish with ``n`` = records transformed by this run so far.

    Raises :class:`~mlyard.errors.NotFoundError` for a missing input or model,
    :class:`~mlyard.errors.DataError` for an empty or malformed input file (naming the file,
    and the line or the columns), :class:`~mlyard.errors.ValidationError` for unusable
    options, and a :class:`~mlyard.errors.MlyardError` naming the file and part when the
    model fails. Every input file still to transform is checked (its layout and first
    record) before any prediction.
    """
    job = _Transform(
        Path(model_dir),
        Path(input_path),
        Path(output_dir),
        options if options is not None else TransformOptions(),
        log,
        should_stop,
        progress,
    )
    job.plan()
    job.execute()
    return job.result()


class _Transform:
    """One run of :func:`run_transform`."""

    def __init__(
        self,
        model_dir: Path,
        input_path: Path,
        output_dir: Path,
        options: TransformOptions,
        log: Callable[[str], None],
        should_stop: Callable[[], bool],
        progress: Callable[[int], None] | None,
    ) -> None:
        self.started = time.perf_counter()
        self.model_dir = model_dir
        self.output_dir = output_dir
        self.options = options
        self.log = log
        self.should_stop = should_stop
        self.progress = progress
        self.model_fp = _model_fingerprint(model_dir)
        if input_path.is_dir() and input_path.resolve() == output_dir.resolve():
            raise ValidationError(f"transform output folder {output_dir} is the input folder")
        self.files = list_input_files(input_path, options.content_type, exclude=output_dir)
        self.parts_dir = output_dir / PARTS_DIR
        self.keep_source = options.join_source == "Input"
        self.spec = RenderSpec(
            accept=options.accept,
            join_source=options.join_source,
            top_k=options.top_k,
            batch_size=options.batch_size,
        )
        self.runs: dict[str, _FileRun] = {}
        self.manifest: PartsManifest | None = None
        self.progress_records = 0
        self.records = self.records_skipped = 0
        self.parts_done = self.parts_skipped = self.files_skipped = 0

    def _reader(self, file: InputFile) -> RecordReader:
        return RecordReader(
            file,
            split_type=self.options.split_type,
            text_field=self.options.text_field,
            keep_source=self.keep_source,
            check_columns=self.keep_source and self.options.accept == CSV,
            skip_bad_rows=self.options.skip_bad_rows,
        )

    def _out_path(self, file: InputFile) -> Path:
        return self.output_dir / (file.rel + OUTPUT_SUFFIX)

    def plan(self) -> None:
        """Decide which files are done and which to (re)do; check the latter's input."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        manifest = self.manifest = PartsManifest(self.parts_dir, self.log)
        fresh: dict[str, dict[str, Any]] = {}
        for file in self.files:
            out_path = self._out_path(file)
            identity = {
                "fingerprint": _options_fingerprint(self.options, file.content_type, self.model_fp),
                "size": file.size,
                "mtime_ns": file.mtime_ns,
            }
            entry = manifest.files.get(file.rel) or {}
            same = all(entry.get(key) == value for key, value in identity.items())
            if same and entry.get("complete") and out_path.is_file():
                self.files_skipped += 1
                self.records_skipped += int(entry.get("records", 0))
                self.parts_skipped += int(entry.get("parts", 0))
                self.log(f"transform: {file.rel} already transformed, skipping")
                continue
            self._reader(file).first_record()
            if not same:
                fresh[file.rel] = identity
            self.runs[file.rel] = _FileRun(file=file, out_path=out_path)
        # Only now that every input checked out: reset the files to start over.
        for rel, run in self.runs.items():
            if rel in fresh:  # new file, or its input or the options changed
                if clear_parts(self.parts_dir, rel) or rel in manifest.files:
                    self.log(f"transform: {rel}: input or options changed, starting over")
                run.out_path.unlink(missing_ok=True)
                manifest.files[rel] = {**fresh[rel], "complete": False}
            else:
                manifest.files[rel]["complete"] = False
        manifest.save()
        self.log(
            f"transform: {len(self.files)} input file(s), {len(self.runs)} to transform, "
            f"{self.options.workers} worker(s)"
        )

    def execute(self) -> None:
        """Transform the planned files; raise ``MlyardError("transform stopped")`` on stop."""
        if not self.runs:
            return
        runner: _InlineRunner | _PoolRunner
        if self.options.workers == 1:
            model = load_model(self.model_dir)
            runner = _InlineRunner(model, self.should_stop, self._on_records, self._on_done)
        else:
            runner = _PoolRunner(
                self.model_dir,
                self.options.workers,
                self.should_stop,
                self._on_records,
                self._on_done,
            )
        abort = True
        try:
            for run in self.runs.values():
                self._submit_file(run, runner)
            runner.finish()
            abort = False
        except PartStopped:
            self.log("transform: stopped; finished parts are kept for a resume")
            raise MlyardError(STOPPED_MESSAGE) from None
        except Exception:
            abort = False  # let running parts finish: a re-run resumes after them
            raise
        finally:
            runner.close(abort)

    def _submit_file(self, run: _FileRun, runner: _InlineRunner | _PoolRunner) -> None:
        """Cut ``run``'s file into parts; hand the unfinished ones to ``runner``."""
        part_records = self.options.part_records
        reader = self._reader(run.file)
        records = reader.records()
        source_kind = {CSV: "csv", JSONLINES: "json"}.get(run.file.content_type, "text")
        index = first = 0
        try:
            while True:
                if self.should_stop():
                    raise PartStopped()
                path = part_path(self.parts_dir, run.file.rel, index)
                if path.is_file():  # finished by an earlier run
                    n = sum(1 for _ in islice(records, part_records))
                    if n == 0:
                        break
                    run.parts_skipped += 1
                    self.parts_skipped += 1
                    self.records_skipped += n
                else:
                    chunk = list(islice(records, part_records))
                    n = len(chunk)
                    if n == 0:
                        break
                    run.pending += 1
                    runner.submit(
                        PartTask(
                            rel=run.file.rel,
                            index=index,
                            path=str(path),
                            first_record=first,
                            instances=[record[0] for record in chunk],
                            sources=[record[1] for record in chunk] if self.keep_source else None,
                            source_kind=source_kind,
                            columns=reader.columns,
                            spec=self.spec,
                        )
                    )
                index += 1
                first += n
        finally:
            records.close()
        if reader.bad_rows.summary():
            self.log(f"transform: {run.file.rel}: {reader.bad_rows.summary()}")
        run.parts = index
        run.parsed = True
        if run.pending == 0:
            self._finalize(run)

    def _on_records(self, n: int) -> None:
        self.progress_records += n
        if self.progress is not None:
            self.progress(self.progress_records)

    def _on_done(self, task: PartTask, n: int) -> None:
        self.parts_done += 1
        self.records += n
        run = self.runs[task.rel]
        run.pending -= 1
        if run.parsed and run.pending == 0:
            self._finalize(run)

    def _finalize(self, run: _FileRun) -> None:
        """Assemble the file's output from its parts, record it, delete the parts."""
        assert self.manifest is not None
        rel = run.file.rel
        records = assemble_output(self.parts_dir, rel, run.parts, run.out_path, self.options.accept)
        self.manifest.files[rel].update(
            complete=True,
            records=records,
            parts=run.parts,
            output=run.out_path.relative_to(self.output_dir).as_posix(),
        )
        self.manifest.save()
        clear_parts(self.parts_dir, rel)
        resumed = f", {run.parts_skipped} resumed" if run.parts_skipped else ""
        self.log(f"transform: wrote {run.out_path} ({records} records, {run.parts} parts{resumed})")

    def result(self) -> TransformResult:
        """The run's :class:`TransformResult` (and a summary log line)."""
        seconds = time.perf_counter() - self.started
        result = TransformResult(
            input_files=len(self.files),
            output_files=[self._out_path(file) for file in self.files],
            records=self.records,
            records_skipped=self.records_skipped,
            parts_done=self.parts_done,
            parts_skipped=self.parts_skipped,
            files_skipped=self.files_skipped,
            seconds=seconds,
            records_per_second=self.records / seconds if seconds > 0 else 0.0,
        )
        self.log(
            f"transform: done: {result.records} records in {seconds:.2f}s "
            f"({result.records_per_second:.1f} records/s), {result.parts_done} parts done, "
            f"{result.parts_skipped} skipped"
        )
        return result
