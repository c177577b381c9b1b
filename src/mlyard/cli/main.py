"""Entry point and command groups of the ``mlyard`` CLI.

Every command has ``--help``. User errors print ``error: <message>`` and exit 2; a job that
ends Failed or Stopped while the command waits for it exits 1.

No traceback of mlyard's own code reaches the terminal: a user error is one ``error:``
line, and an unexpected failure (a bug, a broken disk) is one line saying so, with the
traceback written to a file the line names (``MLYARD_DEBUG=1`` prints it instead).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from typing import Any

import click

from mlyard.cli.commands_analysis import COMMANDS as ANALYSIS_COMMANDS
from mlyard.cli.commands_data import sql_cmd, tables, tokenize_cmd
from mlyard.cli.commands_endpoints import endpoints, server
from mlyard.cli.commands_jobs import job, jobs, process, train
from mlyard.cli.commands_models import algorithms, demo, evaluate, models, transform
from mlyard.cli.commands_tokens import tokens
from mlyard.cli.commands_tuning import tune, tuning
from mlyard.errors import JobFailedError, MlyardError, problem_text


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="mlyard")
@click.option("--home", envvar="MLYARD_HOME", default=None, metavar="PATH",
              help="Workspace folder (default ./.mlyard; env MLYARD_HOME).")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """mlyard: data, training, evaluation and batch transform on your own machine."""
    ctx.obj = {"home": home}


for command in (sql_cmd, tables, train, process, jobs, job, models, algorithms, evaluate,
                transform, demo, server, endpoints, tokenize_cmd, tune, tuning, tokens,
                *ANALYSIS_COMMANDS):
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
    except ValueError as exc:
        if not callable(getattr(exc, "errors", None)):  # not a pydantic ValidationError
            _unexpected(exc)
        click.echo(f"error: {problem_text(exc)}", err=True)
        sys.exit(2)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"error: {exc.strerror or problem_text(exc)}{where}", err=True)
        sys.exit(1)
    except Exception as exc:
        _unexpected(exc)


def _unexpected(exc: BaseException) -> None:
    """An error mlyard did not expect: one line, the traceback in a file (or printed with
    ``MLYARD_DEBUG=1``); exit 1."""
    text = "".join(traceback.format_exception(exc))
    if os.environ.get("MLYARD_DEBUG", "").strip() not in ("", "0"):
        click.echo(text.rstrip(), err=True)
        where = "above"
    else:
        try:
            fd, path = tempfile.mkstemp(prefix="mlyard-error-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = f"in {path}"
        except OSError:
            where = "not saved (set MLYARD_DEBUG=1 to print it)"
    click.echo(f"error: internal error, {type(exc).__name__}: {problem_text(exc)} "
               f"(a bug in mlyard; the details are {where})", err=True)
    sys.exit(1)
