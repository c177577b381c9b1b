"""Progress lines within an epoch: due every N seconds, with steps, rate and ETA that count
only this run's steps (a resumed job does not report an inflated rate)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlyard.training.progress import StepProgress, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_interval_with_rate_and_eta() -> None:
    clock = Clock()
    progress = StepProgress(100, every_seconds=10.0, clock=clock)
    lines = []
    for step in range(1, 101):
        clock.now += 1.0  # one step a second, 8 samples a step
        lines.append(progress.update(step, 8))
    shown = [line for line in lines if line is not None]
    assert len(shown) == 10
    assert shown[0] == "step 10/100 (10%) 8.0 samples/s elapsed 10s eta 1m30s"
    assert shown[-1].startswith("step 100/100 (100%)") and shown[-1].endswith("eta 0s")


def test_a_resumed_run_counts_its_own_steps() -> None:
    clock = Clock()
    progress = StepProgress(100, start_step=50, every_seconds=10.0, clock=clock)
    line = None
    for step in range(51, 56):
        clock.now += 2.0
        line = progress.update(step, 4) or line
    assert line == "step 55/100 (55%) 2.0 samples/s elapsed 10s eta 1m30s"


def test_no_eta_before_a_step() -> None:
    progress = StepProgress(10, start_step=3, clock=Clock())
    assert progress.line(3).endswith("eta ?")


def test_total_steps_must_be_positive() -> None:
    with pytest.raises(ValueError, match="total_steps"):
        StepProgress(0)


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0s"),
        (59.4, "59s"),
        (60, "1m00s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (7620, "2h07m"),
        (-3, "0s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_format_duration_is_short(seconds: float) -> None:
    assert 2 <= len(format_duration(seconds)) <= 8
