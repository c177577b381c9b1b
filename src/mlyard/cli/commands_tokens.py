"""``mlyard tokens ...``: the API tokens a server accepts.

A token is printed once, by ``create``; the workspace keeps only its SHA-256 digest
(:mod:`mlyard.serving.token_store`). Clients send it as ``Authorization: Bearer <token>``;
the CLI and the SDK read it from the ``MLYARD_TOKEN`` environment variable. A server bound
beyond loopback (``mlyard server --host 0.0.0.0``) or run with ``MLYARD_REQUIRE_TOKEN=1``
refuses to start without one and answers 401 to requests without a valid one. The running
server accepts a new token within 0.2 s and refuses a revoked one within a second.
"""

from __future__ import annotations

import json

import click

from mlyard.cli.context import workspace
from mlyard.cli.output import fmt_time, table
from mlyard.serving.token_store import TokenStore, check_token_name, new_token, token_digest


@click.group()
def tokens() -> None:
    """Create, list and revoke the API tokens the server accepts."""


@tokens.command("create")
@click.argument("name")
@click.pass_context
def tokens_create(ctx: click.Context, name: str) -> None:
    """Make a token called NAME and print it (once: only its digest is stored)."""
    check_token_name(name)
    token = new_token()
    TokenStore.of(workspace(ctx).store).create_token(name, token_digest(token))
    click.echo(token)
    click.echo(f"token {name} created; it is not shown again. Clients send it as "
               "'Authorization: Bearer <token>' (CLI and SDK: export MLYARD_TOKEN=<token>).",
               err=True)


@tokens.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def tokens_list(ctx: click.Context, as_json: bool) -> None:
    """List tokens by name (never the tokens themselves)."""
    records = TokenStore.of(workspace(ctx).store).list_tokens()
    if as_json:
        click.echo(json.dumps([{"Name": r.name, "CreationTime": r.created_at}
                               for r in records], indent=2))
        return
    click.echo(table(["name", "created"], [(r.name, fmt_time(r.created_at))
                                           for r in records]))


@tokens.command("revoke")
@click.argument("name")
@click.pass_context
def tokens_revoke(ctx: click.Context, name: str) -> None:
    """Delete the token NAME; a running server refuses it within a second."""
    TokenStore.of(workspace(ctx).store).revoke_token(name)
    click.echo(f"revoked {name}")
