"""The algorithm plug-in interface.

A built-in algorithm is an :class:`Algorithm` subclass that declares its hyperparameters
(:data:`Algorithm.HYPERPARAMETERS`) and metrics (:data:`Algorithm.METRICS`) once, trains in
:meth:`Algorithm.train` given a :class:`TrainingContext`, and loads its saved model with
:meth:`Algorithm.load`. ``mlyard.testing.algorithms`` holds the conformance checks every
algorithm must pass.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mlyard.core.params import Hyperparameter, resolve_hyperparameters
from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel


@dataclass(frozen=True)
class MetricDefinition:
    """A metric a job emits: its name, the regex that finds it in log lines (first group is
    the value, as SageMaker's metric definitions), and whether larger is better."""

    name: str
    regex: str
    maximize: bool = True


def _no_stop() -> bool:
    return False


def _print_log(message: str) -> None:
    print(message, flush=True)


def _drop_metric(name: str, value: float, step: int | None) -> None:
    return None


@dataclass
class TrainingContext:
    """Everything a training run may touch.

    ``channels`` maps channel names (``train``, ``validation``, ...) to local paths (a file
    or a folder). The algorithm writes its model, manifest included, into ``model_dir`` and
    other outputs into ``output_dir``. ``report_metric`` records a metric point;
    ``should_stop`` turns true when the job was asked to stop. Checkpoints, Debugger hooks
    and the Profiler reach the algorithm through the same environment a script gets
    (``SM_CHECKPOINT_DIR``, ``MLYARD_DEBUGGER_CONFIG``, ``MLYARD_PROFILER_CONFIG``), and
    distributed training through torchrun's variables (``RANK``, ``WORLD_SIZE``, ...).
    """

    channels: dict[str, Path]
    model_dir: Path
    output_dir: Path
    num_threads: int = 1
    device: str = "auto"
    seed: int = 0
    log: Callable[[str], None] = field(default=_print_log)
    report_metric: Callable[[str, float, int | None], None] = field(default=_drop_metric)
    should_stop: Callable[[], bool] = field(default=_no_stop)
    #: Skip (and count) bad rows of the channels instead of refusing the data
    #: (:mod:`mlyard.models.datafiles`).
    skip_bad_rows: bool = False


SUMMARY_FILE = "training_summary.json"


def write_training_summary(ctx: TrainingContext, summary: dict[str, Any]) -> Path:
    """Write ``training_summary.json`` (train seconds, throughput, final metrics, ...) into
    the job's output folder, where the demo and the benches read it."""
    out = Path(ctx.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / SUMMARY_FILE
    path.write_text(json.dumps(summary, indent=2))
    return path


class Algorithm(ABC):
    """Base class of built-in algorithms. Subclasses are stateless; one instance per name."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    HYPERPARAMETERS: ClassVar[tuple[Hyperparameter, ...]] = ()
    METRICS: ClassVar[tuple[MetricDefinition, ...]] = ()
    REQUIRED_CHANNELS: ClassVar[tuple[str, ...]] = ("train",)
    OPTIONAL_CHANNELS: ClassVar[tuple[str, ...]] = ("validation",)
    #: Whether :meth:`train` can run as several data-parallel processes (it then joins the
    #: process group itself, see :mod:`mlyard.training.distributed`).
    SUPPORTS_DISTRIBUTED: ClassVar[bool] = False
    #: Modules a warm standby process imports before it takes a training job of this
    #: algorithm (besides the algorithm's own module): heavy imports, and modules whose
    #: import warms compiled kernels, so a tuning trial does not pay for them.
    PRELOAD: ClassVar[tuple[str, ...]] = ()

    def resolve_hyperparameters(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given`` (strings allowed), each checked against its range.
        Subclasses may add cross-parameter checks."""
        return resolve_hyperparameters(self.HYPERPARAMETERS, given, f"algorithm {self.name!r}")

    def check_channels(self, channels: Mapping[str, Any]) -> None:
        """Raise :class:`ValidationError` for missing required or unknown channels."""
        missing = [c for c in self.REQUIRED_CHANNELS if c not in channels]
        if missing:
            raise ValidationError(f"algorithm {self.name!r} needs channel(s): {', '.join(missing)}")
        allowed = set(self.REQUIRED_CHANNELS) | set(self.OPTIONAL_CHANNELS)
        unknown = sorted(set(channels) - allowed)
        if unknown:
            raise ValidationError(
                f"algorithm {self.name!r} has no channel(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(allowed))}"
            )

    def metric(self, name: str) -> MetricDefinition:
        """The declared metric called ``name``."""
        for m in self.METRICS:
            if m.name == name:
                return m
        raise ValidationError(f"algorithm {self.name!r} emits no metric {name!r}")

    @abstractmethod
    def train(self, ctx: TrainingContext, hyperparameters: dict[str, Any]) -> None:
        """Train with already-resolved ``hyperparameters`` and save into ``ctx.model_dir``
        (the model files and the manifest, see :func:`mlyard.models.write_manifest`)."""

    @classmethod
    @abstractmethod
    def load(cls, model_dir: Path) -> LoadedModel:
        """Load a model this algorithm saved."""
