"""``HyperparameterTuner`` accepts its choices in any case (as the CLI does) and shows them in
SageMaker's casing; an unknown choice is a ValidationError listing the allowed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.sdk.estimator import Estimator
from mlyard.sdk.tuner import ContinuousParameter, HyperparameterTuner


def _tuner(ws: Workspace, **kw: str) -> HyperparameterTuner:
    est = Estimator("blazingtext", workspace=ws)
    return HyperparameterTuner(
        est,
        "validation:accuracy",
        {"learning_rate": ContinuousParameter(min_value=0.01, max_value=0.1)},
        **kw,
    )


def test_choices_in_any_case(ws: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "t.txt"
    data.write_text("__label__a good\n")
    spec = _tuner(
        ws, strategy="hyperband", objective_type="MINIMIZE", early_stopping_type="auto"
    ).spec({"train": str(data)})
    assert (spec.strategy, spec.objective.type, spec.early_stopping) == (
        "Hyperband",
        "Minimize",
        "Auto",
    )


@pytest.mark.parametrize(
    "kw, allowed",
    [
        ({"strategy": "annealing"}, "Random, Grid, Bayesian, Hyperband"),
        ({"objective_type": "up"}, "Maximize, Minimize"),
        ({"early_stopping_type": "sometimes"}, "Off, Auto"),
    ],
)
def test_unknown_choice_names_the_allowed_ones(
    ws: Workspace, kw: dict[str, str], allowed: str
) -> None:
    with pytest.raises(ValidationError, match=allowed):
        _tuner(ws, **kw)
