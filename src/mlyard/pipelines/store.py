"""The pipelines' store domain: pipelines (name, SageMaker definition JSON, version), their
executions (status, bound parameters, the driver job running it) and the executions' steps
(status, attempt, job, cache hit, resolved properties).

Everything a pipeline driver knows is here, so a driver that dies can be started again and
go on from the stored steps (:mod:`mlyard.pipelines.driver`). Status changes of executions
and steps are compare-and-set (``expected`` statuses), so a stop request and a driver never
overwrite each other. Reach it with ``PipelineStore.of(ws.store)``; the SQL implementation
is :class:`mlyard.pipelines.store_sql.SqlPipelineStore` (store domain ``pipelines``).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mlyard.core.stores.domain import StoreDomain

#: SageMaker's pipeline execution statuses; the last three are terminal.
EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded")
EXECUTION_TERMINAL = frozenset({"Stopped", "Failed", "Succeeded"})
#: SageMaker's step statuses; the last three are terminal.
STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
STEP_TERMINAL = frozenset({"Stopped", "Failed", "Succeeded"})


@dataclass(frozen=True)
class PipelineRecord:
    """A pipeline: its definition JSON; ``version`` goes up with each upsert that changes
    the definition."""

    name: str
    definition: dict[str, Any]
    created_at: float
    updated_at: float
    description: str | None = None
    version: int = 1


@dataclass(frozen=True)
class PipelineExecutionRecord:
    """One run of a pipeline (``execution_id`` is job-name safe)."""

    execution_id: str
    pipeline: str
    pipeline_version: int
    status: str
    parameters: dict[str, Any]
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    driver_job: str | None = None
    display_name: str | None = None


@dataclass(frozen=True)
class StepExecutionRecord:
    """One step of an execution: its status, attempt, the job behind it, the execution
    whose result it reused (cache hit), its resolved properties and its metadata."""

    execution_id: str
    step_name: str
    step_type: str
    status: str
    attempt: int = 1
    job_name: str | None = None
    cache_hit_source: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    failure_reason: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class PipelineStore(StoreDomain):
    """Pipelines, executions and steps."""

    # -- pipelines -----------------------------------------------------------------------
    @abstractmethod
    def put_pipeline(self, name: str, definition: dict[str, Any],
                     description: str | None = None) -> PipelineRecord:
        """Create pipeline ``name`` or update it; the version goes up when the definition
        changed (a description-only change keeps it)."""

    @abstractmethod
    def get_pipeline(self, name: str) -> PipelineRecord:
        """Pipeline ``name``; NotFoundError if none."""

    @abstractmethod
    def list_pipelines(self, limit: int = 100) -> list[PipelineRecord]:
        """Pipelines by name."""

    @abstractmethod
    def delete_pipeline(self, name: str) -> None:
        """Remove a pipeline with its executions and steps; NotFoundError if none,
        ConflictError while one of its executions is Executing or Stopping."""

    # -- executions ----------------------------------------------------------------------
    @abstractmethod
    def create_execution(self, record: PipelineExecutionRecord,
                         definition: dict[str, Any]) -> PipelineExecutionRecord:
        """Record an execution with the definition it runs (a snapshot: later upserts
        do not change it); NotFoundError if the pipeline does not exist, ConflictError if
        the id is taken."""

    @abstractmethod
    def get_execution(self, execution_id: str) -> PipelineExecutionRecord:
        """Execution ``execution_id``; NotFoundError if none."""

    @abstractmethod
    def get_execution_definition(self, execution_id: str) -> dict[str, Any]:
        """The definition JSON execution ``execution_id`` runs; NotFoundError if none."""

    @abstractmethod
    def list_executions(self, pipeline: str | None = None,
                        limit: int = 100) -> list[PipelineExecutionRecord]:
        """Executions, newest first, optionally of one pipeline."""

    @abstractmethod
    def transition_execution(self, execution_id: str, to: str, *, expected: Iterable[str],
                             failure_reason: str | None = None,
                             driver_job: str | None = None) -> bool:
        """Compare-and-set the status (True if it was one of ``expected``). A terminal
        status sets ``ended_at``, ``Executing`` clears it and the failure reason; a
        ``driver_job`` given is stored too. NotFoundError if the execution is unknown."""

    # -- steps ---------------------------------------------------------------------------
    @abstractmethod
    def put_step(self, record: StepExecutionRecord,
                 cache_key: str | None = None) -> StepExecutionRecord:
        """Create or replace the row of ``record``'s step (one row per execution and step
        name; a retry replaces it with the next attempt); NotFoundError if the execution
        is unknown."""

    @abstractmethod
    def get_step(self, execution_id: str, step_name: str) -> StepExecutionRecord:
        """One step; NotFoundError if none."""

    @abstractmethod
    def list_steps(self, execution_id: str) -> list[StepExecutionRecord]:
        """The steps of an execution in the order they were first recorded."""

    @abstractmethod
    def transition_step(self, execution_id: str, step_name: str, to: str, *,
                        expected: Iterable[str], failure_reason: str | None = None,
                        properties: dict[str, Any] | None = None,
                        metadata: dict[str, Any] | None = None) -> bool:
        """Compare-and-set a step's status (True if it was one of ``expected``); a terminal
        status sets ``ended_at``; ``properties``/``metadata`` given replace the stored
        ones. NotFoundError if the step is unknown."""

    @abstractmethod
    def find_cached_step(self, cache_key: str,
                         not_before: float) -> StepExecutionRecord | None:
        """The newest Succeeded step stored with ``cache_key`` that ended at or after
        ``not_before``, or None."""
