"""The whole command tree follows the same surface rules: help on every option, ``--json``
on every list and describe command, choices accepted in any case, ``--metric`` naming one
metric (never a NAME=REGEX definition), SageMaker's "instance count" for replicas."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from mlyard.cli.main import cli


def _commands(
    group: click.Group = cli, path: str = "mlyard"
) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        full = f"{path} {name}"
        yield full, command
        if isinstance(command, click.Group):
            yield from _commands(command, full)


def _options(command: click.Command) -> Iterator[click.Option]:
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            yield param


COMMANDS = dict(_commands())


def test_the_tree_is_walked() -> None:
    assert {
        "mlyard train",
        "mlyard jobs list",
        "mlyard endpoints update-weights",
        "mlyard tuning describe",
        "mlyard tables list",
    } <= set(COMMANDS)


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {option.opts[0]}"
        for path, command in COMMANDS.items()
        for option in _options(command)
        if not (option.help or "").strip()
    ]
    assert missing == []


def test_every_command_has_help() -> None:
    assert [path for path, command in COMMANDS.items() if not (command.help or "").strip()] == []


def test_every_list_and_describe_command_takes_json() -> None:
    lacking = [
        path
        for path, command in COMMANDS.items()
        if path.rsplit(" ", 1)[-1] in ("list", "describe")
        and "--json" not in {o for option in _options(command) for o in option.opts}
    ]
    assert lacking == []


def test_every_choice_is_accepted_in_any_case() -> None:
    strict = [
        f"{path} {option.opts[0]}"
        for path, command in COMMANDS.items()
        for option in _options(command)
        if isinstance(option.type, click.Choice) and option.type.case_sensitive
    ]
    assert strict == []


def test_metric_always_names_one_metric() -> None:
    definitions = [
        f"{path} {option.opts[0]}"
        for path, command in COMMANDS.items()
        for option in _options(command)
        if "--metric" in option.opts and "=" in (option.metavar or "")
    ]
    assert definitions == []


def test_replicas_are_called_instances_in_visible_options() -> None:
    visible = [
        f"{path} {o}"
        for path, command in COMMANDS.items()
        for option in _options(command)
        for o in option.opts
        if "replica" in o
    ]
    assert visible == []


@pytest.mark.parametrize(
    "args, value",
    [
        (["tune", "--strategy", "hyperband"], "Hyperband"),
        (["tune", "--early-stopping", "auto"], "Auto"),
        (["jobs", "list", "--status", "inprogress"], "InProgress"),
        (["transform", "--join-source", "input"], "Input"),
        (["train", "--device", "CPU"], "cpu"),
    ],
)
def test_choices_normalise_to_their_documented_casing(args: list[str], value: str) -> None:
    command = COMMANDS["mlyard " + " ".join(args[:-2])]
    option = next(o for o in _options(command) if args[-2] in o.opts)
    ctx = click.Context(command)
    assert option.type_cast_value(ctx, args[-1]) == value
