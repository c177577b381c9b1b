"""The analytics of a tuning job: SageMaker's analytics frame (:func:`analytics_frame`), the
best trial (:func:`best_trial`) and trials per status (:func:`status_counts`). pandas is
imported inside :func:`analytics_frame`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlyard.tuning.report.trials import (
    COMPLETED,
    TRIAL_STATUSES,
    TrialRow,
    by_number,
    maximize_direction,
    param_names,
)

if TYPE_CHECKING:
    import pandas as pd

#: The analytics frame's columns after the hyperparameters, in order.
FRAME_COLUMNS: tuple[str, ...] = (
    "TrainingJobName",
    "TrainingJobStatus",
    "FinalObjectiveValue",
    "TrainingStartTime",
    "TrainingEndTime",
    "TrainingElapsedTimeSeconds",
    "TrialNumber",
    "StopReason",
    "Source",
)


def analytics_frame(rows: Sequence[TrialRow]) -> pd.DataFrame:
    """One row per trial, sorted by trial number, shaped like SageMaker's
    ``HyperparameterTuningJobAnalytics.dataframe()``.

    Columns: every tuned hyperparameter (in order of first appearance; missing values are
    NaN/None), then :data:`FRAME_COLUMNS`: ``TrainingJobName``, ``TrainingJobStatus``,
    ``FinalObjectiveValue`` (float, NaN when unknown), ``TrainingStartTime`` and
    ``TrainingEndTime`` (UTC timestamps, NaT when unknown), ``TrainingElapsedTimeSeconds``
    (float), ``TrialNumber`` (int), ``StopReason`` and ``Source``. A hyperparameter named like
    one of those columns is shadowed by it.
    """
    import pandas as pd

    ordered = by_number(rows)
    columns: dict[str, Any] = {}
    for name in param_names(ordered):
        if name not in FRAME_COLUMNS:
            columns[name] = pd.Series([r.hyperparameters.get(name) for r in ordered])

    def floats(values: list[float | None]) -> pd.Series:
        return pd.Series([math.nan if v is None else v for v in values], dtype="float64")

    def times(values: list[float | None]) -> pd.Series:
        seconds = floats([None if v is None else float(v) for v in values])
        return pd.to_datetime(seconds, unit="s", utc=True)

    columns["TrainingJobName"] = pd.Series([r.training_job for r in ordered], dtype=object)
    columns["TrainingJobStatus"] = pd.Series([r.status for r in ordered], dtype=object)
    columns["FinalObjectiveValue"] = floats([r.value for r in ordered])
    columns["TrainingStartTime"] = times([r.start for r in ordered])
    columns["TrainingEndTime"] = times([r.end for r in ordered])
    columns["TrainingElapsedTimeSeconds"] = floats([r.elapsed for r in ordered])
    columns["TrialNumber"] = pd.Series([int(r.number) for r in ordered], dtype="int64")
    columns["StopReason"] = pd.Series([r.stop_reason for r in ordered], dtype=object)
    columns["Source"] = pd.Series([r.source for r in ordered], dtype=object)
    return pd.DataFrame(columns)


def best_trial(rows: Sequence[TrialRow], direction: str) -> TrialRow | None:
    """The Completed trial of this job with the best finite final objective (``direction``:
    "Maximize" or "Minimize"); on a tie the lower trial number. Warm-start trials belong to
    their parent jobs and are not candidates. None when no trial qualifies."""
    maximize = maximize_direction(direction)
    best: TrialRow | None = None
    best_value = 0.0
    for row in by_number(rows):
        value = row.value
        if row.status != COMPLETED or row.is_warm_start or value is None:
            continue
        if best is None or (value > best_value if maximize else value < best_value):
            best, best_value = row, value
    return best


def status_counts(rows: Sequence[TrialRow], *, include_warm_start: bool = False) -> dict[str, int]:
    """Trials per status: every status of :data:`TRIAL_STATUSES` (zero included) in that
    order, then any other status seen. Counts this job's own trials unless
    ``include_warm_start``."""
    counts = dict.fromkeys(TRIAL_STATUSES, 0)
    for row in rows:
        if include_warm_start or not row.is_warm_start:
            counts[row.status] = counts.get(row.status, 0) + 1
    return counts
