"""``mlyard profile``, ``bias``, ``explain``, ``flow``, ``balance`` and ``analyses``: each
analysis runs as an ``analysis`` job (:mod:`mlyard.analysis.kind`), checked before the job
is created (a bad column, value or flow step is an ``error:`` line and exit 2, with no job
left behind); the command waits for it, then prints where the output is and a short summary
table. ``flow export`` runs locally (no job)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from mlyard.analysis.kind import AnalysisJobSpec
from mlyard.analysis.store import AnalysisRecord, AnalysisStore
from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, fmt, fmt_time, json_option, table
from mlyard.cli.waiting import goes_on
from mlyard.core.jobs import submit_job, unique_job_name, wait_for_job
from mlyard.errors import ValidationError, problem_text

#: Most rows of the summary table printed after a job.
MAX_SUMMARY_ROWS = 30


def _location(path: str) -> str:
    """A local path made absolute (the job process has its own working folder); URIs as
    given."""
    return path if "://" in path else str(Path(path).expanduser().resolve())


def _data_input(data: str | None, table_name: str | None) -> str:
    if (data is None) == (table_name is None):
        raise ValidationError("give exactly one of --data PATH or --table NAME")
    return f"table:{table_name}" if table_name is not None else _location(str(data))


def _names(text: str | None, option: str) -> list[str] | None:
    """``a,b,c`` as a list (None when the option was not given)."""
    if text is None:
        return None
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise ValidationError(f"{option}: empty name in {text!r}")
    return items


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> Iterable[tuple[str, Any]]:
    """The summary's scalars as ``(dotted.key, value)`` rows; long lists are counted."""
    if isinstance(value, Mapping) and depth < 3:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)
    elif isinstance(value, list) and (len(value) > 8 or any(
            isinstance(v, (dict, list)) for v in value)):
        yield prefix, f"{len(value)} items"
    else:
        yield prefix, ", ".join(map(fmt, value)) if isinstance(value, list) else value


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """At most :data:`MAX_SUMMARY_ROWS` rows of ``summary`` (a last row counts the rest)."""
    rows = list(_flatten(summary))
    if len(rows) > MAX_SUMMARY_ROWS:
        rest = len(rows) - MAX_SUMMARY_ROWS + 1
        rows = [*rows[: MAX_SUMMARY_ROWS - 1], ("...", f"{rest} more in summary.json")]
    return rows


def given(config: Mapping[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    """``config`` without the options left out (None), so the analyzer's defaults apply;
    the keys in ``keep`` stay even when None (a None that means something)."""
    kept = set(keep)
    return {k: v for k, v in config.items() if v is not None or k in kept}


def run_analysis(ctx: click.Context, analysis: str, config: Mapping[str, Any],
                 inputs: Mapping[str, str], *, output: str | None, name: str | None,
                 wait: bool, quiet: bool, model: str | None = None) -> None:
    """Submit the analysis job, wait for it and print where its output is and its summary."""
    try:
        spec = AnalysisJobSpec(analysis=analysis,
                               config=dict(config),
                               inputs=dict(inputs), model_name=model,
                               output=_location(output) if output else None)
    except ValueError as exc:
        raise ValidationError(f"invalid job: {problem_text(exc)}") from None
    ws = workspace(ctx)
    job_name = name or unique_job_name(analysis)
    submit_job(ws, spec, job_name)
    if not wait:
        click.echo(job_name)
        return
    with goes_on("job", job_name):
        record = wait_for_job(ws, job_name, on_log=None if quiet else click.echo,
                              raise_on_failure=True)
    location = record.outputs.get("output", "")
    local = ws.artifacts.local_path(location) if location else None
    click.echo(f"job {job_name} {record.status.value} in {fmt(record.duration)} s; "
               f"{analysis} output at {local or location}")
    summary = AnalysisStore.of(ws.store).get_analysis(job_name).summary
    if summary:
        click.echo(table([analysis, "value"], summary_rows(summary)))


def _job_options(f: Any) -> Any:
    for decorator in reversed((
            click.option("--name", help="Job name (default: the analysis plus a timestamp)."),
            click.option("--wait/--no-wait", default=True, show_default=True,
                         help="Wait for the job and stream its log."),
            click.option("--quiet", is_flag=True,
                         help="Do not stream the job's log while waiting."))):
        f = decorator(f)
    return f


def _data_options(f: Any) -> Any:
    for decorator in reversed((
            click.option("--data", help="A CSV/TSV, Parquet or JSON Lines file, or a folder "
                         "of them (or an artifact URI)."),
            click.option("--table", "table_name", help="A catalog table (db.name or name)."))):
        f = decorator(f)
    return f


@click.command("profile")
@_data_options
@click.option("--target", help="The target column (label balance, leakage, quick model).")
@click.option("--sample-size", type=click.IntRange(min=0), default=200_000, show_default=True,
              help="Rows profiled (a seeded sample of larger inputs); 0 for all rows.")
@click.option("--seed", default=0, show_default=True, help="Seed of the sample and the model.")
@click.option("--no-quick-model", is_flag=True, help="Skip the cross-validated quick model.")
@click.option("--output", required=True, help="Folder for report.html and profile.json.")
@_job_options
@click.pass_context
def profile_cmd(ctx: click.Context, data: str | None, table_name: str | None,
                target: str | None, sample_size: int, seed: int, no_quick_model: bool,
                output: str, name: str | None, wait: bool, quiet: bool) -> None:
    """Profile a table (the Data Wrangler data insights): column types, missing values,
    distributions, text statistics, duplicates, correlations, target leakage and a quick
    model, as an HTML report and a JSON summary."""
    config = given({"target": target, "sample_size": sample_size or None, "seed": seed,
                    "quick_model": not no_quick_model}, keep=("sample_size",))
    run_analysis(ctx, "profile", config, {"data": _data_input(data, table_name)},
                 output=output, name=name, wait=wait, quiet=quiet)


def _values(values: str | None, threshold: float | None, what: str,
            required: bool) -> list[str | float] | None:
    if values is not None and threshold is not None:
        raise ValidationError(f"give --{what}-values or --{what}-threshold, not both")
    if threshold is not None:
        return [threshold]
    if values is not None:
        return list(_names(values, f"--{what}-values") or [])
    if required:
        raise ValidationError(f"give --{what}-values V,... or --{what}-threshold X")
    return None


@click.command("bias")
@_data_options
@click.option("--label", required=True, help="The label column.")
@click.option("--label-values", help="Label values that are the positive outcome (V,...).")
@click.option("--label-threshold", type=float,
              help="Labels above this threshold are the positive outcome.")
@click.option("--facet", "facets", multiple=True, required=True,
              help="A facet (sensitive) column; repeat for several.")
@click.option("--facet-values", help="Facet values forming the sensitive group (V,...; "
              "default: each value against the rest).")
@click.option("--facet-threshold", type=float,
              help="Facet values above this threshold form the sensitive group.")
@click.option("--group", help="Group column of the conditional metrics (CDDL, CDDPL).")
@click.option("--methods", default="all", show_default=True,
              help="Metrics, pre- and post-training names mixed (CI,DPL,...,DPPL,...) or all.")
@click.option("--model", help="A registered model whose predictions give the post-training "
              "metrics.")
@click.option("--predicted-label", help="A column holding predicted labels (instead of a "
              "model).")
@click.option("--probability-threshold", type=float,
              help="Scores above this are the positive prediction (binary models).")
@click.option("--text-column", help="The single input column of a text model.")
@click.option("--features", help="The model's input columns (A,B; default: all but the "
              "label and predicted label).")
@click.option("--output", required=True, help="Folder for analysis.json and report.html.")
@_job_options
@click.pass_context
def bias_cmd(ctx: click.Context, data: str | None, table_name: str | None, label: str,
             label_values: str | None, label_threshold: float | None, facets: tuple[str, ...],
             facet_values: str | None, facet_threshold: float | None, group: str | None,
             methods: str, model: str | None, predicted_label: str | None,
             probability_threshold: float | None, text_column: str | None,
             features: str | None, output: str, name: str | None, wait: bool,
             quiet: bool) -> None:
    """Bias metrics in SageMaker Clarify's terms: pre-training (CI, DPL, KL, JS, LP, TVD, KS,
    CDDL) on the data, and post-training (DPPL, DI, DCAcc, ...) from a model's predictions
    or a predicted-label column; analysis.json in Clarify's schema and an HTML report."""
    from mlyard.analysis.bias import split_methods

    if model and predicted_label:
        raise ValidationError("give --model or --predicted-label, not both")
    label_set = _values(label_values, label_threshold, "label", required=True)
    facet_set = _values(facet_values, facet_threshold, "facet", required=False)
    if facet_set is not None and len(facets) > 1:
        raise ValidationError("--facet-values/--facet-threshold go with a single --facet")
    pre, post = split_methods(methods, post=bool(model or predicted_label))
    config = {
        "label": label, "label_values_or_threshold": label_set,
        "facets": [{"name": f, "values_or_threshold": facet_set} for f in facets],
        "group_name": group, "pre_training_methods": pre, "post_training_methods": post,
        "predicted_label": predicted_label, "probability_threshold": probability_threshold,
        "features": _names(features, "--features"), "text_column": text_column,
    }
    # None is meaningful for the method lists (no such stage): kept
    run_analysis(ctx, "bias", given(config, keep=("pre_training_methods",
                                                   "post_training_methods")),
                 {"data": _data_input(data, table_name)}, output=output, name=name,
                 wait=wait, quiet=quiet, model=model)


@click.command("explain")
@click.option("--model", required=True, help="The registered model to explain.")
@_data_options
@click.option("--text-column", help="Explain this text column token by token (or sentence).")
@click.option("--granularity", type=click.Choice(["token", "sentence", "paragraph"],
                                                 case_sensitive=False),
              help="Unit of a text explanation (default token).")
@click.option("--language", help="Language of the text (default english).")
@click.option("--features", help="Tabular feature columns (A,B; default: all but --label).")
@click.option("--label", help="The label column, left out of the features.")
@click.option("--num-samples", type=click.IntRange(min=1), help="Kernel SHAP samples per record.")
@click.option("--max-records", type=click.IntRange(min=1),
              help="Explain at most this many records (a seeded sample).")
@click.option("--agg-method", type=click.Choice(["mean_abs", "median", "mean_sq"],
                                                case_sensitive=False),
              help="How local SHAP values make the global ones (default mean_abs).")
@click.option("--seed", type=int, help="Seed of the sampling (default 0).")
@click.option("--output", required=True,
              help="Folder for analysis.json, explanations_shap/out.csv and report.html.")
@_job_options
@click.pass_context
def explain_cmd(ctx: click.Context, model: str, data: str | None, table_name: str | None,
                text_column: str | None, granularity: str | None, language: str | None,
                features: str | None, label: str | None, num_samples: int | None,
                max_records: int | None, agg_method: str | None, seed: int | None,
                output: str, name: str | None, wait: bool, quiet: bool) -> None:
    """SHAP explanations of a model's predictions (Kernel SHAP for tabular features, token
    or sentence explanations for a text column): local values per record, global mean |SHAP|
    and an HTML report."""
    config = {"text_column": text_column, "granularity": granularity, "language": language,
              "features": _names(features, "--features"), "label": label,
              "num_samples": num_samples, "max_records": max_records,
              "agg_method": agg_method, "seed": seed}
    run_analysis(ctx, "explain", given(config), {"data": _data_input(data, table_name)},
                 output=output, name=name, wait=wait, quiet=quiet, model=model)


@click.group("flow")
def flow() -> None:
    """Data-preparation flows (YAML/JSON files of steps): run one as a job or export it as a
    Python script."""


def _pairs(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValidationError(f"--input {item!r}: write NAME=PATH")
        if key.strip() in out:
            raise ValidationError(f"--input {key.strip()!r} is given twice")
        value = value.strip()
        out[key.strip()] = value if value.startswith("table:") else _location(value)
    return out


@flow.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--input", "input_pairs", multiple=True, required=True,
              help="NAME=PATH (or NAME=table:TABLE) for each input the flow declares.")
@click.option("--output", required=True, help="Folder for the flow's outputs.")
@click.option("--format", "output_format",
              type=click.Choice(["csv", "parquet", "jsonl"], case_sensitive=False),
              default="csv", show_default=True, help="File format of the outputs.")
@_job_options
@click.pass_context
def flow_run(ctx: click.Context, file: str, input_pairs: tuple[str, ...], output: str,
             output_format: str, name: str | None, wait: bool, quiet: bool) -> None:
    """Run the flow FILE as a job: one file per flow output, plus flow_summary.json."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError(f"{file}: not a UTF-8 text file") from None
    config = {"flow": text, "source_name": file, "output_format": output_format}
    run_analysis(ctx, "flow", config, _pairs(input_pairs), output=output, name=name,
                 wait=wait, quiet=quiet)


@flow.command("export")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--python", "python_out", required=True, type=click.Path(dir_okay=False),
              help="The script to write.")
def flow_export(file: str, python_out: str) -> None:
    """Write the flow FILE as an equivalent standalone Python script (pandas only)."""
    from mlyard.analysis.flow import export_python, load_flow

    script = export_python(load_flow(Path(file)))
    Path(python_out).write_text(script, encoding="utf-8")
    click.echo(f"wrote {python_out}")


@click.command("balance")
@_data_options
@click.option("--by", required=True, help="Columns whose value combinations are balanced (A,B).")
@click.option("--output", required=True, help="The balanced file (.csv, .parquet or .jsonl).")
@click.option("--seed", default=0, show_default=True, help="Seed of the sampling.")
@click.option("--n-per-group", type=click.IntRange(min=1),
              help="Rows kept per group (default: the smallest group's size).")
@_job_options
@click.pass_context
def balance_cmd(ctx: click.Context, data: str | None, table_name: str | None, by: str,
                output: str, seed: int, n_per_group: int | None, name: str | None,
                wait: bool, quiet: bool) -> None:
    """Down-sample every group (each combination of --by values) to the same size."""
    config = {"by": _names(by, "--by"), "seed": seed, "n_per_group": n_per_group,
              "output_name": Path(output).name}
    run_analysis(ctx, "balance", given(config), {"data": _data_input(data, table_name)},
                 output=output, name=name, wait=wait, quiet=quiet)


@click.group("analyses")
def analyses() -> None:
    """List and describe completed analyses."""


def _record_json(record: AnalysisRecord) -> dict[str, Any]:
    return {"JobName": record.job_name, "AnalysisType": record.analysis,
            "CreationTime": record.created_at, "OutputUri": record.output_uri,
            "Inputs": record.inputs, "ModelName": record.model_name,
            "Summary": record.summary}


@analyses.command("list")
@click.option("--type", "analysis", help="Only analyses of this kind (bias, profile, ...).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="List at most this many analyses, newest first.")
@json_option
@click.pass_context
def analyses_list(ctx: click.Context, analysis: str | None, limit: int, as_json: bool) -> None:
    """List completed analyses, newest first."""
    records = AnalysisStore.of(workspace(ctx).store).list_analyses(analysis, limit=limit)
    if as_json:
        echo_json([_record_json(r) for r in records])
        return
    click.echo(table(["job", "analysis", "created", "output"],
                     [(r.job_name, r.analysis, fmt_time(r.created_at), r.output_uri)
                      for r in records]))


@analyses.command("describe")
@click.argument("name")
@json_option
@click.pass_context
def analyses_describe(ctx: click.Context, name: str, as_json: bool) -> None:
    """An analysis' inputs, output and summary."""
    record = AnalysisStore.of(workspace(ctx).store).get_analysis(name)
    if as_json:
        echo_json(_record_json(record))
        return
    click.echo(table(["field", "value"], [
        ("job", record.job_name), ("analysis", record.analysis),
        ("created", fmt_time(record.created_at)), ("output", record.output_uri),
        ("model", record.model_name),
        *((f"input {k}", v) for k, v in record.inputs.items())]))
    if record.summary:
        click.echo(table([record.analysis, "value"], summary_rows(record.summary)))


#: The commands this module adds to ``mlyard``.
COMMANDS = (profile_cmd, bias_cmd, explain_cmd, flow, balance_cmd, analyses)
