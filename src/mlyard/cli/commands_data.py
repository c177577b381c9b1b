"""``mlyard sql``, ``mlyard tables`` and ``mlyard tokenize``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import fmt, fmt_time, table
from mlyard.cli.waiting import goes_on
from mlyard.core.jobs import submit_job, unique_job_name, wait_for_job
from mlyard.core.specs import MetricDefinitionSpec
from mlyard.data.catalog import Catalog
from mlyard.errors import ValidationError, problem_text
from mlyard.models.datafiles import BadRows
from mlyard.processing.spec import ProcessingInput, ProcessingJobSpec, ProcessingOutput


@click.command("sql")
@click.argument("query")
@click.option("--database", default="default", show_default=True, help="Current database.")
@click.option("--save", is_flag=True, help="Store the result as a query output (CSV+Parquet).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"],
                                                   case_sensitive=False), default="table",
              show_default=True, help="How to print the result.")
@click.option("--output", type=click.Path(dir_okay=False), help="Write the result to a CSV file.")
@click.option("--max-rows", default=50, show_default=True, help="Rows printed as a table.")
@click.pass_context
def sql_cmd(ctx: click.Context, query: str, database: str, save: bool, fmt: str,
            output: str | None, max_rows: int) -> None:
    """Run a SQL QUERY (DuckDB dialect) over the registered tables."""
    result = Catalog(workspace(ctx)).sql(query, database=database, save=save)
    frame = result.frame
    if output:
        frame.to_csv(output, index=False)
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(frame.to_json(orient="records"))
    else:
        shown = frame.head(max_rows)
        click.echo(table(list(map(str, frame.columns)), shown.itertuples(index=False)))
        more = f", {len(frame) - max_rows} not shown" if len(frame) > max_rows else ""
        click.echo(f"({len(frame)} rows{more}; {result.seconds:.3f} s)")
    if save:
        click.echo(f"saved query {result.query_id} to {result.output_uri}", err=True)


@click.group()
def tables() -> None:
    """Register, list and drop catalog tables (CSV, Parquet, JSON Lines)."""


@tables.command("register")
@click.argument("name")
@click.argument("location", type=click.Path(exists=True))
@click.option("--database", default="default", show_default=True,
              help="Database the table goes in.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "jsonl"],
                                                   case_sensitive=False),
              help="File format (default: from the file suffix).")
@click.option("--replace", is_flag=True, help="Replace an existing table of that name.")
@click.option("--description", default="", help="Free text shown in listings.")
@click.option("--skip-bad-rows", is_flag=True,
              help="Leave out (and count) CSV rows that are not UTF-8 or have the wrong number "
              "of fields, instead of refusing the file.")
@click.pass_context
def tables_register(ctx: click.Context, name: str, location: str, database: str,
                    fmt: str | None, replace: bool, description: str,
                    skip_bad_rows: bool) -> None:
    """Register the file or folder LOCATION as table NAME."""
    bad_rows = BadRows(skip=skip_bad_rows)
    rec = Catalog(workspace(ctx)).register_table(name, location, database=database, format=fmt,
                                                 replace=replace, description=description,
                                                 bad_rows=bad_rows)
    if bad_rows.summary():
        click.echo(bad_rows.summary(), err=True)
    click.echo(f"registered {rec.qualified_name} ({rec.format}) -> {rec.location}")


@tables.command("list")
@click.option("--database", default=None, help="Only this database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def tables_list(ctx: click.Context, database: str | None, as_json: bool) -> None:
    """List registered tables."""
    recs = Catalog(workspace(ctx)).tables(database)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in recs], indent=2))
        return
    click.echo(table(["database", "name", "format", "location", "created"],
                     [(r.database, r.name, r.format, r.location, fmt_time(r.created_at))
                      for r in recs]))


@tables.command("drop")
@click.argument("name")
@click.option("--database", default="default", show_default=True,
              help="Database the table is in.")
@click.pass_context
def tables_drop(ctx: click.Context, name: str, database: str) -> None:
    """Unregister table NAME (its files are kept)."""
    Catalog(workspace(ctx)).drop_table(name, database)
    click.echo(f"dropped {database}.{name}")


def _tokenize_script() -> Path:
    """The processing script of ``mlyard tokenize`` (a file, run as ``python <it>``)."""
    spec = importlib.util.find_spec("mlyard.data.tokenize_reviews")
    if spec is None or spec.origin is None:  # pragma: no cover - part of the package
        raise ValidationError("mlyard.data.tokenize_reviews is missing from this install")
    return Path(spec.origin).resolve()


def _local(location: str) -> str:
    return location if "://" in location else str(Path(location).resolve())


@click.command("tokenize")
@click.option("--input", "input_path", required=True,
              help="The labelled CSV (raw reviews, sentiment,review_body or label,text) or a "
                   "folder of them.")
@click.option("--output", help="Folder for the splits (default: the job's artifacts).")
@click.option("--max-seq-length", default=128, show_default=True,
              help="Tokens per row, [CLS] and [SEP] included (8..512).")
@click.option("--pretrained", type=click.Path(exists=True, file_okay=False),
              help="Local Hugging Face model folder whose tokenizer to use "
                   "(default: the bundled MiniLM-L6).")
@click.option("--validation-split", default=0.1, show_default=True,
              help="Share of rows in the validation split.")
@click.option("--test-split", default=0.1, show_default=True,
              help="Share of rows in the test split.")
@click.option("--seed", default=0, show_default=True, help="Seed of the shuffle and split.")
@click.option("--balance", is_flag=True, help="Down-sample every label to the smallest first.")
@click.option("--name", help="Job name (default: tokenize plus a timestamp).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and stream its log.")
@click.option("--quiet", is_flag=True, help="Do not stream the job's log while waiting.")
@click.pass_context
def tokenize_cmd(ctx: click.Context, input_path: str, output: str | None, max_seq_length: int,
                 pretrained: str | None, validation_split: float, test_split: float,
                 seed: int, balance: bool, name: str | None, wait: bool, quiet: bool) -> None:
    """Tokenize a labelled CSV into train/validation/test splits for the bert algorithm, as a
    processing job (the course's prepare_data step). Each split folder is a channel."""
    if not 8 <= max_seq_length <= 512:
        raise ValidationError(f"--max-seq-length must be in 8..512, got {max_seq_length}")
    arguments = ["--input", "{input:raw}", "--output", "{output:tokenized}",
                 "--max-seq-length", str(max_seq_length),
                 "--validation-split", str(validation_split), "--test-split", str(test_split),
                 "--seed", str(seed)]
    inputs = [ProcessingInput(name="raw", source=_local(input_path))]
    if pretrained:
        inputs.append(ProcessingInput(name="pretrained", source=_local(pretrained)))
        arguments += ["--pretrained", "{input:pretrained}"]
    if balance:
        arguments.append("--balance")
    metrics = [MetricDefinitionSpec(name=f"rows:{split}", regex=rf"#rows_{split}: (\d+)")
               for split in ("train", "validation", "test")]
    try:
        spec = ProcessingJobSpec(
            entry_point=str(_tokenize_script()), arguments=arguments, inputs=inputs,
            outputs=[ProcessingOutput(name="tokenized",
                                      destination=_local(output) if output else None)],
            metric_definitions=metrics,
        )
    except ValueError as exc:
        raise ValidationError(f"invalid job: {problem_text(exc)}") from None
    ws = workspace(ctx)
    job_name = name or unique_job_name("tokenize")
    submit_job(ws, spec, job_name)
    if not wait:
        click.echo(job_name)
        return
    with goes_on("job", job_name):
        record = wait_for_job(ws, job_name, on_log=None if quiet else click.echo,
                              raise_on_failure=True)
    location = record.outputs.get("tokenized", "")
    local = ws.artifacts.local_path(location) if location else None
    click.echo(f"job {job_name} {record.status.value} in {fmt(record.duration)} s; "
               f"tokenized splits at {local or location}")
    try:
        manifest = json.loads(ws.artifacts.read_bytes(f"{location.rstrip('/')}/"
                                                      "tokenization.json"))
    except Exception:
        return
    labels = [str(x) for x in manifest.get("labels", [])]
    counts = manifest.get("counts", {})
    click.echo(f"tokenizer {manifest.get('tokenizer')!r}, max_seq_length "
               f"{manifest.get('max_seq_length')}, label_ids {manifest.get('label_ids')}")
    click.echo(table(["split", "rows", *labels],
                     [(split, sum(c.values()), *(c.get(label, 0) for label in labels))
                      for split, c in counts.items()]))
