"""``mlyard sql`` and ``mlyard tables``."""

from __future__ import annotations

import json

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import fmt_time, table
from mlyard.data.catalog import Catalog


@click.command("sql")
@click.argument("query")
@click.option("--database", default="default", show_default=True, help="Current database.")
@click.option("--save", is_flag=True, help="Store the result as a query output (CSV+Parquet).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
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
@click.option("--database", default="default", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "jsonl"]),
              help="File format (default: from the file suffix).")
@click.option("--replace", is_flag=True, help="Replace an existing table of that name.")
@click.option("--description", default="", help="Free text shown in listings.")
@click.pass_context
def tables_register(ctx: click.Context, name: str, location: str, database: str,
                    fmt: str | None, replace: bool, description: str) -> None:
    """Register the file or folder LOCATION as table NAME."""
    rec = Catalog(workspace(ctx)).register_table(name, location, database=database, format=fmt,
                                                 replace=replace, description=description)
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
@click.option("--database", default="default", show_default=True)
@click.pass_context
def tables_drop(ctx: click.Context, name: str, database: str) -> None:
    """Unregister table NAME (its files are kept)."""
    Catalog(workspace(ctx)).drop_table(name, database)
    click.echo(f"dropped {database}.{name}")
