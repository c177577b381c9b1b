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
from typing import Any, NoReturn

import click

from mlyard.cli.commands_analysis import COMMANDS as ANALYSIS_COMMANDS
from mlyard.cli.commands_data import sql_cmd, tables, tokenize_cmd
from mlyard.cli.commands_endpoints import endpoints, server
from mlyard.cli.commands_experiments import COMMANDS as EXPERIMENT_COMMANDS
from mlyard.cli.commands_jobs import job, jobs, process, train
from mlyard.cli.commands_lineage import COMMANDS as LINEAGE_COMMANDS
from mlyard.cli.commands_models import algorithms, demo, evaluate, models, transform
from mlyard.cli.commands_pipelines import COMMANDS as PIPELINE_COMMANDS
from mlyard.cli.commands_registry import COMMANDS as REGISTRY_COMMANDS
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
                *ANALYSIS_COMMANDS, *PIPELINE_COMMANDS, *REGISTRY_COMMANDS, *LINEAGE_COMMANDS,
                *EXPERIMENT_COMMANDS):
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
    except Exception as exc:
        exit_for(exc)


def exit_for(exc: Exception) -> NoReturn:
    """Print ``exc`` for a user and exit with its code: 1 for a failed job, a timeout or an
    OS error, 2 for an mlyard or validation error, 1 with the traceback in a file for
    anything unexpected (:func:`_unexpected`)."""
    if isinstance(exc, JobFailedError | TimeoutError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if isinstance(exc, MlyardError):
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if isinstance(exc, ValueError) and callable(getattr(exc, "errors", None)):
        click.echo(f"error: {problem_text(exc)}", err=True)  # a pydantic ValidationError
        sys.exit(2)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"error: {exc.strerror or problem_text(exc)}{where}", err=True)
        sys.exit(1)
    _unexpected(exc)


def _unexpected(exc: BaseException) -> NoReturn:
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
