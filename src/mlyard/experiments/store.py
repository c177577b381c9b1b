"""The experiments store domain: experiments -> runs -> logged parameters, metrics (time
series) and artifacts, as MLflow and SageMaker Experiments model them.

Runs come from two places: user code logging through :mod:`mlyard.experiments.tracking`
(``log_param``/``log_metric``), and :func:`mlyard.experiments.collect.sync`, which imports
training jobs, tuning trials and pipeline executions with :meth:`ExperimentStore.import_run`
(idempotent: it replaces the points it imported before and keeps what users logged). Reach
the domain with ``ExperimentStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.experiments.store_sql.SqlExperimentStore` (store domain ``experiments``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.stores.domain import StoreDomain

#: The experiment of runs that name none (MLflow's and SageMaker's default).
DEFAULT_EXPERIMENT = "Default"
#: Run statuses (MLflow's).
RUN_STATUSES = ("Running", "Finished", "Failed", "Killed")


@dataclass(frozen=True)
class ExperimentRecord:
    """An experiment: a named group of runs."""

    name: str
    created_at: float
    description: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run of an experiment. ``source`` says what it records:
    ``{"JobName": ...}``, ``{"TuningJobName": ..., "JobName": ...}``,
    ``{"PipelineExecutionId": ...}`` or ``{}`` for a run user code started."""

    experiment: str
    name: str
    created_at: float
    status: str = "Running"
    ended_at: float | None = None
    source: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunMetric:
    """One logged value of a metric, at an optional step, at a time."""

    key: str
    value: float
    step: int | None
    timestamp: float


@dataclass(frozen=True)
class RunImport:
    """A run derived from another record (a job, an execution) with what it logged."""

    run: RunRecord
    params: dict[str, Any] = field(default_factory=dict)
    metrics: list[RunMetric] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)


class ExperimentStore(StoreDomain):
    """Experiments, runs and what runs logged."""

    @abstractmethod
    def ensure_experiment(self, name: str, description: str | None = None
                          ) -> ExperimentRecord:
        """The experiment ``name``, created if missing (a given description replaces the
        stored one)."""

    @abstractmethod
    def get_experiment(self, name: str) -> ExperimentRecord:
        """The experiment ``name``; NotFoundError if none."""

    @abstractmethod
    def list_experiments(self) -> list[ExperimentRecord]:
        """Every experiment, by name."""

    @abstractmethod
    def ensure_run(self, run: RunRecord) -> RunRecord:
        """The run ``(run.experiment, run.name)``, created (with its experiment) if
        missing; an existing run is returned unchanged."""

    @abstractmethod
    def update_run(self, experiment: str, name: str, *, status: str,
                   ended_at: float | None = None) -> RunRecord:
        """Set a run's status (and end time); NotFoundError if none, ValidationError for
        an unknown status."""

    @abstractmethod
    def get_run(self, experiment: str, name: str) -> RunRecord:
        """One run; NotFoundError naming the experiment and run if none."""

    @abstractmethod
    def list_runs(self, experiment: str) -> list[RunRecord]:
        """The runs of an experiment, oldest first; NotFoundError if no such experiment."""

    @abstractmethod
    def find_runs(self, name: str) -> list[RunRecord]:
        """The runs called ``name`` in any experiment."""

    @abstractmethod
    def log_params(self, experiment: str, run: str, params: Mapping[str, Any]) -> None:
        """Set parameters (JSON values) of an existing run; a key logged again is
        replaced."""

    @abstractmethod
    def log_metrics(self, experiment: str, run: str, points: Sequence[RunMetric]) -> None:
        """Append metric points to an existing run."""

    @abstractmethod
    def log_artifacts(self, experiment: str, run: str, artifacts: Mapping[str, str]) -> None:
        """Record artifacts (name -> URI) of an existing run; a name logged again is
        replaced."""

    @abstractmethod
    def get_params(self, experiment: str, run: str) -> dict[str, Any]:
        """A run's parameters by key."""

    @abstractmethod
    def get_metrics(self, experiment: str, run: str, key: str | None = None
                    ) -> list[RunMetric]:
        """A run's metric points (optionally of one key), in time then step order."""

    @abstractmethod
    def get_artifacts(self, experiment: str, run: str) -> dict[str, str]:
        """A run's artifacts by name."""

    @abstractmethod
    def import_runs(self, imports: Sequence[RunImport]) -> None:
        """Create or update runs derived from other records (jobs, executions), all in one
        transaction: status, end time and source set, params and artifacts upserted, and
        the metric points imported before replaced by the new ones (points users logged
        stay)."""

    def import_run(self, run: RunRecord, params: Mapping[str, Any],
                   metrics: Sequence[RunMetric], artifacts: Mapping[str, str]) -> None:
        """:meth:`import_runs` of one run."""
        self.import_runs([RunImport(run, dict(params), list(metrics), dict(artifacts))])
