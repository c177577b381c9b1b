"""Kernel SHAP over tabular features: additivity, the planted feature, baselines,
aggregation, batching and de-duplication."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.explain import ExplainAnalysisConfig, explain_tabular
from mlyard.analysis.explain.common import aggregate
from mlyard.analysis.explain.tabular import default_baseline
from tests.unit.analysis.explain_models import SklearnModel, tabular_data, tabular_model

FEATURES = ["x0", "x1", "x2", "x3"]


def frame(n: int = 40) -> pd.DataFrame:
    X, y = tabular_data(n, seed=5)
    out = pd.DataFrame(X, columns=FEATURES)
    out["y"] = y
    return out


def test_additivity_and_planted_feature_ranks_first() -> None:
    model = tabular_model()
    data = frame()
    exp = explain_tabular(data, model, ExplainAnalysisConfig(label="y"))
    assert exp.features == FEATURES and exp.outputs == ["0", "1"]
    assert exp.values.shape == (40, 4, 2)
    proba = model.clf.predict_proba(data[FEATURES].to_numpy())
    np.testing.assert_allclose(exp.predictions, proba, rtol=1e-9)
    # local accuracy: SHAP values sum to the prediction minus the expected value
    np.testing.assert_allclose(exp.values.sum(axis=1) + exp.expected_value, proba, atol=1e-6)
    glob = exp.global_values(1)
    assert next(iter(glob)) == "x0"
    assert glob["x0"] > 3 * glob["x1"] > 0
    # two complementary probabilities: opposite SHAP values
    np.testing.assert_allclose(exp.values[:, :, 0], -exp.values[:, :, 1], atol=1e-6)


def test_baseline_row_gives_the_expected_value_and_logit_space() -> None:
    model = tabular_model()
    data = frame(10)
    base = [[0.0, 0.0, 0.0, 0.0]]
    exp = explain_tabular(data, model, ExplainAnalysisConfig(label="y", baseline=base,
                                                              use_logit=True))
    p0 = model.clf.predict_proba(np.zeros((1, 4)))[0]
    np.testing.assert_allclose(exp.expected_value, np.log(p0 / (1 - p0)), atol=1e-9)
    # in log-odds a logistic regression is additive: x0's value is its coefficient term
    coef = model.clf.coef_[0]
    x = data[FEATURES].to_numpy()
    np.testing.assert_allclose(exp.values[:, 0, 1], coef[0] * x[:, 0], atol=1e-5)


def test_batches_are_large_and_rows_deduplicated() -> None:
    model = tabular_model()
    data = frame(6)
    # a baseline of 8 identical rows: Kernel SHAP asks for every synthetic row 8 times
    config = ExplainAnalysisConfig(label="y", baseline=[[0.0] * 4] * 8, batch_size=64)
    exp = explain_tabular(data, model, config)
    assert max(model.calls) <= 64
    assert exp.inputs_requested >= 8 * exp.model_rows / 2
    assert exp.model_rows < exp.inputs_requested
    assert sum(model.calls) == exp.model_rows
    # one call per record's synthetic rows plus one for the records themselves; the only
    # single-row call is shap's set-up on the (de-duplicated) baseline
    assert model.calls.count(1) == 1
    assert len(model.calls) <= 1 + 1 + len(data) * 2


def test_aggregations_and_default_baseline() -> None:
    v = np.array([-2.0, 1.0, 3.0])
    assert aggregate(v, "mean_abs") == pytest.approx(2.0)
    assert aggregate(v, "median") == pytest.approx(1.0)
    assert aggregate(v, "mean_sq") == pytest.approx(14 / 3)
    data = frame(200)
    summary = default_baseline(data, FEATURES, seed=0)
    assert summary.data.shape == (10, 4)  # shap's k-means summary
    mixed = pd.DataFrame({"a": [1.0, 2.0, 9.0], "b": ["u", "v", "v"]})
    row = default_baseline(mixed, ["a", "b"], seed=0)
    assert row.tolist() == [[2.0, "v"]]


def test_sampling_is_seeded() -> None:
    model = tabular_model()
    data = frame(40)
    a = explain_tabular(data, model, ExplainAnalysisConfig(label="y", max_records=5, seed=3))
    b = explain_tabular(data, model, ExplainAnalysisConfig(label="y", max_records=5, seed=3))
    assert a.index == b.index and len(a.index) == 5 and a.index == sorted(a.index)
    np.testing.assert_allclose(a.values, b.values)


class MixedModel(SklearnModel):
    """p(1) = sigmoid(x + 2 * [color == "red"]): takes rows of a number and a string."""

    def __init__(self) -> None:
        super().__init__(None, ["0", "1"])

    def predict_proba(self, instances):  # type: ignore[no-untyped-def]
        self.calls.append(len(instances))
        z = np.array([float(x) + 2.0 * (c == "red") for x, c in instances])
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])


def test_non_numeric_features_with_a_model_that_takes_them() -> None:
    data = pd.DataFrame({"x": [0.5, -1.0, 2.0, 0.0, 1.0],
                         "color": pd.array(["red", "blue", "blue", "red", "red"], dtype="str")})
    model = MixedModel()
    exp = explain_tabular(data, model, ExplainAnalysisConfig())
    assert exp.features == ["x", "color"]
    np.testing.assert_allclose(exp.values.sum(axis=1) + exp.expected_value, exp.predictions,
                               atol=1e-6)
    # the baseline is the median x (0.5) and the mode colour (red): blue records lose
    blue = data["color"] == "blue"
    assert (exp.values[blue.to_numpy(), 1, 1] < 0).all()
    assert np.allclose(exp.values[~blue.to_numpy(), 1, 1], 0.0)
