"""The tuning job's driver: asks Optuna for hyperparameters, runs trials as training jobs.

Runs in the tuning job's own process (``mlyard job run <tuning job>``). An Optuna study lives
in memory; everything durable is in the metadata store: each trial is a training job named
``<tuning job>-NNN`` plus a :class:`~mlyard.tuning.store.TrialRecord` (hyperparameters,
status, objective per epoch, final objective). So a driver that starts again (``mlyard
tuning resume``) rebuilds the study from the stored trials, re-attaches to trials still
running and goes on; warm start feeds parent tuning jobs' trials in the same way. A resumed
search does not start its sampler over: Random draws trial N's point from a stream seeded
with ``(seed, N)``, the model-based samplers are seeded with ``(seed, next trial number)``.

The loop (every :data:`POLL_SECONDS`): read the running trials' new objective points and
report them to Optuna; with early stopping (``Auto``: median rule; ``Hyperband``: successive
halving at rungs) a trial Optuna prunes before its last step is asked to stop with the
reason (the trial reads the request at its next report and ends Stopped, counted as
early-stopped; one that finished first stays Completed); finished trials
are told to the study (Completed: the last objective value; Failed; pruned); free slots
(``max_parallel_jobs``) get new trials. A failed trial is counted and the search goes on;
stopping the tuning job stops its running trials.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from mlyard.core.logcapture import JobLog
from mlyard.core.records import TERMINAL_STATUSES, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError, NotFoundError, ValidationError
from mlyard.training.kind import TrainingKind
from mlyard.training.spec import TrainingJobSpec
from mlyard.tuning import ranges as rng
from mlyard.tuning.spec import TuningJobSpec
from mlyard.tuning.store import TrialRecord, TrialStore

POLL_SECONDS = 0.02
#: Running trials' objective points are read at most this often (a trial's end is noticed
#: every POLL_SECONDS; its points are read once more then).
METRICS_SECONDS = 0.05
EARLY_STOP_PREFIX = "early stopping"


def trial_job_name(tuning_job: str, number: int) -> str:
    """``<tuning job>-NNN`` within SageMaker's 63-character limit."""
    return f"{tuning_job[:58].rstrip('-')}-{number:03d}"


def derived_seed(seed: int, number: int) -> int:
    """A seed for trial ``number`` of a search seeded with ``seed`` (independent streams per
    number, the same on every run)."""
    import numpy as np

    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def make_sampler(spec: TuningJobSpec, first_number: int = 0) -> Any:
    """The Optuna sampler of the spec's strategy, seeded. ``first_number`` is the number of
    the first trial this sampler will draw: a resumed driver (trials 0..N-1 exist) seeds
    with ``(seed, N)`` so its draws continue the search instead of repeating trial 0's."""
    import optuna

    seed = spec.seed if first_number == 0 else derived_seed(spec.seed, first_number)
    if spec.strategy in ("Random", "Grid"):  # Random: random_point; Grid: grid_points
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.strategy == "Bayesian" and spec.bayesian_sampler == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=_startup(spec))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=_startup(spec),
                                      constant_liar=spec.max_parallel_jobs > 1)


def random_point(spec: TuningJobSpec, dists: dict[str, Any], number: int) -> dict[str, Any]:
    """The Random strategy's point for trial ``number`` (Optuna's encoded values): drawn
    from a stream seeded with ``(seed, number)`` alone, so a search that is resumed, or
    whose trials start in another order, draws exactly the points of an uninterrupted
    one and never repeats an earlier trial's draw."""
    import optuna

    sampler = optuna.samplers.RandomSampler(seed=derived_seed(spec.seed, number))
    # RandomSampler draws each parameter independently; study and trial are not used
    return {name: sampler.sample_independent(None, None, name, dist)  # type: ignore[arg-type]
            for name, dist in dists.items()}


def grid_points(spec: TuningJobSpec) -> list[dict[str, Any]]:
    """Every combination of the grid, in a seeded random order (as SageMaker's Grid
    strategy, which does not promise an order)."""
    import itertools
    import random

    space = rng.grid_space(spec.ranges)
    names = list(space)
    points = [dict(zip(names, combo, strict=True))
              for combo in itertools.product(*(space[n] for n in names))]
    random.Random(spec.seed).shuffle(points)
    return points


def _startup(spec: TuningJobSpec) -> int:
    """Random trials before the model-based sampler takes over."""
    return max(2, min(10, spec.max_jobs // 3))


def max_resource(spec: TuningJobSpec) -> int:
    """Hyperband's largest budget: the resource parameter's static value, its range's
    upper end, or the algorithm's default."""
    name = spec.resource_parameter
    if name in spec.training.hyperparameters:
        return int(spec.training.hyperparameters[name])
    given = spec.ranges.get(name)
    if isinstance(given, rng.IntegerParameter | rng.ContinuousParameter):
        return int(given.max_value)
    if isinstance(given, rng.CategoricalParameter):
        return int(max(float(v) for v in given.values))
    if spec.training.algorithm is not None:
        from mlyard.algorithms import get_algorithm

        for hp in get_algorithm(spec.training.algorithm).HYPERPARAMETERS:
            if hp.name == name:
                return int(hp.default)
    raise ValidationError(f"Hyperband needs the resource parameter {name!r} (epochs) as a "
                          "static hyperparameter or a range")


def make_pruner(spec: TuningJobSpec) -> Any:
    """Hyperband's pruner, the median rule for early stopping ``Auto``, else none."""
    import optuna

    if spec.strategy == "Hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=spec.hyperband_min_resource, max_resource=max_resource(spec),
            reduction_factor=spec.hyperband_reduction_factor)
    if spec.early_stopping == "Auto":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


@dataclass
class Running:
    """A trial whose training job has not ended yet."""

    record: TrialRecord
    trial: Any  # optuna.trial.Trial
    reported: int = 0  # objective points already reported to Optuna
    stop_reason: str | None = None
    points: list[tuple[int, float]] = field(default_factory=list)
    metrics_read_at: float = 0.0


class TuningDriver:
    """Runs tuning job ``name`` (see the module docstring)."""

    def __init__(self, ws: Workspace, name: str, spec: TuningJobSpec, log: JobLog,
                 should_stop: Callable[[], bool]) -> None:
        self.ws = ws
        self.trial_store = TrialStore.of(ws.store)
        self.name = name
        self.spec = spec
        self.log = log
        self.should_stop = should_stop
        self.outputs: dict[str, str] = {}  # the report's URIs, once written
        self.direction: Literal["maximize", "minimize"] = (
            "maximize" if spec.objective.type == "Maximize" else "minimize")
        self.running: dict[int, Running] = {}
        self.trials: dict[int, TrialRecord] = {}
        self.best: TrialRecord | None = None
        self.overheads: list[float] = []

    # -- study -----------------------------------------------------------------------------
    def _frozen(self, record: TrialRecord, dists: dict[str, Any]) -> Any | None:
        """An Optuna FrozenTrial for a finished trial, or None if it cannot be used."""
        import optuna
        from optuna.trial import TrialState

        if not rng.contains(self.spec.ranges, record.hyperparameters):
            return None
        params = rng.encode(self.spec.ranges, record.hyperparameters)
        if record.status is JobStatus.COMPLETED and record.objective is not None:
            state, value = TrialState.COMPLETE, record.objective
        elif record.stop_reason and record.stop_reason.startswith(EARLY_STOP_PREFIX):
            state, value = TrialState.PRUNED, None
        else:
            state, value = TrialState.FAIL, None
        return optuna.trial.create_trial(
            params=params, distributions=dists, value=value, state=state,
            intermediate_values=dict(record.intermediate))

    def _seed_study(self, study: Any, dists: dict[str, Any]) -> list[TrialRecord]:
        """Add warm-start parents' and this job's own finished trials to the study; return
        this job's trials that were still running (to re-attach)."""
        if self.spec.warm_start is not None:
            used = 0
            for parent in self.spec.warm_start.parents:
                for record in self.trial_store.list_trials(parent):
                    if record.source != "own" or record.status not in TERMINAL_STATUSES:
                        continue
                    frozen = self._frozen(record, dists)
                    if frozen is not None:
                        study.add_trial(frozen)
                        used += 1
            self.log.write(f"warm start ({self.spec.warm_start.type}): {used} trial(s) from "
                           f"{', '.join(self.spec.warm_start.parents)}")
        unfinished: list[TrialRecord] = []
        for record in self.trial_store.list_trials(self.name):
            self.trials[record.number] = record
            if record.status in TERMINAL_STATUSES:
                frozen = self._frozen(record, dists)
                if frozen is not None:
                    study.add_trial(frozen)
                self._note_best(record)
            else:
                unfinished.append(record)
        if self.trials:
            self.log.write(f"resuming: {len(self.trials) - len(unfinished)} finished and "
                           f"{len(unfinished)} running trial(s) found")
        return unfinished

    def _note_best(self, record: TrialRecord) -> None:
        if record.status is not JobStatus.COMPLETED or record.objective is None:
            return
        better = (self.best is None or self.best.objective is None
                  or (record.objective > self.best.objective if self.direction == "maximize"
                      else record.objective < self.best.objective))
        if better:
            self.best = record

    # -- trials --------------------------------------------------------------------------
    def _training_spec(self, params: dict[str, Any]) -> TrainingJobSpec:
        template = self.spec.training
        return TrainingJobSpec(**{**template.model_dump(),
                                  "hyperparameters": {**template.hyperparameters, **params}})

    def _launch(self, study: Any, dists: dict[str, Any], number: int,
                params: dict[str, Any] | None = None) -> None:
        from mlyard.core.jobs import submit_job

        if params is not None:
            study.enqueue_trial(rng.encode(self.spec.ranges, params))
        elif self.spec.strategy == "Random":
            study.enqueue_trial(random_point(self.spec, dists, number))
        trial = study.ask(dists)
        values = params if params is not None else rng.decode(self.spec.ranges, trial.params)
        job = trial_job_name(self.name, number)
        record = TrialRecord(self.name, number, job, values, JobStatus.PENDING,
                             started_at=time.time())
        self.trial_store.put_trial(record)
        # a new trial, or one whose previous driver died between recording it and creating
        # its training job (re-attaching otherwise: the job exists and may be running)
        if params is None or not self._job_exists(job):
            try:
                submit_job(self.ws, self._training_spec(values), job)
            except MlyardError as exc:
                study.tell(trial, state=_fail())
                record = TrialRecord(self.name, number, job, values, JobStatus.FAILED,
                                     started_at=record.started_at, ended_at=time.time(),
                                     stop_reason=f"could not start: {exc}")
                self.trial_store.put_trial(record)
                self.trials[number] = record
                self.log.write(f"trial {number} ({job}) could not start: {exc}")
                return
        self.trials[number] = record
        self.running[number] = Running(record, trial)

    def _job_exists(self, name: str) -> bool:
        try:
            self.ws.store.get_job(name)
        except NotFoundError:
            return False
        return True

    def _poll(self, study: Any, run: Running) -> bool:
        """Update one running trial; True when it ended."""
        from mlyard.core.jobs import reconcile

        job = reconcile(self.ws, self.ws.store.get_job(run.record.training_job))
        now = time.monotonic()
        if not job.status.terminal and now - run.metrics_read_at < METRICS_SECONDS:
            return False
        run.metrics_read_at = now
        points = [(p.step if p.step is not None else i + 1, p.value) for i, p in
                  enumerate(self.ws.store.get_metrics(job.name, self.spec.objective.metric_name))]
        run.points = points
        last_step = self._last_step(run.record)
        for step, value in points[run.reported:]:
            if math.isfinite(value):
                run.trial.report(value, step)
            run.reported += 1
            # a trial at its last step has nothing left to stop: it is finishing
            if (run.stop_reason is None and not job.status.terminal
                    and (last_step is None or step < last_step)
                    and run.trial.should_prune()):
                rule = "Hyperband rung" if self.spec.strategy == "Hyperband" else "median rule"
                run.stop_reason = (f"{EARLY_STOP_PREFIX}: {self.spec.objective.metric_name} "
                                   f"{value:.6g} at step {step} is not promising ({rule})")
                self.ws.store.request_stop(job.name, reason=run.stop_reason)
                self.log.write(f"trial {run.record.number} ({job.name}): {run.stop_reason}")
        if not job.status.terminal:
            return False
        self._finish(study, run, job.status, job.failure_reason, job.ended_at)
        return True

    def _last_step(self, record: TrialRecord) -> int | None:
        """The trial's last step: its resource parameter (epochs), when it has one."""
        value = record.hyperparameters.get(self.spec.resource_parameter)
        if value is None:
            value = self.spec.training.hyperparameters.get(self.spec.resource_parameter)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def _finish(self, study: Any, run: Running, status: JobStatus, reason: str | None,
                ended: float | None) -> None:
        from optuna.trial import TrialState

        objective = run.points[-1][1] if run.points else None
        stop_reason = run.stop_reason or reason
        if status is JobStatus.COMPLETED and objective is not None and math.isfinite(objective):
            study.tell(run.trial, objective)
            if run.stop_reason is not None:
                self.log.write(f"trial {run.record.number} ({run.record.training_job}) "
                               "completed before its early stop took effect; counted as "
                               "Completed")
            stop_reason = None
        elif run.stop_reason is not None:
            study.tell(run.trial, state=TrialState.PRUNED)
        else:
            if status is JobStatus.COMPLETED:
                status, stop_reason = JobStatus.FAILED, (
                    f"the objective metric {self.spec.objective.metric_name!r} was never "
                    "reported")
            study.tell(run.trial, state=_fail())
        record = TrialRecord(
            self.name, run.record.number, run.record.training_job, run.record.hyperparameters,
            status, objective if status is JobStatus.COMPLETED else None, run.points,
            run.record.started_at, ended or time.time(), stop_reason)
        self.trial_store.put_trial(record)
        self.trials[record.number] = record
        self._note_best(record)
        done = sum(1 for t in self.trials.values() if t.status in TERMINAL_STATUSES)
        best = (f"; best {self.best.objective:.6g} ({self.best.training_job})"
                if self.best is not None and self.best.objective is not None else "")
        shown = f" {self.spec.objective.metric_name}={objective:.6g}" \
            if objective is not None else ""
        self.log.write(f"trial {record.number} ({record.training_job}) {status.value}"
                       f"{shown}{' - ' + stop_reason if stop_reason else ''} "
                       f"[{done}/{self.spec.max_jobs}]{best}")
        if self.best is not None and self.best.objective is not None:
            self.log.metric("BestObjectiveValue", self.best.objective, done)

    def _stop_all(self) -> None:
        for run in self.running.values():
            with contextlib.suppress(NotFoundError):
                self.ws.store.request_stop(run.record.training_job,
                                           reason=f"tuning job {self.name} was stopped")
        deadline = time.monotonic() + 30
        while self.running and time.monotonic() < deadline:
            for number in list(self.running):
                run = self.running[number]
                job = self.ws.store.get_job(run.record.training_job)
                if job.status.terminal:
                    record = TrialRecord(self.name, number, job.name,
                                         run.record.hyperparameters, job.status, None,
                                         run.points, run.record.started_at, job.ended_at,
                                         job.failure_reason)
                    self.trial_store.put_trial(record)
                    del self.running[number]
            time.sleep(0.1)

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Drive the search to its end; returns a summary (best trial, counts)."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        spec = self.spec
        dists = rng.to_distributions(spec.ranges)
        # a resumed search's sampler continues after the trials already made (no repeats)
        made = [t.number for t in self.trial_store.list_trials(self.name)]
        study = optuna.create_study(direction=self.direction,
                                    sampler=make_sampler(spec, max(made, default=-1) + 1),
                                    pruner=make_pruner(spec))
        unfinished = self._seed_study(study, dists)
        for record in unfinished:  # re-attach to trials a previous driver started
            self.trials.pop(record.number, None)
            self._launch(study, dists, record.number, record.hyperparameters)
        limit = spec.max_jobs
        if spec.strategy == "Grid":
            limit = min(limit, rng.grid_size(spec.ranges))
            done = [t.hyperparameters for t in self.trials.values()]
            for point in grid_points(spec):
                if point not in done:
                    study.enqueue_trial(rng.encode(spec.ranges, point))
        self.log.write(f"tuning: strategy {spec.strategy}, objective "
                       f"{spec.objective.type} {spec.objective.metric_name}, {limit} trial(s), "
                       f"{spec.max_parallel_jobs} at a time, early stopping "
                       f"{'Hyperband' if spec.strategy == 'Hyperband' else spec.early_stopping}")
        try:  # standby processes, where the executor keeps them: trials start in ms
            self.ws.executor.warm(spec.max_parallel_jobs,
                                  preload=TrainingKind().preload(spec.training))
        except Exception as exc:
            self.log.write(f"standby processes unavailable ({exc}); trials start cold")
        next_number = max(self.trials, default=-1) + 1
        freed_at: float | None = None
        try:
            while True:
                if self.should_stop():
                    self._stop_all()
                    raise MlyardError("stopped")
                for number in list(self.running):
                    if self._poll(study, self.running[number]):
                        del self.running[number]
                        freed_at = time.perf_counter()
                while len(self.running) < spec.max_parallel_jobs and next_number < limit:
                    self._launch(study, dists, next_number)
                    next_number += 1
                    if freed_at is not None:
                        self.overheads.append(time.perf_counter() - freed_at)
                        freed_at = None
                if not self.running and next_number >= limit:
                    break
                time.sleep(POLL_SECONDS)
        finally:
            self._write_report()
        return self.summary()

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for record in self.trials.values():
            counts[record.status.value] = counts.get(record.status.value, 0) + 1
        return {"best": self.best, "counts": counts,
                "early_stopped": sum(1 for t in self.trials.values() if stopped_early(t))}

    def _write_report(self) -> None:
        """The analytics table and HTML report in the tuning job's artifacts."""
        from mlyard.tuning.analytics import write_outputs

        with contextlib.suppress(Exception):
            self.outputs = write_outputs(self.ws, self.name, self.spec)


def stopped_early(trial: TrialRecord) -> bool:
    """Whether a trial was stopped by early stopping (status Stopped, SageMaker's count of
    early-stopped training jobs), not by the user or for another reason."""
    return (trial.status is JobStatus.STOPPED
            and (trial.stop_reason or "").startswith(EARLY_STOP_PREFIX))


def _fail() -> Any:
    from optuna.trial import TrialState

    return TrialState.FAIL
