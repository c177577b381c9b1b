"""Runs derived from jobs and pipeline executions.

The ``*_runs`` functions are pure (records in, :class:`RunImport` out); :func:`sync` reads
the stores and imports what changed (a run whose stored copy already ended at the same
time is skipped, so syncing is cheap and idempotent):

- a training job -> a run named after the job in experiment ``Default`` (or the job's
  ``MLYARD_EXPERIMENT_NAME`` environment variable): params = its hyperparameters, metrics =
  its metric time series, artifacts = its outputs; tuning trials are left out (below);
- a tuning job -> an experiment named after it, one run per trial (its training job):
  params = the trial's hyperparameters, metrics = the trial job's series;
- a pipeline execution -> a run named after the execution in an experiment named after the
  pipeline: params = the pipeline parameters, metrics = each step job's last value of each
  metric as ``<Step>/<metric>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from mlyard.core.records import JobRecord, JobStatus, MetricPoint
from mlyard.experiments.store import (
    DEFAULT_EXPERIMENT,
    ExperimentStore,
    RunImport,
    RunMetric,
    RunRecord,
)
from mlyard.pipelines.client import executions_with_steps
from mlyard.tuning.store import TrialRecord, TrialStore

if TYPE_CHECKING:
    from mlyard.core.workspace import Workspace

#: The environment variable naming a job's experiment.
EXPERIMENT_ENV = "MLYARD_EXPERIMENT_NAME"
#: Run status of each job status.
RUN_STATUS = {JobStatus.COMPLETED: "Finished", JobStatus.FAILED: "Failed",
              JobStatus.STOPPED: "Killed"}
#: Run status of each pipeline execution status.
EXECUTION_STATUS = {"Succeeded": "Finished", "Failed": "Failed", "Stopped": "Killed"}
SYNC_LIMIT = 100_000
#: Runs imported per transaction.
IMPORT_BATCH = 200

Points = Callable[[str], Sequence[MetricPoint]]


class ExecutionLike(Protocol):
    """What experiments read of a pipeline execution."""

    @property
    def execution_id(self) -> str: ...
    @property
    def pipeline(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> float: ...
    @property
    def ended_at(self) -> float | None: ...


class StepLike(Protocol):
    """What experiments read of a pipeline step."""

    @property
    def step_name(self) -> str: ...
    @property
    def job_name(self) -> str | None: ...


def _series(points: Iterable[MetricPoint]) -> list[RunMetric]:
    return [RunMetric(p.name, p.value, p.step, p.timestamp) for p in points]


def job_experiment(job: JobRecord) -> str:
    """The experiment a training job's run belongs to."""
    env = job.spec.get("environment")
    name = env.get(EXPERIMENT_ENV) if isinstance(env, dict) else None
    return str(name) if name else DEFAULT_EXPERIMENT


def training_run(job: JobRecord, points: Sequence[MetricPoint]) -> RunImport:
    """The run of a training job."""
    hyper = job.spec.get("hyperparameters")
    return RunImport(
        RunRecord(job_experiment(job), job.name, job.created_at,
                  RUN_STATUS.get(job.status, "Running"), job.ended_at, {"JobName": job.name}),
        dict(hyper) if isinstance(hyper, dict) else {}, _series(points), dict(job.outputs))


def tuning_runs(tuning: JobRecord, trials: Sequence[TrialRecord],
                jobs: Mapping[str, JobRecord], points: Points) -> list[RunImport]:
    """One run per trial of a tuning job, in experiment ``<tuning job>``."""
    runs = []
    for trial in trials:
        job = jobs.get(trial.training_job)
        created = job.created_at if job else (trial.started_at or tuning.created_at)
        status = RUN_STATUS.get(trial.status, "Running")
        source = {"TuningJobName": tuning.name, "JobName": trial.training_job,
                  "TrialNumber": trial.number}
        metrics = _series(points(trial.training_job)) if job else []
        runs.append(RunImport(
            RunRecord(tuning.name, trial.training_job, created, status,
                      job.ended_at if job else trial.ended_at, source),
            dict(trial.hyperparameters), metrics, dict(job.outputs) if job else {}))
    return runs


def execution_run(execution: ExecutionLike, steps: Sequence[StepLike],
                  points: Points) -> RunImport:
    """The run of a pipeline execution, in experiment ``<pipeline>``."""
    finals: list[RunMetric] = []
    for step in steps:
        if not step.job_name:
            continue
        last: dict[str, MetricPoint] = {}
        for point in points(step.job_name):
            last[point.name] = point
        finals += [RunMetric(f"{step.step_name}/{p.name}", p.value, None, p.timestamp)
                   for p in last.values()]
    return RunImport(
        RunRecord(execution.pipeline, execution.execution_id, execution.created_at,
                  EXECUTION_STATUS.get(execution.status, "Running"), execution.ended_at,
                  {"PipelineExecutionId": execution.execution_id,
                   "PipelineName": execution.pipeline}),
        dict(execution.parameters), finals)


def collect_runs(jobs: Sequence[JobRecord], trials: Mapping[str, Sequence[TrialRecord]],
                 executions: Sequence[ExecutionLike],
                 steps: Mapping[str, Sequence[StepLike]], points: Points,
                 skip: Callable[[RunRecord], bool] = lambda run: False) -> list[RunImport]:
    """Every run the records imply, except those ``skip`` says are up to date (their
    metrics are then not read)."""
    by_name = {j.name: j for j in jobs}
    trial_jobs = {t.training_job for ts in trials.values() for t in ts}
    runs: list[RunImport] = []
    for job in jobs:
        if job.job_type == "training" and job.name not in trial_jobs:
            bare = training_run(job, [])
            if not skip(bare.run):
                runs.append(training_run(job, points(job.name)))
        elif job.job_type == "tuning":
            for trial_run in tuning_runs(job, trials.get(job.name, ()), by_name,
                                         lambda name: ()):
                if not skip(trial_run.run):
                    name = str(trial_run.run.source["JobName"])
                    runs.append(replace(trial_run, metrics=_series(points(name))
                                        if name in by_name else []))
    for execution in executions:
        bare = execution_run(execution, [], points)
        if not skip(bare.run):
            runs.append(execution_run(execution, steps.get(execution.execution_id, ()),
                                     points))
    return runs


def pipeline_records(ws: Workspace
                     ) -> tuple[list[ExecutionLike], dict[str, list[StepLike]]]:
    """Every pipeline execution of ``ws`` and its steps by execution id."""
    executions, steps = executions_with_steps(ws, limit=SYNC_LIMIT)
    return list(executions), {k: list(v) for k, v in steps.items()}


def sync(ws: Workspace) -> int:
    """Import the runs of ``ws``'s jobs and pipeline executions that changed since the last
    sync; how many were imported."""
    store = ExperimentStore.of(ws.store)
    stored = {(r.experiment, r.name): r for e in store.list_experiments()
              for r in store.list_runs(e.name)}

    def up_to_date(run: RunRecord) -> bool:
        old = stored.get((run.experiment, run.name))
        return (old is not None and old.status != "Running" and old.status == run.status
                and old.ended_at == run.ended_at)

    jobs = ws.store.list_jobs(limit=SYNC_LIMIT)
    trial_store = TrialStore.of(ws.store)
    trials = {j.name: trial_store.list_trials(j.name) for j in jobs if j.job_type == "tuning"}
    executions, steps = pipeline_records(ws)
    runs = collect_runs(jobs, trials, executions, steps, ws.store.get_metrics, up_to_date)
    for start in range(0, len(runs), IMPORT_BATCH):
        store.import_runs(runs[start:start + IMPORT_BATCH])
    return len(runs)
