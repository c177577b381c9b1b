"""What Ctrl-C does while a command waits.

A job, a tuning job or an endpoint deployment runs on without the command that started it
(jobs are their own processes, deployments run in the server): Ctrl-C only stops the
waiting. Without this the user saw click's bare ``Aborted!`` and could think the work was
cancelled. :func:`goes_on` turns the interrupt into a message saying what goes on and how to
follow or stop it, and the shell's exit status for SIGINT, 130.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

#: The exit status of a command ended by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT = 130


class Interrupted(click.ClickException):
    """Ctrl-C while waiting: prints its message as is (no ``Error:`` prefix), exits 130."""

    exit_code = INTERRUPTED_EXIT

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.format_message(), err=True, file=file)


def interrupt_message(what: str, name: str) -> str:
    """The message for Ctrl-C while waiting on ``what`` (``job``, ``tuning job`` or
    ``endpoint``) called ``name``."""
    if what == "endpoint":
        return (
            f"interrupted: stopped waiting; endpoint {name}'s change goes on in the "
            f"server. Follow it with `mlyard endpoints describe {name}`."
        )
    group = "tuning" if what == "tuning job" else "jobs"
    follow = f"mlyard tuning describe {name}" if group == "tuning" else f"mlyard jobs wait {name}"
    return (
        f"interrupted: stopped waiting; {what} {name} goes on in the background. "
        f"Follow it with `{follow}`, stop it with `mlyard {group} stop {name}`."
    )


@contextmanager
def goes_on(what: str, name: str) -> Iterator[None]:
    """Turn Ctrl-C inside the block into :class:`Interrupted` naming ``what`` ``name``."""
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(interrupt_message(what, name)) from None
