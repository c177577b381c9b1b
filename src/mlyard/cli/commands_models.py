"""``mlyard models``, ``algorithms``, ``evaluate``, ``transform`` and ``demo``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlyard.cli.commands_jobs import _finish
from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.core.jobs import submit_job, unique_job_name
from mlyard.errors import ValidationError, problem_text
from mlyard.models.content_types import TRANSFORM_INPUT_TYPES, TRANSFORM_OUTPUT_TYPES
from mlyard.transform.engine import TransformOptions
from mlyard.transform.spec import TransformJobSpec


@click.group()
def models() -> None:
    """List and describe registered models."""


@models.command("list")
@json_option
@click.pass_context
def models_list(ctx: click.Context, as_json: bool) -> None:
    """List models, newest first."""
    recs = workspace(ctx).store.list_models()
    if as_json:
        echo_json([{"ModelName": m.name, "Flavor": m.flavor, "TrainingJob": m.job_name,
                    "CreationTime": m.created_at, "Uri": m.uri} for m in recs])
        return
    click.echo(table(["name", "flavor", "job", "created", "uri"],
                     [(m.name, m.flavor, m.job_name, fmt_time(m.created_at), m.uri)
                      for m in recs]))


@models.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON (describe always does; accepted like on every command).")
@click.pass_context
def models_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """Print a model's record and manifest as JSON; ``Loading`` says in words what loading
    it runs (``flavor: pytorch-handler - runs user code: code/inference.py``) or why mlyard
    refuses to load it."""
    from mlyard.models import ModelLoadError, describe_loading, read_manifest
    from mlyard.models.flavors import check_flavor

    ws = workspace(ctx)
    rec = ws.store.get_model(name)
    model_dir = ws.artifacts.materialize(rec.uri, ws.cache_dir)
    manifest = read_manifest(model_dir, check=False)
    try:
        loading = describe_loading(check_flavor(manifest.flavor, manifest.loader, model_dir),
                                   model_dir)
    except ModelLoadError as exc:
        loading = f"refused: {exc.message}"
    echo_json({"ModelName": rec.name, "Uri": rec.uri, "Flavor": rec.flavor,
               "TrainingJob": rec.job_name, "CreationTime": rec.created_at,
               "Loading": loading, "Manifest": manifest.model_dump()})


@click.group()
def algorithms() -> None:
    """Built-in algorithms and their hyperparameters."""


@algorithms.command("list")
@json_option
def algorithms_list(as_json: bool) -> None:
    """List the algorithms mlyard can train."""
    from mlyard.algorithms import available_algorithms, get_algorithm

    rows = [(name, get_algorithm(name).description) for name in sorted(available_algorithms())]
    if as_json:
        echo_json([{"AlgorithmName": name, "Description": text} for name, text in rows])
        return
    click.echo(table(["algorithm", "description"], rows))


@algorithms.command("describe")
@click.argument("name")
@json_option
def algorithms_describe(name: str, as_json: bool) -> None:
    """Show an algorithm's hyperparameters (type, default, range) and metrics."""
    from mlyard.algorithms import get_algorithm

    algo = get_algorithm(name)
    if as_json:
        echo_json({
            "AlgorithmName": algo.name, "Description": algo.description,
            "HyperParameters": [
                {"Name": h.name, "Type": h.kind, "Default": h.default,
                 "Choices": list(h.choices) if h.choices else None, "MinValue": h.min_value,
                 "MaxValue": h.max_value, "Tunable": h.tunable,
                 "Description": h.description} for h in algo.HYPERPARAMETERS],
            "MetricDefinitions": [
                {"Name": m.name, "Regex": m.regex,
                 "Goal": "Maximize" if m.maximize else "Minimize"} for m in algo.METRICS]})
        return
    click.echo(f"{algo.name}: {algo.description}\n")
    rows = []
    for h in algo.HYPERPARAMETERS:
        if h.kind == "boolean":
            allowed = "true, false"
        elif h.choices:
            allowed = ", ".join(map(str, h.choices))
        else:
            allowed = f"[{fmt(h.min_value)}, {fmt(h.max_value)}]"

        rows.append((h.name, h.kind, h.default, allowed, "yes" if h.tunable else "",
                     h.description))
    click.echo(table(["hyperparameter", "type", "default", "allowed", "tunable", "meaning"],
                     rows))
    click.echo("\n" + table(["metric", "regex", "goal"],
                            [(m.name, m.regex, "maximize" if m.maximize else "minimize")
                             for m in algo.METRICS]))


@click.command()
@click.option("--model", "model_name", required=True, help="A registered model name.")
@click.option("--data", required=True, type=click.Path(exists=True),
              help="Labelled data: CSV with label/text columns, or __label__ lines.")
@click.option("--label-column", help="Label column of a CSV (default: label).")
@click.option("--text-column", help="Text column of a CSV (default: text).")
@click.option("--output", type=click.Path(file_okay=False),
              help="Folder for evaluation.json, confusion matrix and report.html.")
@click.option("--threshold", type=float, help="Score threshold of a binary model.")
@click.option("--positive-label", help="Positive class of a binary model.")
@click.option("--json", "as_json", is_flag=True, help="Print evaluation.json.")
@click.option("--skip-bad-rows", is_flag=True,
              help="Leave out (and count) rows that are not UTF-8, have the wrong number of "
              "fields or an empty label/text, instead of refusing the data.")
@click.pass_context
def evaluate(ctx: click.Context, model_name: str, data: str, label_column: str | None,
             text_column: str | None, output: str | None, threshold: float | None,
             positive_label: str | None, as_json: bool, skip_bad_rows: bool) -> None:
    """Evaluate a model on labelled data: metrics, confusion matrix, HTML report."""
    from mlyard.sdk.model import Model

    ws = workspace(ctx)
    result = Model(model_name, workspace=ws).evaluate(
        data, label_column=label_column, text_column=text_column, output_dir=output,
        threshold=threshold, positive_label=positive_label, skip_bad_rows=skip_bad_rows)
    if as_json:
        click.echo(json.dumps(result.to_evaluation_json(), indent=2))
    else:
        click.echo(result.summary_table())
    report = result.artifacts.get("report.html")
    if report is not None:
        click.echo(f"report: {report}", err=True)


@click.command()
@click.option("--model", "model_name", required=True, help="A registered model name.")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True),
              help="A file or folder of records (CSV, JSON Lines or text).")
@click.option("--output", help="Output folder, or a .jsonl/.csv file for a single input file "
              "(default: the job's artifacts).")
@click.option("--content-type", type=click.Choice(TRANSFORM_INPUT_TYPES, case_sensitive=False),
              help="Input format (default: from the file suffix).")
@click.option("--accept", type=click.Choice(TRANSFORM_OUTPUT_TYPES, case_sensitive=False),
              default=TRANSFORM_OUTPUT_TYPES[0], show_default=True, help="Output format.")
@click.option("--join-source", type=click.Choice(["None", "Input"], case_sensitive=False),
              default="None",
              show_default=True, help="Input: write each input record with its prediction.")
@click.option("--batch-size", default=256, show_default=True, help="Records per mini-batch.")
@click.option("--workers", default=1, show_default=True, help="Parallel worker processes.")
@click.option("--top-k", default=1, show_default=True, help="Labels per prediction.")
@click.option("--text-field", help="CSV column or JSON key holding the model input.")
@click.option("--skip-bad-rows", is_flag=True,
              help="Leave out (and count) records that are not UTF-8, CSV rows with the wrong "
              "number of fields and malformed JSON lines, instead of refusing the file.")
@click.option("--name", help="Job name.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Wait for the job and stream its log.")
@click.option("--quiet", is_flag=True, help="Do not stream the job's log while waiting.")
@click.pass_context
def transform(ctx: click.Context, model_name: str, input_path: str, output: str | None,
              content_type: str | None, accept: str, join_source: str, batch_size: int,
              workers: int, top_k: int, text_field: str | None, skip_bad_rows: bool,
              name: str | None, wait: bool, quiet: bool) -> None:
    """Start a batch transform job: run a model over a file or folder."""
    try:
        options = TransformOptions.model_validate({
            "content_type": content_type, "accept": accept, "join_source": join_source,
            "batch_size": batch_size, "workers": workers, "top_k": top_k,
            "text_field": text_field, "skip_bad_rows": skip_bad_rows,
        })
        spec = TransformJobSpec(model_name=model_name, input=input_path, output=output,
                                options=options)
    except ValueError as exc:
        raise ValidationError(f"invalid transform job: {problem_text(exc)}") from None
    ws = workspace(ctx)
    job_name = name or unique_job_name(f"{model_name}-transform")
    submit_job(ws, spec, job_name)
    _finish(ws, job_name, wait, quiet)
    if wait:
        click.echo(f"output: {ws.store.get_job(job_name).outputs.get('output')}")


@click.command()
@click.option("--data", type=click.Path(dir_okay=False),
              help="The reviews CSV (default: MLYARD_REVIEWS_CSV or "
                   "../shared/data/womens_clothing_ecommerce_reviews.csv).")
@click.option("--epochs", default=10, show_default=True, help="BlazingText epochs.")
@click.option("--output", type=click.Path(file_okay=False),
              help="Where the demo writes its split files (default: <home>/demo).")
@click.option("--ab", is_flag=True,
              help="Also train a unigram model and A/B-test both on a real-time endpoint, "
                   "then shift all traffic to the winner.")
@click.pass_context
def demo(ctx: click.Context, data: str | None, epochs: int, output: str | None,
         ab: bool) -> None:
    """Run the reviews demo end to end: SQL, transform, split, train, evaluate, transform."""
    from mlyard.demo import run_demo

    ws = workspace(ctx)
    run_demo(ws, data=Path(data) if data else None, epochs=epochs,
             output=Path(output) if output else None, echo=click.echo, ab=ab)
