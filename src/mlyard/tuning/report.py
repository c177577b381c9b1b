"""Analytics and the HTML report of a hyperparameter tuning job.

The tuning job hands this module one :class:`TrialRow` per trial (its own trials, plus those
reused from parent jobs by a warm start) and gets back:

* :func:`analytics_frame`: the shape of SageMaker's
  ``HyperparameterTuningJobAnalytics.dataframe()``, one row per trial;
* :func:`best_trial`: the best completed trial of this job (warm-start trials excluded);
* :func:`parameter_importance`: Optuna's fANOVA importance of each tuned hyperparameter;
* :func:`status_counts`: trials per status;
* :func:`write_report`: a self-contained HTML page (summary, charts as embedded PNG, the table
  of all trials).

optuna, pandas and matplotlib are imported lazily, inside the functions that need them.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlyard.errors import ValidationError
from mlyard.reports import escape, image, new_figure, note, page, plain, png, table

if TYPE_CHECKING:
    import pandas as pd
    from optuna.distributions import BaseDistribution

PENDING = "Pending"
IN_PROGRESS = "InProgress"
COMPLETED = "Completed"
FAILED = "Failed"
STOPPED = "Stopped"
#: Every trial status, in the order reports list them.
TRIAL_STATUSES: tuple[str, ...] = (PENDING, IN_PROGRESS, COMPLETED, FAILED, STOPPED)

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

OWN_SOURCE = "own"
WARM_START_PREFIX = "warm-start"

# A numeric axis (or importance distribution) is log-scaled when max/min reaches this.
_LOG_RATIO = 100.0
_MAX_LEGEND = 20
_LABEL_CHARS = 24
_MAX_VALUE_TICKS = 6


@dataclass(frozen=True)
class TrialRow:
    """One trial of a tuning job, as the report sees it.

    ``hyperparameters`` holds the tuned hyperparameters only; ``objective`` is the final
    objective value; ``start``/``end`` are unix seconds; ``intermediate`` is the objective per
    epoch/step as ``(step, value)``; ``source`` is ``"own"`` or ``"warm-start:<parent job>"``
    for a trial reused from a parent tuning job.
    """

    number: int
    training_job: str
    status: str
    hyperparameters: dict[str, Any]
    objective: float | None
    start: float | None
    end: float | None
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    stop_reason: str | None = None
    source: str = OWN_SOURCE

    @property
    def is_warm_start(self) -> bool:
        """True for a trial reused from a parent tuning job."""
        return self.source.startswith(WARM_START_PREFIX)

    @property
    def value(self) -> float | None:
        """``objective`` as a float, None when missing or not finite."""
        return _finite(self.objective)

    @property
    def elapsed(self) -> float | None:
        """Seconds from start to end, None unless both are known."""
        if self.start is None or self.end is None:
            return None
        return max(0.0, float(self.end) - float(self.start))


# -- analytics ---------------------------------------------------------------------------------


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _maximize(direction: str) -> bool:
    """True for "Maximize", False for "Minimize" (case-insensitive)."""
    key = str(direction).strip().lower()
    if key in ("maximize", "max"):
        return True
    if key in ("minimize", "min"):
        return False
    raise ValidationError(f"objective direction must be Maximize or Minimize, not {direction!r}")


def _sorted(rows: Sequence[TrialRow]) -> list[TrialRow]:
    return sorted(rows, key=lambda r: r.number)


def _param_names(rows: Sequence[TrialRow]) -> list[str]:
    """Tuned hyperparameter names in order of first appearance (rows by trial number)."""
    names: dict[str, None] = {}
    for row in _sorted(rows):
        for name in row.hyperparameters:
            names.setdefault(str(name), None)
    return list(names)


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

    ordered = _sorted(rows)
    columns: dict[str, Any] = {}
    for name in _param_names(ordered):
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
    maximize = _maximize(direction)
    best: TrialRow | None = None
    best_value = 0.0
    for row in _sorted(rows):
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


# -- parameter importance ----------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _choice(value: Any) -> bool | int | float | str | None:
    """``value`` as a choice optuna's CategoricalDistribution accepts."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


def _distribution(values: Sequence[Any]) -> tuple[BaseDistribution, list[Any]]:
    """The optuna distribution inferred from the values seen, and the values converted for it:
    all integers -> IntDistribution, all numbers -> FloatDistribution (both log-scaled when
    min > 0 and max/min >= 100), anything else -> CategoricalDistribution."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if all(_is_number(v) for v in values):
        ints = all(isinstance(v, numbers.Integral) for v in values)
        converted: list[Any] = [int(v) if ints else float(v) for v in values]
        if ints or all(math.isfinite(v) for v in converted):
            low, high = min(converted), max(converted)
            use_log = low > 0 and high / low >= _LOG_RATIO
            if ints:
                return IntDistribution(low, high, log=use_log), converted
            return FloatDistribution(low, high, log=use_log), converted
    choices = [_choice(v) for v in values]
    unique = list(dict.fromkeys(choices))
    return CategoricalDistribution(unique), choices


def _importance(rows: Sequence[TrialRow], direction: str) -> tuple[dict[str, float], str]:
    """Importances (see :func:`parameter_importance`) and, when empty, why."""
    maximize = _maximize(direction)
    trials = [
        r
        for r in _sorted(rows)
        if r.status == COMPLETED and not r.is_warm_start and r.value is not None
    ]
    if len(trials) < 2:
        return {}, (
            f"parameter importance needs at least 2 completed trials with an objective value; "
            f"this job has {len(trials)}"
        )
    names = [n for n in _param_names(trials) if all(n in t.hyperparameters for t in trials)]
    if not names:
        return {}, "no tuned hyperparameter is set in every completed trial"
    values = {n: [t.hyperparameters[n] for t in trials] for n in names}
    varying = [n for n in names if len({repr(_choice(v)) for v in values[n]}) > 1]
    constant = [n for n in names if n not in varying]
    if not varying:
        return {}, "every completed trial used the same hyperparameter values"
    objectives = [t.value for t in trials]
    if len(set(objectives)) < 2:
        return {}, "every completed trial reached the same objective value"

    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    inferred = {n: _distribution(values[n]) for n in varying}
    distributions = {n: dist for n, (dist, _) in inferred.items()}
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize" if maximize else "minimize")
        study.add_trials(
            [
                optuna.trial.create_trial(
                    value=objectives[i],
                    params={n: inferred[n][1][i] for n in varying},
                    distributions=distributions,
                )
                for i in range(len(trials))
            ]
        )
        raw = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    finally:
        optuna.logging.set_verbosity(verbosity)
    result = {n: float(raw.get(n, 0.0)) for n in varying}
    total = sum(result.values())
    if total > 0:
        result = {n: v / total for n, v in result.items()}
    else:  # optuna spreads evenly when fANOVA finds nothing; keep that
        result = {n: 1.0 / len(varying) for n in varying}
    ranked = sorted(result.items(), key=lambda item: (-item[1], names.index(item[0])))
    return {**dict(ranked), **dict.fromkeys(constant, 0.0)}, ""


def parameter_importance(rows: Sequence[TrialRow], direction: str) -> dict[str, float]:
    """Importance of each tuned hyperparameter for the objective, most important first.

    Computed over this job's Completed trials with a finite objective (warm-start trials
    excluded) by Optuna's ``get_param_importances`` with ``FanovaImportanceEvaluator(seed=0)``
    on an in-memory study built from the rows. Distributions are inferred from the values seen
    (see :func:`_distribution`). A hyperparameter with a single value seen gets 0 and is left
    out of the optuna call; one missing from some completed trial is left out entirely.
    Returns {} when there are fewer than 2 such trials, no hyperparameter varies or the
    objective never varies; otherwise the values sum to 1.
    """
    return _importance(rows, direction)[0]


# -- charts ------------------------------------------------------------------------------------


def _known(row: TrialRow) -> float:
    """The objective of a row already filtered to have one."""
    value = row.value
    assert value is not None
    return value


def _utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _objective_over_time_png(
    rows: Sequence[TrialRow], objective: str, maximize: bool, best: TrialRow | None
) -> bytes | None:
    """Each completed (and stopped) trial's objective at its end time, with the best-so-far
    line over completed trials; None when there is nothing to draw."""
    own = [r for r in _sorted(rows) if not r.is_warm_start and r.value is not None]
    points = [r for r in own if r.end is not None and r.status in (COMPLETED, STOPPED)]
    if not any(r.status == COMPLETED for r in points):
        return None
    starts = [float(r.start) for r in own if r.start is not None]
    t0 = min([*starts, *(float(r.end) for r in points if r.end is not None)])

    def minutes(row: TrialRow) -> float:
        assert row.end is not None
        return (float(row.end) - t0) / 60.0

    fig = new_figure(7.5, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    done = sorted(
        (r for r in points if r.status == COMPLETED), key=lambda r: (minutes(r), r.number)
    )
    stopped = [r for r in points if r.status == STOPPED]
    ax.scatter(
        [minutes(r) for r in done], [_known(r) for r in done], s=28, color="#1f77b4",
        label="completed", zorder=3,
    )
    if stopped:
        ax.scatter(
            [minutes(r) for r in stopped], [_known(r) for r in stopped], s=40, marker="x",
            color="#d62728", label="stopped (early)", zorder=3,
        )
    xs: list[float] = []
    ys: list[float] = []
    current: float | None = None
    for row in done:
        value = _known(row)
        if current is None or (value > current if maximize else value < current):
            current = value
        xs.append(minutes(row))
        ys.append(current)
    ax.step(xs, ys, where="post", color="#2ca02c", linewidth=1.5, label="best so far")
    if best is not None and best.end is not None and best.value is not None:
        ax.scatter(
            [minutes(best)], [best.value], s=160, marker="*", color="#ff7f0e",
            edgecolors="black", linewidths=0.5, label=f"best (trial {best.number})", zorder=4,
        )
    ax.set_xlabel(f"minutes since {_utc(t0)}")
    ax.set_ylabel(plain(objective, 40))
    ax.set_title(plain(f"{objective} over time ({'maximize' if maximize else 'minimize'})", 80))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return png(fig)


@dataclass
class _Axis:
    """One vertical axis of the parallel-coordinates chart: positions in [0, 1] per trial
    (NaN when the trial lacks the value) and tick labels at positions."""

    name: str
    positions: list[float]
    ticks: list[tuple[float, str]]
    log: bool = False


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _parallel_axis(name: str, values: Sequence[Any]) -> _Axis:
    present = [v for v in values if v is not None]
    numeric = bool(present) and all(_is_number(v) and math.isfinite(float(v)) for v in present)
    if not numeric:
        labels = sorted({str(v) for v in present})
        k = len(labels)
        where = {c: (i / (k - 1) if k > 1 else 0.5) for i, c in enumerate(labels)}
        positions = [math.nan if v is None else where[str(v)] for v in values]
        return _Axis(name, positions, [(where[c], c) for c in labels])
    nums = [float(v) for v in present]
    low, high = min(nums), max(nums)
    use_log = low > 0 and high / low >= _LOG_RATIO

    def scale(x: float) -> float:
        return math.log10(x) if use_log else x

    span = scale(high) - scale(low)

    def pos(x: float) -> float:
        return 0.5 if span == 0 else (scale(x) - scale(low)) / span

    distinct = sorted(set(nums))
    if len(distinct) <= _MAX_VALUE_TICKS:
        ticks = [(pos(x), _fmt(x)) for x in distinct]
    else:
        ticks = []
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = scale(low) + frac * span
            ticks.append((frac, _fmt(10**x if use_log else x)))
    positions = [math.nan if v is None else pos(float(v)) for v in values]
    return _Axis(name, positions, ticks, use_log)


def _parallel_coordinates_png(
    rows: Sequence[TrialRow], objective: str, maximize: bool, best: TrialRow | None
) -> bytes | None:
    """One vertical axis per tuned hyperparameter plus the objective; each trial with an
    objective (completed or stopped, this job's own) is a polyline colored by objective."""
    import matplotlib
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    trials = [
        r for r in _sorted(rows)
        if not r.is_warm_start and r.value is not None and r.status in (COMPLETED, STOPPED)
    ]
    if not any(r.status == COMPLETED for r in trials):
        return None
    names = _param_names(trials)
    values = [r.value for r in trials]
    axes = [_parallel_axis(n, [r.hyperparameters.get(n) for r in trials]) for n in names]
    axes.append(_parallel_axis(objective, values))

    n_axes = len(axes)
    fig = new_figure(max(6.0, 1.7 * n_axes + 2.0), 4.8)
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["viridis" if maximize else "viridis_r"]
    nums = [v for v in values if v is not None]
    norm = Normalize(vmin=min(nums), vmax=max(nums))
    xs = list(range(n_axes))
    for i, row in enumerate(trials):
        ys = [a.positions[i] for a in axes]
        is_best = best is not None and row.number == best.number
        ax.plot(
            xs, ys, color=cmap(norm(_known(row))), alpha=1.0 if is_best else 0.75,
            linewidth=3.0 if is_best else 1.2, linestyle="--" if row.status == STOPPED else "-",
            marker="o", markersize=3, zorder=3 if is_best else 2,
        )
    for x, axis in enumerate(axes):
        ax.axvline(x, color="black", linewidth=0.8, zorder=1)
        for y, label in axis.ticks:
            ax.text(x + 0.04, y, plain(label, 14), fontsize=7, va="center", ha="left",
                    bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.5})
    ax.set_xticks(
        xs, labels=[plain(a.name + (" (log)" if a.log else ""), _LABEL_CHARS) for a in axes],
        rotation=20 if n_axes > 4 else 0, ha="right" if n_axes > 4 else "center",
    )
    ax.set_xlim(-0.2, n_axes - 1 + 0.6)
    ax.set_ylim(-0.06, 1.06)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, fraction=0.04, pad=0.02)
    bar.set_label(plain(objective, 40))
    ax.set_title(plain(f"Parallel coordinates ({len(trials)} trials; dashed: stopped)", 80))
    return png(fig)


def _importance_png(importances: dict[str, float]) -> bytes:
    items = list(importances.items())[::-1]  # most important on top
    fig = new_figure(7.0, max(2.0, 0.45 * len(items) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.barh(range(len(items)), [v for _, v in items], color="#1f77b4")
    ax.set_yticks(range(len(items)), labels=[plain(n, _LABEL_CHARS) for n, _ in items])
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.3f}", va="center", fontsize=8)
    ax.set_xlim(0.0, 1.1)
    ax.set_xlabel("importance (fANOVA, sums to 1)")
    ax.set_title("Hyperparameter importance")
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def _intermediate_png(rows: Sequence[TrialRow], objective: str) -> bytes | None:
    """The objective per step of each trial that reported intermediate values; early-stopped
    trials are dashed with an X where they ended."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    trials = [r for r in _sorted(rows) if not r.is_warm_start and r.intermediate]
    if not trials:
        return None
    fig = new_figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    labelled = len(trials) <= _MAX_LEGEND
    any_stopped = False
    for row in trials:
        series = sorted(
            (int(step), float(v)) for step, v in row.intermediate if _finite(v) is not None
        )
        if not series:
            continue
        stopped = row.status == STOPPED or row.stop_reason is not None
        any_stopped = any_stopped or stopped
        ax.plot(
            [s for s, _ in series], [v for _, v in series], linestyle="--" if stopped else "-",
            linewidth=1.2, marker="o" if len(series) <= 30 else None, markersize=2.5,
            label=f"trial {row.number}" + (" (stopped)" if stopped else "") if labelled else None,
        )
        if stopped:
            ax.scatter([series[-1][0]], [series[-1][1]], marker="X", s=70, color="#d62728",
                       edgecolors="black", linewidths=0.5, zorder=4)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step / epoch")
    ax.set_ylabel(plain(objective, 40))
    ax.set_title(plain(f"Intermediate {objective} per trial", 80))
    ax.grid(alpha=0.3)
    handles, _ = ax.get_legend_handles_labels()
    if any_stopped:
        handles.append(Line2D([], [], linestyle="none", marker="X", color="#d62728",
                              markeredgecolor="black", label="early stop"))
    if handles:
        ax.legend(handles=handles, loc="best", fontsize=7, ncol=2 if len(handles) > 10 else 1)
    return png(fig)


# -- HTML --------------------------------------------------------------------------------------


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
    return f"{value:.6g}" if _is_number(value) else str(value)


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
    maximize = _maximize(direction)
    ordered = _sorted(rows)
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
        "<h2>Summary</h2>",
        table(None, facts),
        "<h3>Trials by status</h3>",
        table(["status", "trials"], [[escape(s), str(n)] for s, n in counts.items()]),
        "<h2>Best trial</h2>",
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
    sections.append(f"<h2>{escape(objective)} over time</h2>")
    chart = _objective_over_time_png(ordered, objective, maximize, best)
    sections.append(
        image(chart, f"{objective} of each trial at its end time") if chart else note(no_completed)
    )
    if chart and warm:
        sections.append(note("Warm-start trials ran in parent jobs and are not shown."))

    sections.append("<h2>Parallel coordinates</h2>")
    chart = _parallel_coordinates_png(ordered, objective, maximize, best)
    sections.append(
        image(chart, "Parallel coordinates of hyperparameters and objective")
        if chart
        else note(no_completed)
    )

    sections.append("<h2>Hyperparameter importance</h2>")
    importances, reason = _importance(ordered, direction)
    if importances:
        sections.append(image(_importance_png(importances), "Hyperparameter importance"))
        sections.append(
            note("fANOVA importance (Optuna, seed 0) over the completed trials of this job; "
                  "a hyperparameter with a single value seen scores 0.")
        )
    else:
        sections.append(note(f"No parameter importance: {reason}."))

    sections.append("<h2>Intermediate values</h2>")
    chart = _intermediate_png(ordered, objective)
    sections.append(
        image(chart, f"Intermediate {objective} per trial")
        if chart
        else note("No trial reported intermediate objective values.")
    )

    sections.append("<h2>All trials</h2>")
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
