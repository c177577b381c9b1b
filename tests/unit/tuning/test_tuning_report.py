"""Unit tests of mlyard.tuning.report: analytics frame, best trial, importance, HTML report."""

from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlyard.errors import ValidationError
from mlyard.tuning.report import (
    FRAME_COLUMNS,
    TrialRow,
    analytics_frame,
    best_trial,
    parameter_importance,
    status_counts,
    write_report,
)
from mlyard.tuning.report.charts import parallel_axis
from mlyard.tuning.report.importance import infer_distribution

T0 = 1_790_000_000.0
PARAMS = ["learning_rate", "word_ngrams", "vector_dim", "mode"]
IMG = "<img src='data:image/png;base64,"
FAILED = {3, 8}
STOPPED = 5
WARM_JOB = "parent-tuning-job-007"


def _accuracy(lr: float) -> float:
    """Peaks at lr = 10**-2.5; depends on nothing else."""
    return round(0.95 - 0.2 * abs(math.log10(lr) + 2.5), 6)


def _row(number: int, **changes: Any) -> TrialRow:
    order = [7, 2, 10, 0, 5, 11, 3, 8, 1, 9, 4, 6]  # learning rates not in time order
    lr = 10 ** (-4 + 3 * order[number % 12] / 11)
    hps: dict[str, Any] = {
        "learning_rate": lr,
        "word_ngrams": (number // 4) % 3 + 1,
        "vector_dim": [50, 100, 200][(number * 2 + number // 3) % 3],
        "mode": ["skipgram", "cbow", "batch_skipgram"][number % 3],
    }
    start = T0 + 60.0 * number
    fields: dict[str, Any] = {
        "number": number,
        "training_job": f"tune-job-{number:03d}-abc",
        "status": "Completed",
        "hyperparameters": hps,
        "objective": _accuracy(lr),
        "start": start,
        "end": start + 100.0 + 10 * number,
        "intermediate": [(e, _accuracy(lr) - 0.05 * (4 - e)) for e in range(1, 5)],
        "stop_reason": None,
    }
    fields.update(changes)
    return TrialRow(**fields)


def make_rows() -> list[TrialRow]:
    """12 own trials (2 Failed, 1 Stopped early with 2 epochs) plus 1 warm-start trial whose
    objective beats every own trial; shuffled."""
    rows: list[TrialRow] = []
    for n in range(12):
        if n in FAILED:
            rows.append(_row(n, status="Failed", objective=None, intermediate=[]))
        elif n == STOPPED:
            base = _row(n)
            rows.append(
                _row(
                    n,
                    status="Stopped",
                    objective=0.5,
                    intermediate=[(1, 0.42), (2, 0.5)],
                    stop_reason="early stopping: objective below the median at epoch 2",
                    end=(base.start or 0.0) + 40.0,
                )
            )
        else:
            rows.append(_row(n))
    rows.append(
        _row(
            12,
            objective=0.999,
            source=f"warm-start:{WARM_JOB}",
            training_job="parent-job-trial-4",
            start=T0 - 10_000.0,
            end=T0 - 9_000.0,
        )
    )
    random.Random(7).shuffle(rows)
    return rows


def _own_completed(rows: list[TrialRow]) -> list[TrialRow]:
    return [r for r in rows if r.status == "Completed" and r.source == "own"]


# -- analytics frame ---------------------------------------------------------------------------


def test_frame_columns_dtypes_and_order() -> None:
    rows = make_rows()
    frame = analytics_frame(rows)
    assert list(frame.columns) == [*PARAMS, *FRAME_COLUMNS]
    assert list(frame["TrialNumber"]) == list(range(13))
    assert len(frame) == 13
    assert frame["learning_rate"].dtype == "float64"
    assert frame["word_ngrams"].dtype == "int64"
    assert frame["vector_dim"].dtype == "int64"
    assert pd.api.types.is_string_dtype(frame["mode"])
    assert frame["FinalObjectiveValue"].dtype == "float64"
    assert frame["TrainingElapsedTimeSeconds"].dtype == "float64"
    assert frame["TrialNumber"].dtype == "int64"
    for column in ("TrainingStartTime", "TrainingEndTime"):
        dtype = frame[column].dtype
        assert isinstance(dtype, pd.DatetimeTZDtype)
        assert str(dtype.tz) == "UTC"

    first = frame.iloc[0]
    assert first["TrainingJobName"] == "tune-job-000-abc"
    assert first["TrainingJobStatus"] == "Completed"
    assert first["TrainingStartTime"] == pd.Timestamp(T0, unit="s", tz="UTC")
    assert first["TrainingElapsedTimeSeconds"] == pytest.approx(100.0)
    assert first["Source"] == "own"
    assert frame.loc[3, "TrainingJobStatus"] == "Failed"
    assert frame["FinalObjectiveValue"].isna().tolist() == [n in FAILED for n in range(13)]
    assert str(frame.loc[STOPPED, "StopReason"]).startswith("early stopping")
    assert frame.loc[STOPPED, "TrainingElapsedTimeSeconds"] == pytest.approx(40.0)
    assert frame.loc[12, "Source"] == f"warm-start:{WARM_JOB}"


def test_frame_missing_values_and_empty() -> None:
    rows = [
        _row(0, start=None, end=None),
        TrialRow(1, "job-1", "Pending", {"learning_rate": 0.1}, None, None, None),
    ]
    frame = analytics_frame(rows)
    assert frame["TrainingStartTime"].isna().tolist() == [True, True]
    assert frame["TrainingElapsedTimeSeconds"].isna().tolist() == [True, True]
    assert frame["word_ngrams"].isna().tolist() == [False, True]  # a missing hyperparameter
    assert frame["word_ngrams"].dtype == "float64"

    empty = analytics_frame([])
    assert list(empty.columns) == list(FRAME_COLUMNS)
    assert len(empty) == 0
    assert isinstance(empty["TrainingEndTime"].dtype, pd.DatetimeTZDtype)


# -- best trial --------------------------------------------------------------------------------


def test_best_trial_maximize_and_minimize() -> None:
    rows = make_rows()
    completed = _own_completed(rows)
    best_max = best_trial(rows, "Maximize")
    best_min = best_trial(rows, "Minimize")
    assert best_max is not None and best_min is not None
    assert best_max.objective == max(r.objective or 0.0 for r in completed)
    assert best_min.objective == min(r.objective or 0.0 for r in completed)
    assert best_max.source == "own"  # the warm-start row (0.999) belongs to its parent
    assert best_min.number != STOPPED  # the stopped trial's 0.5 is lower, but not a candidate
    assert best_trial(rows, "maximize") == best_max


def test_best_trial_excludes_failed_warm_start_and_breaks_ties_early() -> None:
    rows = [
        _row(0, objective=0.7),
        _row(1, status="Failed", objective=0.99),
        _row(2, objective=0.8),
        _row(3, objective=0.8),
        _row(4, objective=0.95, source="warm-start:parent"),
        _row(5, objective=0.1, source="warm-start:parent"),
        _row(6, objective=float("nan")),
    ]
    best = best_trial(rows, "Maximize")
    assert best is not None and best.number == 2
    worst = best_trial(rows, "Minimize")
    assert worst is not None and worst.number == 0
    assert best_trial([], "Maximize") is None
    assert best_trial([_row(0, status="Failed", objective=None)], "Minimize") is None
    with pytest.raises(ValidationError, match="must be Maximize or Minimize, not 'sideways'"):
        best_trial(rows, "sideways")


# -- importance --------------------------------------------------------------------------------


def test_importance_ranks_learning_rate_first() -> None:
    rows = make_rows()
    importance = parameter_importance(rows, "Maximize")
    assert set(importance) == set(PARAMS)
    assert sum(importance.values()) == pytest.approx(1.0)
    assert next(iter(importance)) == "learning_rate"
    assert importance["learning_rate"] == max(importance.values())
    assert importance["learning_rate"] > 0.5
    assert all(v >= 0 for v in importance.values())
    # deterministic, and neither the direction nor warm-start rows change it
    assert parameter_importance(rows, "Maximize") == importance
    assert parameter_importance(rows, "Minimize") == pytest.approx(importance)
    own = [r for r in rows if r.source == "own"]
    assert parameter_importance(own, "Maximize") == importance


def test_importance_edge_cases() -> None:
    assert parameter_importance([], "Maximize") == {}
    assert parameter_importance([_row(0)], "Maximize") == {}
    assert parameter_importance([_row(0, status="Failed"), _row(1)], "Maximize") == {}
    # two completed trials with identical hyperparameters: nothing varies
    same = _row(0).hyperparameters
    assert parameter_importance([_row(0), _row(1, hyperparameters=same)], "Maximize") == {}
    # the objective never varies
    flat = [_row(n, objective=0.5) for n in range(6)]
    assert parameter_importance(flat, "Maximize") == {}


def test_importance_single_valued_parameter_scores_zero() -> None:
    rows = make_rows()
    with_epochs = [
        dataclasses.replace(r, hyperparameters={**r.hyperparameters, "epochs": 5}) for r in rows
    ]
    importance = parameter_importance(with_epochs, "Maximize")
    assert importance["epochs"] == 0.0
    assert list(importance)[-1] == "epochs"
    assert sum(importance.values()) == pytest.approx(1.0)
    # left out of the optuna call: the other importances are unchanged
    assert {k: v for k, v in importance.items() if k != "epochs"} == parameter_importance(
        rows, "Maximize"
    )


def test_importance_with_a_boolean_parameter() -> None:
    rows = [
        dataclasses.replace(r, hyperparameters={**r.hyperparameters, "flag": r.number % 2 == 0})
        for r in make_rows()
    ]
    importance = parameter_importance(rows, "Minimize")
    assert set(importance) == {*PARAMS, "flag"}
    assert sum(importance.values()) == pytest.approx(1.0)


def test_distribution_inference() -> None:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    dist, values = infer_distribution([1e-4, 1e-3, 0.1])
    assert isinstance(dist, FloatDistribution) and dist.log
    assert (dist.low, dist.high) == (1e-4, 0.1)
    dist, values = infer_distribution([0.2, 0.5, 1])
    assert isinstance(dist, FloatDistribution) and not dist.log
    assert values == [0.2, 0.5, 1.0]
    dist, _ = infer_distribution([1, 3, 2])
    assert isinstance(dist, IntDistribution) and (dist.low, dist.high) == (1, 3)
    dist, _ = infer_distribution([50, 100, 5000])
    assert isinstance(dist, IntDistribution) and dist.log
    dist, _ = infer_distribution(["cbow", "skipgram", "cbow"])
    assert isinstance(dist, CategoricalDistribution)
    assert dist.choices == ("cbow", "skipgram")
    dist, _ = infer_distribution([True, False])
    assert isinstance(dist, CategoricalDistribution)


def test_parallel_axis_scales() -> None:
    log_axis = parallel_axis("lr", [1e-4, 1e-2, None])
    assert log_axis.log
    assert log_axis.positions[:2] == [0.0, 1.0]
    assert math.isnan(log_axis.positions[2])
    linear = parallel_axis("dim", [50, 100, 200])
    assert not linear.log
    assert linear.positions == pytest.approx([0.0, 1 / 3, 1.0])
    categorical = parallel_axis("mode", ["b", "a", "c", "a"])
    assert categorical.positions == [0.5, 0.0, 1.0, 0.0]
    assert [label for _, label in categorical.ticks] == ["a", "b", "c"]
    assert parallel_axis("one", [7, 7]).positions == [0.5, 0.5]


# -- status counts -----------------------------------------------------------------------------


def test_status_counts() -> None:
    rows = make_rows()
    counts = status_counts(rows)
    assert counts == {"Pending": 0, "InProgress": 0, "Completed": 9, "Failed": 2, "Stopped": 1}
    assert list(counts) == ["Pending", "InProgress", "Completed", "Failed", "Stopped"]
    assert status_counts(rows, include_warm_start=True)["Completed"] == 10
    assert status_counts([]) == dict.fromkeys(counts, 0)
    assert status_counts([_row(0, status="Weird")])["Weird"] == 1


# -- HTML report -------------------------------------------------------------------------------


def test_write_report(tmp_path: Path) -> None:
    rows = make_rows()
    best = best_trial(rows, "Maximize")
    assert best is not None
    path = write_report(
        rows,
        tmp_path / "out" / "report.html",
        title="Tuning <job> & report",
        objective="validation:accuracy",
        direction="Maximize",
    )
    assert path == tmp_path / "out" / "report.html"
    assert path.is_file()
    text = path.read_text(encoding="utf-8")
    assert "Tuning &lt;job&gt; &amp; report" in text
    assert "<job>" not in text
    assert best.training_job in text
    assert text.count(IMG) >= 4
    assert "importance" in text.lower()
    assert "validation:accuracy" in text
    assert "total trial-seconds" in text
    assert "parent-job-trial-4" in text  # the table lists warm-start trials too
    assert "early stopping" in text
    assert "http://" not in text and "https://" not in text  # self-contained


def test_report_minimize_with_many_trials(tmp_path: Path) -> None:
    rows = [_row(n) for n in range(30)]
    text = write_report(
        rows, tmp_path / "r.html", title="t", objective="loss", direction="Minimize"
    ).read_text(encoding="utf-8")
    assert text.count(IMG) == 4


@pytest.mark.parametrize(
    "rows",
    [
        [],
        [_row(0, status="Failed", objective=None), _row(1, status="InProgress", end=None)],
        [_row(0, status="Stopped", objective=0.3, stop_reason="early stopping: median")],
    ],
    ids=["no-rows", "no-completed", "only-stopped"],
)
def test_report_without_completed_trials(tmp_path: Path, rows: list[TrialRow]) -> None:
    path = write_report(
        rows, tmp_path / "r.html", title="Empty job", objective="acc", direction="Maximize"
    )
    text = path.read_text(encoding="utf-8")
    assert "Empty job" in text
    assert "No completed trial" in text
    assert "No parameter importance" in text
    assert text.count(IMG) <= 1  # at most the intermediate-values chart


def test_report_one_completed_trial(tmp_path: Path) -> None:
    rows = [_row(0), _row(1, status="Failed", objective=None, intermediate=[])]
    text = write_report(
        rows, tmp_path / "r.html", title="One", objective="acc", direction="Maximize"
    ).read_text(encoding="utf-8")
    assert "tune-job-000-abc" in text
    assert text.count(IMG) == 3  # over time, parallel coordinates, intermediate values
    assert "at least 2 completed trials" in text


def test_report_single_valued_parameter_and_no_hyperparameters(tmp_path: Path) -> None:
    rows = [
        _row(n, hyperparameters={"lr": 10 ** -(n % 4 + 1), "dim": 100}, intermediate=[])
        for n in range(6)
    ]
    text = write_report(
        rows, tmp_path / "a.html", title="Single", objective="acc", direction="Maximize"
    ).read_text(encoding="utf-8")
    assert text.count(IMG) == 3  # no intermediate values
    assert "No trial reported intermediate" in text

    bare = [_row(n, hyperparameters={}) for n in range(3)]
    text = write_report(
        bare, tmp_path / "b.html", title="Bare", objective="acc", direction="Maximize"
    ).read_text(encoding="utf-8")
    assert "No parameter importance" in text
