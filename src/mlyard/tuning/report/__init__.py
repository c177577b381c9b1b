"""Analytics and the HTML report of a hyperparameter tuning job.

The tuning job hands this package one :class:`TrialRow` per trial (its own trials, plus those
reused from parent jobs by a warm start) and gets back:

* :func:`analytics_frame`: the shape of SageMaker's
  ``HyperparameterTuningJobAnalytics.dataframe()``, one row per trial;
* :func:`best_trial`: the best completed trial of this job (warm-start trials excluded);
* :func:`parameter_importance`: Optuna's fANOVA importance of each tuned hyperparameter;
* :func:`status_counts`: trials per status;
* :func:`write_report`: a self-contained HTML page (summary, charts as embedded PNG, the table
  of all trials).

optuna, pandas and matplotlib are imported lazily, inside the functions that need them.

The package's modules: :mod:`~mlyard.tuning.report.trials` (:class:`TrialRow`, statuses),
:mod:`~mlyard.tuning.report.frame` (analytics frame, best trial, status counts),
:mod:`~mlyard.tuning.report.importance`, :mod:`~mlyard.tuning.report.charts` and
:mod:`~mlyard.tuning.report.page` (the HTML report).
"""

from mlyard.tuning.report.frame import (
    FRAME_COLUMNS,
    analytics_frame,
    best_trial,
    status_counts,
)
from mlyard.tuning.report.importance import parameter_importance
from mlyard.tuning.report.page import write_report
from mlyard.tuning.report.trials import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    OWN_SOURCE,
    PENDING,
    STOPPED,
    TRIAL_STATUSES,
    WARM_START_PREFIX,
    TrialRow,
)

__all__ = [
    "COMPLETED",
    "FAILED",
    "FRAME_COLUMNS",
    "IN_PROGRESS",
    "OWN_SOURCE",
    "PENDING",
    "STOPPED",
    "TRIAL_STATUSES",
    "WARM_START_PREFIX",
    "TrialRow",
    "analytics_frame",
    "best_trial",
    "parameter_importance",
    "status_counts",
    "write_report",
]
