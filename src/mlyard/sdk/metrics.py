"""Reporting metrics from inside a job (a user's training or processing script)."""

from __future__ import annotations

import os
import time

from mlyard.core.records import MetricPoint
from mlyard.errors import ValidationError


def report_metric(name: str, value: float, step: int | None = None) -> None:
    """Record a metric point for the job this process runs in (``MLYARD_JOB_NAME``)."""
    job = os.environ.get("MLYARD_JOB_NAME")
    if not job:
        raise ValidationError("report_metric() works inside an mlyard job (MLYARD_JOB_NAME unset)")
    from mlyard.sdk.session import default_workspace

    default_workspace().store.put_metrics(job, [MetricPoint(name, float(value), step, time.time())])
