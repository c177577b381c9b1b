"""Experiments in the SDK: the MLflow-like tracking functions (``start_run``,
``log_param(s)``, ``log_metric(s)``, ``log_artifact``, ``end_run``) and handles to read
experiments and runs (``Experiment``, ``Run``, ``compare``), all over the default
workspace unless one is passed.

    import mlyard
    with mlyard.start_run(experiment="reviews"):
        mlyard.log_param("lr", 0.1)
        mlyard.log_metric("loss", 0.3, step=1)
    mlyard.sdk.experiments.Experiment("reviews").runs()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlyard.core.workspace import Workspace, default_workspace
from mlyard.experiments.collect import sync
from mlyard.experiments.compare import compare as _compare
from mlyard.experiments.compare import compare_html
from mlyard.experiments.store import ExperimentStore, RunRecord
from mlyard.experiments.tracking import (
    ActiveRun,
    active_run,
    end_run,
    log_artifact,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    start_run,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ActiveRun", "Experiment", "Run", "active_run", "compare", "compare_html",
           "end_run", "list_experiments", "log_artifact", "log_metric", "log_metrics",
           "log_param", "log_params", "start_run"]


def _store(ws: Workspace | None, refresh: bool = True) -> tuple[Workspace, ExperimentStore]:
    workspace = ws or default_workspace()
    if refresh:
        sync(workspace)
    return workspace, ExperimentStore.of(workspace.store)


class Run:
    """A run of an experiment (read side)."""

    def __init__(self, experiment: str, name: str, ws: Workspace | None = None) -> None:
        self.experiment, self.name = experiment, name
        self.ws = ws or default_workspace()

    @property
    def store(self) -> ExperimentStore:
        """The experiments store."""
        return ExperimentStore.of(self.ws.store)

    @property
    def record(self) -> RunRecord:
        """The run as stored (NotFoundError if it is not)."""
        return self.store.get_run(self.experiment, self.name)

    @property
    def params(self) -> dict[str, Any]:
        """Its parameters."""
        return self.store.get_params(self.experiment, self.name)

    @property
    def artifacts(self) -> dict[str, str]:
        """Its artifacts by name."""
        return self.store.get_artifacts(self.experiment, self.name)

    def metrics(self, key: str | None = None) -> pd.DataFrame:
        """Its metric series: columns key, value, step, timestamp."""
        import pandas as pd

        points = self.store.get_metrics(self.experiment, self.name, key)
        return pd.DataFrame([(p.key, p.value, p.step, p.timestamp) for p in points],
                            columns=["key", "value", "step", "timestamp"])

    def __repr__(self) -> str:
        return f"Run({self.experiment!r}, {self.name!r})"


class Experiment:
    """An experiment (read side): its runs."""

    def __init__(self, name: str, ws: Workspace | None = None) -> None:
        self.name = name
        self.ws = ws or default_workspace()

    def runs(self) -> list[Run]:
        """Its runs, oldest first (synced from jobs and pipelines first)."""
        _, store = _store(self.ws)
        return [Run(r.experiment, r.name, self.ws) for r in store.list_runs(self.name)]

    def __repr__(self) -> str:
        return f"Experiment({self.name!r})"


def list_experiments(ws: Workspace | None = None) -> list[Experiment]:
    """Every experiment (synced first)."""
    workspace, store = _store(ws)
    return [Experiment(e.name, workspace) for e in store.list_experiments()]


def compare(*runs: str | Run, ws: Workspace | None = None) -> pd.DataFrame:
    """Runs side by side (``experiment/run`` names, run names or :class:`Run` handles)."""
    refs: Sequence[str] = [f"{r.experiment}/{r.name}" if isinstance(r, Run) else r
                           for r in runs]
    return _compare(ws or default_workspace(), refs)
