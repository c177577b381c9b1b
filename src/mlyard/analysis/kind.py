"""The ``analysis`` job kind: one analyzer (profile, bias, explain, flow, balance, or one a
package adds) run as a job, with its inputs resolved and checked before the job is created.

:meth:`AnalysisKind.validate` (in the submitting process, through
:func:`mlyard.core.jobs.submit_job`) finds the analyzer, parses its configuration, reads
every input (files, folders, artifact URIs, catalog tables ``table:NAME``), loads the model
where the analysis needs predictions and lets the analyzer check
(:meth:`~mlyard.analysis.base.Analyzer.check`) it all, so bad input is refused naming the
column, value or step, and no job is left behind.

:meth:`AnalysisKind.run` does the same resolution in the job process, lets the analyzer
write into the job's staging folder, adds ``summary.json`` (the analyzer's summary) and
stores the folder only after the analyzer returned: at ``output`` if given (a folder, or a
file path when the analysis writes one data file, such as balance's ``balanced.csv``), else
under the job's artifacts. Only then is the analysis indexed in
:class:`~mlyard.analysis.store.AnalysisStore`; a failed analysis leaves neither files at the
destination nor an index row, and the job ends Failed with the reason.

Analyzers are found in :data:`mlyard.analysis.base.ANALYZERS` and, for analyzers a package
adds, in the ``mlyard.analyzers`` entry-point group (``name = "module:Class"``), as job kinds
and algorithms are found.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from mlyard.analysis.base import (
    AnalysisConfig,
    AnalysisInputs,
    Analyzer,
    Progress,
    available_analyzers,
    get_analyzer,
    no_progress,
)
from mlyard.analysis.data import TABLE_PREFIX, file_format, read_frame
from mlyard.core.context import JobContext, resolve_input
from mlyard.core.kinds import JobKind
from mlyard.core.specs import CHANNEL_NAME_RE, JobSpec
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from mlyard.core.records import JobRecord

#: The file every stored analysis holds: the analyzer's summary (what the CLI prints).
SUMMARY_FILE = "summary.json"
#: The analysis' own JSON files, in the order the server and SDK look for a report.
REPORT_JSON_FILES = ("analysis.json", "profile.json", "flow_summary.json", SUMMARY_FILE)
#: The HTML report an analysis may write.
REPORT_HTML = "report.html"


class AnalysisJobSpec(JobSpec):
    """An analysis job: the analyzer ``analysis`` with its ``config`` (the analyzer's
    configuration as JSON) over ``inputs`` (input name -> local path, artifact URI or
    ``table:NAME``), with the registered model ``model_name`` where it needs predictions.
    ``output`` is where its files go: a folder (local or an artifact URI), or a file path
    when the analysis writes a single data file; default: the job's artifacts."""

    kind: Literal["analysis"] = "analysis"
    analysis: str = Field(min_length=1, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict)
    model_name: str | None = None
    output: str | None = None
    max_runtime_seconds: int | None = Field(default=None, ge=1, alias="MaxRuntimeInSeconds")

    @field_validator("inputs")
    @classmethod
    def _input_names(cls, v: dict[str, str]) -> dict[str, str]:
        for name, location in v.items():
            if not CHANNEL_NAME_RE.match(name):
                raise ValueError(f"invalid input name {name!r}: use letters, digits, '_', "
                                 "'.' and '-'")
            if not location.strip():
                raise ValueError(f"input {name!r} has an empty location")
        return v


@dataclass
class ResolvedAnalysis:
    """An analysis job's spec made concrete: the analyzer, its typed configuration and its
    inputs read into DataFrames (with the loaded model where one is needed)."""

    analyzer: Analyzer[Any]
    config: AnalysisConfig
    inputs: AnalysisInputs


def _source(ws: Workspace, location: str, what: str) -> str | Path:
    """What :func:`~mlyard.analysis.data.read_frame` reads for an input location."""
    if location.startswith(TABLE_PREFIX):
        return location
    if location.startswith("file://") or "://" in location:
        return resolve_input(ws, location, what)
    return Path(location).expanduser()


def resolve(ws: Workspace, spec: AnalysisJobSpec,
            progress: Progress = no_progress) -> ResolvedAnalysis:
    """Find the analyzer, parse the configuration, read the inputs, load the model if the
    analysis needs one, and run the analyzer's own checks; raises the ValidationError (or
    DataError, NotFoundError) that names what is wrong."""
    analyzer = get_analyzer(spec.analysis)
    config = analyzer.parse_config(spec.config)
    wanted = tuple(analyzer.input_names_for(config))
    missing = [n for n in wanted if n not in spec.inputs]
    if missing:
        raise ValidationError(f"{spec.analysis}: input(s) {missing} missing; it reads "
                              f"{list(wanted)}, given {sorted(spec.inputs) or 'none'}")
    extra = [n for n in spec.inputs if n not in wanted]
    if extra:
        raise ValidationError(f"{spec.analysis}: unknown input(s) {extra}; it reads "
                              f"{list(wanted)}")
    record = ws.store.get_model(spec.model_name) if spec.model_name else None
    frames = {}
    for name in wanted:
        what = f"input {name!r}"
        progress(f"reading {what} from {spec.inputs[name]}")
        frames[name] = read_frame(_source(ws, spec.inputs[name], what), ws=ws, what=what)
    inputs = AnalysisInputs(frames=frames, model_name=spec.model_name)
    if analyzer.needs_model(config):
        if record is None:
            raise ValidationError(f"{spec.analysis}: this configuration needs a model "
                                  "(--model NAME)")
        from mlyard.models.base import load_model

        progress(f"loading model {record.name}")
        inputs.model = load_model(ws.artifacts.materialize(record.uri, ws.cache_dir))
    analyzer.check(config, inputs)
    return ResolvedAnalysis(analyzer, config, inputs)


def _is_file_destination(output: str) -> bool:
    """Whether ``output`` names a data file (``x.csv``), not a folder."""
    if "://" in output:
        return False
    path = Path(output).expanduser()
    if path.is_dir():
        return False
    try:
        file_format(path)
    except ValidationError:
        return False
    return True


def check_output(output: str) -> None:
    """Refuse a local destination the analysis would clobber: an existing folder that is
    neither empty nor a previous analysis' output (it is replaced as a whole), or an
    existing folder where a file is to be written."""
    if "://" in output and not output.startswith("file://"):
        return
    path = Path(output[7:] if output.startswith("file://") else output).expanduser()
    if path.is_file() and not _is_file_destination(output):
        raise ValidationError(f"output {output}: is a file; give a folder (or a .csv, "
                              ".parquet or .jsonl file for an analysis that writes one)")
    if path.is_dir() and any(path.iterdir()) and not (path / SUMMARY_FILE).is_file():
        raise ValidationError(f"output {output}: folder exists and is not empty (it would be "
                              "replaced); give a new or empty folder")


def _single_data_file(folder: Path, dest: Path) -> Path:
    """The one data file of ``folder`` with ``dest``'s suffix (an analysis may write side
    files, such as balance's summary, that a file destination leaves out)."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != SUMMARY_FILE]
    matching = [p for p in files if p.suffix.lower() == dest.suffix.lower()]
    if len(matching) == 1:
        return matching[0]
    if len(files) == 1:
        raise ValidationError(f"output {dest}: the analysis wrote a {files[0].suffix} file; "
                              f"name the output with that suffix")
    raise ValidationError(f"output {dest} is a file, but the analysis wrote "
                          f"{[p.name for p in files]}; give a folder")


def store_analysis(ctx: JobContext[AnalysisJobSpec],
                   folder: Path) -> tuple[str, Callable[[], None]]:
    """Store the finished ``folder`` at the job's destination; its URI and how to undo it
    (if indexing fails, nothing is left at the destination)."""
    ws, output = ctx.ws, ctx.spec.output
    if output is None:
        uri = ctx.store_output(folder, "output")
        return uri, lambda: ws.artifacts.delete(uri)
    if "://" in output and not output.startswith("file://"):
        return ws.artifacts.upload(folder, output), lambda: ws.artifacts.delete(output)
    dest = Path(output[7:] if output.startswith("file://") else output).expanduser().resolve()
    existed = dest.exists()
    source = _single_data_file(folder, dest) if _is_file_destination(output) else folder
    uri = ws.artifacts.upload(source, dest.as_uri())

    def undo() -> None:
        if not existed:
            if dest.is_dir():
                shutil.rmtree(dest, ignore_errors=True)
            else:
                dest.unlink(missing_ok=True)

    return uri, undo


class AnalysisKind(JobKind[AnalysisJobSpec]):
    """An analysis job (see :class:`AnalysisJobSpec`)."""

    name = "analysis"
    spec_type = AnalysisJobSpec

    def validate(self, ws: Workspace, spec: AnalysisJobSpec) -> None:
        if spec.output is not None:
            check_output(spec.output)
        resolve(ws, spec)

    def preload(self, spec: AnalysisJobSpec) -> Sequence[str]:
        target = available_analyzers().get(spec.analysis)
        modules = ["mlyard.analysis.data", "mlyard.analysis.store_sql"]
        return [*modules, target.partition(":")[0]] if target else modules

    def run(self, ctx: JobContext[AnalysisJobSpec]) -> dict[str, str]:
        from mlyard.analysis.store import AnalysisRecord, AnalysisStore

        spec = ctx.spec
        if spec.output is not None:
            check_output(spec.output)
        resolved = resolve(ctx.ws, spec, progress=ctx.log.write)
        folder = ctx.staging / "analysis"
        folder.mkdir(parents=True, exist_ok=True)
        ctx.log.write(f"running analysis {spec.analysis}")
        summary = resolved.analyzer.run(resolved.config, resolved.inputs, folder,
                                        progress=ctx.log.write)
        summary = json.loads(json.dumps(summary, default=str))
        (folder / SUMMARY_FILE).write_text(json.dumps(summary, indent=2))
        uri, undo = store_analysis(ctx, folder)
        try:
            AnalysisStore.of(ctx.ws.store).put_analysis(AnalysisRecord(
                job_name=ctx.name, analysis=spec.analysis, created_at=time.time(),
                output_uri=uri, inputs=dict(spec.inputs), model_name=spec.model_name,
                summary=summary))
        except BaseException:
            undo()
            raise
        ctx.log.write(f"analysis {spec.analysis} stored at {uri}")
        return {"output": uri}

    def describe(self, ws: Workspace, record: JobRecord,
                 final_metrics: dict[str, float]) -> dict[str, Any]:
        from mlyard.analysis.store import AnalysisStore

        out: dict[str, Any] = {"AnalysisType": record.spec.get("analysis")}
        try:
            found = AnalysisStore.of(ws.store).get_analysis(record.name)
        except NotFoundError:
            return out
        out["AnalysisOutput"] = found.output_uri
        out["AnalysisSummary"] = found.summary
        return out
