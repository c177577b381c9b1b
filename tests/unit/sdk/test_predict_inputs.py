"""What ``Model.predict`` and ``Predictor.predict`` take: a string is one instance."""

from __future__ import annotations

from typing import Any

import pytest

from mlyard.errors import ValidationError
from mlyard.sdk.endpoints import Predictor
from mlyard.sdk.model import Model


class _Loaded:
    """A loaded model that answers one prediction per instance it got."""

    def __init__(self) -> None:
        self.seen: list[list[Any]] = []

    def predict(self, instances: list[Any], top_k: int = 1) -> list[dict[str, Any]]:
        self.seen.append(instances)
        return [{"label": ["x"], "prob": [1.0]} for _ in instances]


def _model() -> tuple[Model, _Loaded]:
    model = Model.__new__(Model)
    loaded = _Loaded()
    model.__dict__["loaded"] = loaded  # the cached property, without a workspace
    return model, loaded


def test_a_string_is_one_instance() -> None:
    model, loaded = _model()
    assert len(model.predict("I love this dress")) == 1
    assert loaded.seen == [["I love this dress"]]


def test_a_dict_is_one_instance_and_lists_are_many() -> None:
    model, loaded = _model()
    assert len(model.predict({"text": "fine"})) == 1
    assert len(model.predict(["a", "b", "c"])) == 3
    assert len(model.predict(("a", "b"))) == 2
    assert loaded.seen == [[{"text": "fine"}], ["a", "b", "c"], ["a", "b"]]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"bytes", "not bytes"),
        (42, "not int"),
        (None, "not NoneType"),
    ],
)
def test_other_inputs_are_refused(value: Any, message: str) -> None:
    model, loaded = _model()
    with pytest.raises(ValidationError, match=message):
        model.predict(value)
    assert loaded.seen == []


class _Client:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def invoke(self, name: str, body: Any, **kw: Any) -> tuple[bytes, dict[str, str]]:
        self.bodies.append(body)
        return b'{"predictions": []}', {}


@pytest.mark.parametrize(
    ("data", "content_type", "sent"),
    [
        ("I love it", "application/json", {"instances": ["I love it"]}),
        (["a", "b"], "application/json", {"instances": ["a", "b"]}),
        (("a",), "application/json", {"instances": ["a"]}),
        ({"instances": ["a"]}, "application/json", {"instances": ["a"]}),
        (b'{"instances": ["a"]}', "application/json", b'{"instances": ["a"]}'),
        ("a,b\n", "text/csv", "a,b\n"),
    ],
)
def test_predictor_sends_a_string_as_one_instance(data: Any, content_type: str, sent: Any) -> None:
    client = _Client()
    Predictor("ep", client=client).predict(data, content_type=content_type)  # type: ignore[arg-type]
    assert client.bodies == [sent]


def test_the_tuner_names_a_range_that_is_not_one() -> None:
    import mlyard

    est = mlyard.Estimator("blazingtext")
    with pytest.raises(
        ValidationError,
        match=r"hyperparameter range 'epochs': must be a "
        r"ContinuousParameter.*not int",
    ):
        mlyard.HyperparameterTuner(est, "validation:accuracy", {"epochs": 3})  # type: ignore[dict-item]


def test_the_tuner_names_a_bad_warm_start_field() -> None:
    import mlyard

    est = mlyard.Estimator("blazingtext")
    with pytest.raises(ValidationError, match=r"^warm_start_config: \w+: ") as info:
        mlyard.HyperparameterTuner(
            est, "validation:accuracy", {"epochs": mlyard.IntegerParameter(1, 3)},
            warm_start_config={"parents": ["t-1"], "type": "Nope"})
    assert "\n" not in str(info.value)
