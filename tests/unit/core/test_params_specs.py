"""Hyperparameter declarations, job specs and the error table."""

from __future__ import annotations

import re

import pytest

from mlyard.core.kinds import spec_from_dict
from mlyard.core.params import (
    boolean,
    categorical,
    continuous,
    integer,
    parse_assignments,
    resolve_hyperparameters,
)
from mlyard.core.specs import check_job_name
from mlyard.errors import NotFoundError, ValidationError, http_status
from mlyard.training.spec import TrainingJobSpec

DECLARED = (
    integer("epochs", 5, 1, 100, tunable=True),
    continuous("lr", 0.05, 0.0001, 10.0, tunable=True, scaling="Logarithmic"),
    categorical("mode", "supervised", ["supervised", "skipgram"]),
    boolean("early_stopping", False),
)


def test_defaults_and_parsing() -> None:
    hps = resolve_hyperparameters(DECLARED, {"epochs": "10", "lr": "0.5",
                                             "early_stopping": "true"}, "algo")
    assert hps == {"epochs": 10, "lr": 0.5, "mode": "supervised", "early_stopping": True}


@pytest.mark.parametrize("given, message", [
    ({"epoch": "3"}, "unknown hyperparameter"),
    ({"epochs": "0"}, "below its minimum"),
    ({"epochs": "101"}, "above its maximum"),
    ({"epochs": "2.5"}, "not a valid integer"),
    ({"lr": "fast"}, "not a valid continuous"),
    ({"lr": "nan"}, "not a valid continuous"),
    ({"mode": "cbow"}, "not one of"),
    ({"early_stopping": "maybe"}, "not a valid boolean"),
])
def test_bad_values_are_named(given: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        resolve_hyperparameters(DECLARED, given, "algo")


def test_tuning_ranges_come_from_declarations() -> None:
    assert DECLARED[1].tuning_range() == {"type": "Continuous", "min": 0.0001, "max": 10.0,
                                          "scaling": "Logarithmic"}
    assert DECLARED[2].tuning_range() is None


def test_assignments() -> None:
    assert parse_assignments(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ValidationError, match="NAME=VALUE"):
        parse_assignments(["novalue"])


def test_job_names() -> None:
    assert check_job_name("bt-1") == "bt-1"
    for bad in ("", "-x", "a_b", "x" * 64, "a--"):
        with pytest.raises(ValidationError, match=re.escape(f"invalid job name {bad!r}")):
            check_job_name(bad)


def test_spec_roundtrip_and_errors() -> None:
    spec = TrainingJobSpec(algorithm="blazingtext", hyperparameters={"epochs": 3},
                           channels=[{"name": "train", "uri": "t.csv"}])  # type: ignore[list-item]
    assert spec_from_dict(spec.model_dump(mode="json")) == spec
    with pytest.raises(ValidationError, match="invalid job spec"):
        spec_from_dict({"kind": "nope"})
    with pytest.raises(ValueError, match="capture group"):
        TrainingJobSpec(algorithm="x", metric_definitions=[{"name": "m",  # type: ignore[list-item]
                                                            "regex": "acc"}])


def test_http_status_table() -> None:
    assert http_status(ValidationError("x")) == 400
    assert http_status(NotFoundError("x")) == 404
