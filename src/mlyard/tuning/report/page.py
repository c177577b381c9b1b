"""The tuning job's self-contained HTML report (:func:`write_report`), built with
:mod:`mlyard.reports`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlyard.reports import escape, heading, image, note, page, table
from mlyard.tuning.report.charts import (
    importance_png,
    intermediate_png,
    objective_over_time_png,
    parallel_coordinates_png,
)
from mlyard.tuning.report.frame import analytics_frame, best_trial, status_counts
from mlyard.tuning.report.importance import importance_with_reason
from mlyard.tuning.report.trials import TrialRow, by_number, is_number, maximize_direction


def _cell(value: Any) -> str:
    """A frame cell as escaped HTML text ("" for missing values)."""
    import pandas as pd

    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return escape(value.strftime("%Y-%m-%d %H:%M:%S"))
    if isinstance(value, bool):
        return escape(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        if isinstance(value, numbers.Integral):
            return escape(int(value))
        return escape(f"{number:.6g}")
    return escape(value)


def _value(value: Any) -> str:
    return f"{value:.6g}" if is_number(value) else str(value)


def write_report(
    rows: Sequence[TrialRow], path: Path, *, title: str, objective: str, direction: str
) -> Path:
    """Write the tuning job's self-contained HTML report to ``path`` (parents created) and
    return it.

    Sections: a summary (objective and direction, status counts, the best trial with its
    hyperparameters and objective, total trial-seconds), charts as embedded PNG (objective over
    time with the best-so-far line, parallel coordinates, parameter importance, intermediate
    values per trial), then the table of all trials (:func:`analytics_frame`). A chart with
    nothing to draw is replaced by a sentence saying why; every user string is escaped.
    """
    maximize = maximize_direction(direction)
    ordered = by_number(rows)
    own = [r for r in ordered if not r.is_warm_start]
    warm = [r for r in ordered if r.is_warm_start]
    best = best_trial(ordered, direction)
    counts = status_counts(ordered)
    trial_seconds = sum(r.elapsed or 0.0 for r in own)

    facts = [
        ["objective metric", escape(objective)],
        ["direction", "Maximize" if maximize else "Minimize"],
        ["trials (this job)", str(len(own))],
        *([["warm-start trials (parent jobs)", str(len(warm))]] if warm else []),
        ["total trial-seconds", escape(f"{trial_seconds:.1f}")],
    ]
    sections = [
        heading("Summary"),
        table(None, facts),
        heading("Trials by status", 3),
        table(["status", "trials"], [[escape(s), str(n)] for s, n in counts.items()]),
        heading("Best trial"),
    ]
    if best is None:
        sections.append(note("No completed trial with an objective value yet."))
    else:
        best_facts = [
            ["training job", escape(best.training_job)],
            ["trial", str(best.number)],
            [escape(objective), escape(_value(best.value))],
            ["elapsed seconds", escape("" if best.elapsed is None else f"{best.elapsed:.1f}")],
        ]
        sections.append(table(None, best_facts))
        hps = [[escape(n), escape(_value(v))] for n, v in best.hyperparameters.items()]
        if hps:
            sections.append(table(["hyperparameter", "value"], hps))

    no_completed = "No completed trial with an objective value yet: nothing to chart."
    sections.append(heading(f"{objective} over time"))
    chart = objective_over_time_png(ordered, objective, maximize, best)
    sections.append(
        image(chart, f"{objective} of each trial at its end time") if chart else note(no_completed)
    )
    if chart and warm:
        sections.append(note("Warm-start trials ran in parent jobs and are not shown."))

    sections.append(heading("Parallel coordinates"))
    chart = parallel_coordinates_png(ordered, objective, maximize, best)
    sections.append(
        image(chart, "Parallel coordinates of hyperparameters and objective")
        if chart
        else note(no_completed)
    )

    sections.append(heading("Hyperparameter importance"))
    importances, reason = importance_with_reason(ordered, direction)
    if importances:
        sections.append(image(importance_png(importances), "Hyperparameter importance"))
        sections.append(
            note("fANOVA importance (Optuna, seed 0) over the completed trials of this job; "
                  "a hyperparameter with a single value seen scores 0.")
        )
    else:
        sections.append(note(f"No parameter importance: {reason}."))

    sections.append(heading("Intermediate values"))
    chart = intermediate_png(ordered, objective)
    sections.append(
        image(chart, f"Intermediate {objective} per trial")
        if chart
        else note("No trial reported intermediate objective values.")
    )

    sections.append(heading("All trials"))
    frame = analytics_frame(ordered)
    if len(frame):
        table_rows = [[_cell(v) for v in record] for record in frame.itertuples(index=False)]
        sections.append(table([str(c) for c in frame.columns], table_rows))
    else:
        sections.append(note("No trials."))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(title, sections), encoding="utf-8")
    return path
