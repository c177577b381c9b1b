"""Entry point and command groups of the ``mlyard`` CLI.

Every command has ``--help``. User errors print ``error: <message>`` and exit 2; a job that
ends Failed or Stopped while the command waits for it exits 1.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from mlyard.cli.commands_data import sql_cmd, tables, tokenize_cmd
from mlyard.cli.commands_endpoints import endpoints, server
from mlyard.cli.commands_jobs import job, jobs, process, train
from mlyard.cli.commands_models import algorithms, demo, evaluate, models, transform
from mlyard.cli.commands_tokens import tokens
from mlyard.cli.commands_tuning import tune, tuning
from mlyard.errors import JobFailedError, MlyardError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mlyard")
@click.option("--home", envvar="MLYARD_HOME", default=None, metavar="PATH",
              help="Workspace folder (default ./.mlyard; env MLYARD_HOME).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """mlyard: data, training, evaluation and batch transform on your own machine."""
    ctx.obj = {"home": home}


for command in (sql_cmd, tables, train, process, jobs, job, models, algorithms, evaluate,
                transform, demo, server, endpoints, tokenize_cmd, tune, tuning, tokens):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI; map mlyard errors to messages and exit codes."""
    try:
        return cli.main(args=argv, prog_name="mlyard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except JobFailedError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except MlyardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except TimeoutError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
