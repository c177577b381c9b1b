"""``mlyard lineage REF``: what an entity (a registry version ``reviews/3``, a job, a
model, ``endpoint:NAME``, a pipeline execution id, a URI) came from (``--upstream``, the
default), what it led to (``--downstream``) or both, as the lineage table, JSON or a
self-contained HTML graph."""

from __future__ import annotations

from pathlib import Path

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import echo_json, json_option, table
from mlyard.lineage.html import render
from mlyard.lineage.query import MAX_DEPTH, TABLE_COLUMNS, lineage


@click.command("lineage")
@click.argument("ref")
@click.option("--upstream", "direction", flag_value="upstream", default=True,
              help="What REF came from (the default).")
@click.option("--downstream", "direction", flag_value="downstream",
              help="What REF led to.")
@click.option("--both", "direction", flag_value="both", help="Upstream and downstream.")
@click.option("--depth", type=click.IntRange(1, MAX_DEPTH), default=10, show_default=True,
              help="Follow at most this many associations away from REF.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write the graph and table as a self-contained HTML page here.")
@json_option
@click.pass_context
def lineage_cmd(ctx: click.Context, ref: str, direction: str, depth: int,
                html_path: str | None, as_json: bool) -> None:
    """Show the lineage of REF: a registry version (group/version), a job, model or
    pipeline execution name, endpoint:NAME, an artifact URI or any entity id
    (job:NAME, model:NAME, artifact:URI, package:GROUP/V, ...)."""
    result = lineage(workspace(ctx), ref, direction, depth)
    if html_path:
        Path(html_path).write_text(render(result), encoding="utf-8")
    if as_json:
        echo_json(result.to_json())
        return
    start = result.start
    click.echo(f"{start.entity_type} {start.source} ({start.lineage_type.value}), "
               f"{direction}:")
    rows = result.rows()
    click.echo(table(list(TABLE_COLUMNS), [[r[c] for c in TABLE_COLUMNS] for r in rows])
               if rows else "nothing found")
    if html_path:
        click.echo(f"graph written to {html_path}")


#: The commands this module adds to ``mlyard``.
COMMANDS = [lineage_cmd]
