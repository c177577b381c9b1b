"""Reading a tuning job back: trial rows, the analytics table and report, the description."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mlyard.core.records import TERMINAL_STATUSES, JobStatus
from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.tuning.report import TrialRow, analytics_frame, best_trial, status_counts, write_report
from mlyard.tuning.spec import TuningJobSpec
from mlyard.tuning.store import TrialStore

REPORT_FILE = "tuning-report.html"
TABLE_FILE = "analytics.csv"


def tuning_spec(ws: Workspace, name: str) -> TuningJobSpec:
    """The spec of tuning job ``name`` (ValidationError if it is another kind of job)."""
    record = ws.store.get_job(name)
    if record.job_type != "tuning":
        raise ValidationError(f"job {name!r} is not a hyperparameter tuning job")
    return TuningJobSpec.model_validate(record.spec)


def trial_rows(ws: Workspace, name: str) -> list[TrialRow]:
    """The tuning job's trials as report rows (status read live for running trials)."""
    rows = []
    for t in TrialStore.of(ws.store).list_trials(name):
        status = t.status
        if status not in TERMINAL_STATUSES:
            try:
                status = ws.store.get_job(t.training_job).status
            except Exception:
                status = JobStatus.PENDING
        rows.append(TrialRow(number=t.number, training_job=t.training_job,
                             status=status.value, hyperparameters=dict(t.hyperparameters),
                             objective=t.objective, start=t.started_at, end=t.ended_at,
                             intermediate=list(t.intermediate), stop_reason=t.stop_reason,
                             source=t.source))
    return rows


def write_outputs(ws: Workspace, name: str, spec: TuningJobSpec) -> dict[str, str]:
    """Write ``analytics.csv`` and ``tuning-report.html`` into the tuning job's artifacts;
    returns their URIs."""
    rows = trial_rows(ws, name)
    with tempfile.TemporaryDirectory(prefix="mlyard-tuning-") as tmp:
        out = Path(tmp)
        analytics_frame(rows).to_csv(out / TABLE_FILE, index=False)
        write_report(rows, out / REPORT_FILE, title=f"tuning job {name}",
                     objective=spec.objective.metric_name, direction=spec.objective.type)
        base = ws.artifacts.uri("jobs", name, "output")
        uri = ws.artifacts.upload(out, base)
    return {"output": uri, "report": f"{uri.rstrip('/')}/{REPORT_FILE}",
            "analytics": f"{uri.rstrip('/')}/{TABLE_FILE}"}


def describe_tuning(ws: Workspace, name: str) -> dict[str, Any]:
    """SageMaker's DescribeHyperParameterTuningJob, in short: status, best training job,
    status counters and every trial's objective."""
    from mlyard.core.jobs import reconcile

    spec = tuning_spec(ws, name)
    record = reconcile(ws, ws.store.get_job(name))
    rows = trial_rows(ws, name)
    best = best_trial(rows, spec.objective.type)
    counts = status_counts(rows)
    # early-stopped: Stopped by the driver's early stop (a trial that completed before its
    # stop took effect is Completed, and not counted here)
    early = sum(1 for r in rows if r.status == JobStatus.STOPPED.value
                and (r.stop_reason or "").startswith("early stopping"))
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobStatus": record.status.value,
        "FailureReason": record.failure_reason,
        "Strategy": spec.strategy,
        "Objective": {"MetricName": spec.objective.metric_name, "Type": spec.objective.type},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": spec.max_jobs,
                           "MaxParallelTrainingJobs": spec.max_parallel_jobs},
        "TrainingJobEarlyStoppingType": spec.early_stopping,
        "CreationTime": record.created_at,
        "EndTime": record.ended_at,
        "TrainingJobStatusCounters": {
            "Completed": counts.get("Completed", 0),
            "InProgress": counts.get("InProgress", 0) + counts.get("Pending", 0)
            + counts.get("Stopping", 0),
            "Failed": counts.get("Failed", 0),
            "Stopped": counts.get("Stopped", 0),
        },
        "EarlyStopped": early,
        "BestTrainingJob": None if best is None else {
            "TrainingJobName": best.training_job,
            "TunedHyperParameters": best.hyperparameters,
            "FinalHyperParameterTuningJobObjectiveMetric": {
                "MetricName": spec.objective.metric_name, "Value": best.objective},
        },
        "Outputs": record.outputs,
        "Trials": [{"TrialNumber": r.number, "TrainingJobName": r.training_job,
                    "TrainingJobStatus": r.status, "FinalObjectiveValue": r.objective,
                    "TunedHyperParameters": r.hyperparameters, "StopReason": r.stop_reason}
                   for r in rows],
    }
