"""Option groups that several commands share, and ``--spec FILE``.

:func:`training_options` declares every option that shapes a training job once; ``mlyard
train`` and ``mlyard tune`` both take it (a tuning job's trials are training jobs), and
:func:`training_spec` turns the options' values into a
:class:`~mlyard.training.spec.TrainingJobSpec`. :func:`spec_option` adds ``--spec FILE``: a
YAML or JSON file holding the whole spec, in mlyard's snake_case names or SageMaker's
PascalCase ones (:class:`mlyard.core.specs.Spec`); it cannot be combined with the options
that shape the spec.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from mlyard.core.params import parse_assignments
from mlyard.core.specs import Channel, JobSpec, MetricDefinitionSpec, ResourceConfig
from mlyard.errors import ValidationError, problem_text
from mlyard.training.debugger import DebuggerConfig, RuleConfig
from mlyard.training.profiler import ProfilerConfig
from mlyard.training.spec import CheckpointConfig, DistributionConfig, SpotConfig, TrainingJobSpec

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=JobSpec)

#: Largest spec file read (a spec is a few kilobytes; this bounds a hostile file).
MAX_SPEC_BYTES = 1 << 20


def _options(decorators: Iterable[Callable[[F], F]]) -> Callable[[F], F]:
    items = list(decorators)

    def apply(f: F) -> F:
        for decorate in reversed(items):
            f = decorate(f)
        return f
    return apply


def training_options(*, default_threads: int = 0) -> Callable[[F], F]:
    """Every option of a training job (``default_threads``: the ``--threads`` default)."""
    return _options([
        click.option("--algorithm", help="Built-in algorithm (see `mlyard algorithms list`)."),
        click.option("--entry-point", help="Your training script (SageMaker script mode)."),
        click.option("--source-dir", type=click.Path(exists=True, file_okay=False),
                     help="Folder holding the script."),
        click.option("--train", "train_path", help="The train channel (file or folder)."),
        click.option("--validation", help="The validation channel (file or folder)."),
        click.option("--channel", multiple=True, metavar="NAME=PATH", help="More channels."),
        click.option("--hp", multiple=True, metavar="NAME=VALUE",
                     help="A (static) hyperparameter."),
        click.option("--metric-definition", "metric", multiple=True, metavar="NAME=REGEX",
                     help="A metric parsed from log lines (first group is the value; "
                     "SageMaker's MetricDefinitions)."),
        click.option("--metric", "metric_alias", multiple=True, metavar="NAME=REGEX",
                     hidden=True, help="Old name of --metric-definition."),
        click.option("--threads", default=default_threads, show_default=True,
                     help="CPU threads (0: all cores)."),
        click.option("--device", type=click.Choice(["auto", "cpu", "cuda"],
                                                   case_sensitive=False),
                     default="auto", show_default=True,
                     help="Where to train (auto: a GPU when there is one)."),
        click.option("--max-run", type=int, help="Stop the job after this many seconds."),
        click.option("--seed", default=0, show_default=True,
                     help="Random seed (data order, initialisation)."),
        click.option("--command", "command_line", metavar="'CMD ARGS'",
                     help="Run this command (any program) instead of an algorithm or script."),
        click.option("--python", "python_exe",
                     help="Python interpreter of your own environment."),
        click.option("--image", help="Run the script or command in this container image "
                     "(Docker or Podman)."),
        click.option("--env", "env_vars", multiple=True, metavar="NAME=VALUE",
                     help="An environment variable for the training process."),
        click.option("--instance-count", default=1, show_default=True,
                     help="Hosts (simulated locally as algo-1, algo-2, ...)."),
        click.option("--processes-per-host", default=1, show_default=True,
                     help="Data-parallel processes per host."),
        click.option("--distribution", type=click.Choice(["ddp", "fsdp"],
                                                         case_sensitive=False), default=None,
                     help="Data-parallel strategy (default ddp when more than one process)."),
        click.option("--checkpoint-uri", help="Checkpoint location (folder or artifact URI); "
                     "a job pointed at existing checkpoints resumes from the newest."),
        click.option("--checkpoint-every", type=int, default=None, metavar="STEPS",
                     help="Checkpoint every this many steps (default 500)."),
        click.option("--checkpoint-on-invalid",
                     type=click.Choice(["fail", "restart"], case_sensitive=False),
                     default="fail", show_default=True,
                     help="What a corrupt or foreign checkpoint does."),
        click.option("--use-spot", is_flag=True, help="Managed spot training (simulated "
                     "reclaims)."),
        click.option("--max-wait", type=int, help="Seconds a spot job may take, waits "
                     "included."),
        click.option("--spot-interrupt-at", type=float, multiple=True, metavar="SECONDS",
                     help="Reclaim the n-th attempt this many seconds after it starts."),
        click.option("--spot-interrupt-after-checkpoints", type=int, multiple=True,
                     metavar="N", help="Reclaim the n-th attempt right after it wrote N "
                     "checkpoints."),
        click.option("--spot-random-per-hour", type=float, default=0.0,
                     help="Random reclaims per hour of training."),
        click.option("--spot-restart-delay", type=float, default=2.0, show_default=True,
                     help="Seconds to wait for capacity after a reclaim."),
        click.option("--rule", "rules", multiple=True, metavar="NAME[:stop]",
                     help="A Debugger rule (e.g. ExplodingTensor:stop stops the job when it "
                     "fires)."),
        click.option("--debug-interval", type=int, default=100, show_default=True,
                     help="Steps between Debugger tensor saves."),
        click.option("--profile", is_flag=True,
                     help="Profile the job and write a profiler report."),
        click.option("--profile-interval-ms", type=int, default=500, show_default=True,
                     help="Milliseconds between the profiler's system samples."),
        click.option("--skip-bad-rows", is_flag=True,
                     help="Skip (and count) data rows that are not UTF-8 or have the wrong "
                     "number of fields, instead of refusing the data (built-in algorithms)."),
    ])


#: The parameter names :func:`training_options` adds (click's keyword arguments).
TRAINING_PARAMS = (
    "algorithm", "entry_point", "source_dir", "train_path", "validation", "channel", "hp",
    "metric", "metric_alias", "threads", "device", "max_run", "seed", "command_line",
    "python_exe", "image",
    "env_vars", "instance_count", "processes_per_host", "distribution", "checkpoint_uri",
    "checkpoint_every", "checkpoint_on_invalid", "use_spot", "max_wait", "spot_interrupt_at",
    "spot_interrupt_after_checkpoints", "spot_random_per_hour", "spot_restart_delay", "rules",
    "debug_interval", "profile", "profile_interval_ms", "skip_bad_rows",
)


def training_spec(o: Mapping[str, Any]) -> TrainingJobSpec:
    """The training job spec from :func:`training_options`' values (a ValidationError
    naming the problem)."""
    channels = dict(parse_assignments(o["channel"]))
    if o["train_path"]:
        channels["train"] = o["train_path"]
    if o["validation"]:
        channels["validation"] = o["validation"]
    try:
        checkpoint = None
        if o["checkpoint_uri"] or o["checkpoint_every"] is not None or o["use_spot"]:
            checkpoint = CheckpointConfig(uri=o["checkpoint_uri"],
                                          every_steps=o["checkpoint_every"] or 500,
                                          on_invalid=o["checkpoint_on_invalid"])
        dist = None
        if o["distribution"] or o["processes_per_host"] > 1:
            dist = DistributionConfig(strategy=o["distribution"] or "ddp",
                                      processes_per_host=o["processes_per_host"])
        spot = SpotConfig(
            interrupt_at_seconds=list(o["spot_interrupt_at"]),
            interrupt_after_checkpoints=list(o["spot_interrupt_after_checkpoints"]),
            random_per_hour=o["spot_random_per_hour"],
            restart_delay_seconds=o["spot_restart_delay"]) if o["use_spot"] else SpotConfig()
        debugger = None
        if o["rules"]:
            debugger = DebuggerConfig(save_interval=o["debug_interval"], rules=[
                RuleConfig(name=r.split(":")[0],
                           actions=["StopTraining"] if r.endswith(":stop") else [])
                for r in o["rules"]])
        command = o["command_line"]
        return TrainingJobSpec(
            algorithm=o["algorithm"], entry_point=o["entry_point"], source_dir=o["source_dir"],
            command=shlex.split(command) if command is not None else None,
            python=o["python_exe"], image=o["image"],
            environment=parse_assignments(o["env_vars"]),
            hyperparameters=parse_assignments(o["hp"]),
            channels=[Channel(name=k, uri=v) for k, v in channels.items()],
            metric_definitions=[MetricDefinitionSpec(name=k, regex=v)
                                for k, v in parse_assignments(
                                    (*o["metric"], *o.get("metric_alias", ()))).items()],
            resources=ResourceConfig(num_threads=o["threads"], device=o["device"],
                                     instance_count=o["instance_count"]),
            max_runtime_seconds=o["max_run"], seed=o["seed"], checkpoint=checkpoint,
            distribution=dist, use_spot=o["use_spot"], max_wait_seconds=o["max_wait"],
            spot=spot, debugger=debugger,
            profiler=ProfilerConfig(system_interval_ms=o["profile_interval_ms"])
            if o["profile"] else None,
            skip_bad_rows=o["skip_bad_rows"],
        )
    except ValueError as exc:
        raise ValidationError(f"invalid job: {problem_text(exc)}") from None


def spec_option(f: F) -> F:
    """``--spec FILE``: the whole job spec from a YAML or JSON file."""
    return click.option(
        "--spec", "spec_file", type=click.Path(exists=True, dir_okay=False),
        help="Read the job spec from this YAML or JSON file (snake_case or SageMaker's "
        "PascalCase names) instead of the options that shape it.")(f)


def given_on_command_line(ctx: click.Context, names: Iterable[str]) -> list[str]:
    """Which of the parameters ``names`` the user gave (not left at their defaults), as
    they are spelled on the command line."""
    given = []
    for param in ctx.command.params:
        if param.name in names and ctx.get_parameter_source(param.name) not in (
                ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP, None):
            given.append(param.opts[0] if param.opts else param.name)
    return given


def refuse_with_spec(ctx: click.Context, names: Iterable[str]) -> None:
    """A usage error when ``--spec`` is combined with options that shape the spec."""
    clash = given_on_command_line(ctx, names)
    if clash:
        raise click.UsageError(f"--spec gives the whole job spec; drop {', '.join(clash)} "
                               "(or drop --spec)")


def load_spec(path: str | Path, spec_type: type[S]) -> S:
    """The spec of type ``spec_type`` in the YAML or JSON file ``path`` (``kind`` may be
    left out). YAML is read with ``safe_load``: plain data only, no object construction."""
    import yaml

    file = Path(path)
    raw = file.read_bytes()
    if len(raw) > MAX_SPEC_BYTES:
        raise ValidationError(f"spec file {file}: {len(raw)} bytes; a spec file holds at most "
                              f"{MAX_SPEC_BYTES}")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"spec file {file}: not YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"spec file {file}: the spec must be a mapping of field names, "
                              f"not {type(data).__name__}")
    kind = spec_type.model_fields["kind"].default
    if "kind" not in data and "Kind" not in data:
        data["kind"] = kind
    try:
        return spec_type.model_validate(data)
    except ValueError as exc:
        raise ValidationError(
            f"spec file {file}: invalid {kind} job spec: {problem_text(exc)}") from None
