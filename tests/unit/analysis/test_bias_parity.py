"""Parity with SageMaker Clarify's own code (the open-source ``smclarify`` package): random
small frames (hypothesis), the course's reviews data and its balanced 486-row set."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlyard.analysis.bias import (
    BiasAnalysisConfig,
    FacetConfig,
    post_training_bias,
    pre_training_bias,
)
from mlyard.analysis.bias.clarify_json import value_as_float

TOL = 1e-9


def clarify(frame: pd.DataFrame, label: str, label_values: list[Any], facet: str,
            facet_values: list[Any] | None, *, predicted: str | None = None,
            group: str | None = None, metrics: list[str] | None = None) -> list[dict[str, Any]]:
    """smclarify's report for one facet (categorical columns cast to object, as it needs)."""
    from smclarify.bias import report

    data = frame.copy()
    for column in data.columns:
        if isinstance(data[column].dtype, pd.CategoricalDtype) or \
                pd.api.types.is_string_dtype(data[column].dtype):
            data[column] = data[column].astype(object)
    stage = report.StageType.POST_TRAINING if predicted else report.StageType.PRE_TRAINING
    pred_col = report.LabelColumn(predicted, data[predicted]) if predicted else None
    logger = logging.getLogger("smclarify")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)   # it logs every failed metric with a traceback
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return report.bias_report(
                data, report.FacetColumn(facet, list(facet_values) if facet_values else None),
                report.LabelColumn(label, data[label], list(label_values)), stage,
                predicted_label_column=pred_col, metrics=metrics or ["all"],
                group_variable=data[group] if group else None)
    finally:
        logger.setLevel(level)


def assert_same(theirs: list[dict[str, Any]], ours: list[dict[str, Any]]) -> float:
    """Same groups, names, descriptions, errors; values within TOL. Returns the max diff."""
    assert [g["value_or_threshold"] for g in theirs] == [g["value_or_threshold"] for g in ours]
    worst = 0.0
    for tg, og in zip(theirs, ours, strict=True):
        assert [m["name"] for m in tg["metrics"]] == [m["name"] for m in og["metrics"]]
        for tm, om in zip(tg["metrics"], og["metrics"], strict=True):
            assert tm["description"] == om["description"]
            if "error" in tm:
                assert om.get("error") == tm["error"], (tg["value_or_threshold"], tm, om)
                continue
            assert "error" not in om, (tg["value_or_threshold"], tm, om)
            t, o = value_as_float(tm["value"]), value_as_float(om["value"])
            assert t is not None and o is not None
            if np.isinf(t):
                assert o == t, (tm, om)
            else:
                assert abs(t - o) <= TOL, (tg["value_or_threshold"], tm, om)
                worst = max(worst, abs(t - o))
    return worst


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(4, 40))
    facet = draw(st.lists(st.sampled_from("abcd"), min_size=n, max_size=n))
    label = draw(st.lists(st.sampled_from(["no", "yes", "maybe"]), min_size=n, max_size=n))
    pred = draw(st.lists(st.sampled_from(["no", "yes", "maybe"]), min_size=n, max_size=n))
    group = draw(st.lists(st.sampled_from(["g1", "g2", "g3"]), min_size=n, max_size=n))
    num = draw(st.lists(st.floats(0, 10, allow_nan=False).map(lambda x: round(x, 1)),
                        min_size=n, max_size=n))
    frame = pd.DataFrame({"facet": facet, "label": label, "pred": pred, "group": group,
                          "num": num})
    if draw(st.booleans()):
        frame["facet"] = frame["facet"].astype("category")
    return frame


def _cfg(label_values: list[Any], facet: FacetConfig, **kw: Any) -> BiasAnalysisConfig:
    return BiasAnalysisConfig(label="label", label_values_or_threshold=label_values,
                              facets=[facet], group_name="group", **kw)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), positive=st.sampled_from([["yes"], ["yes", "maybe"]]),
       chosen=st.sampled_from([None, ["a"], ["a", "b"]]))
def test_pre_training_matches_smclarify(frame: pd.DataFrame, positive: list[str],
                                        chosen: list[str] | None) -> None:
    present = set(frame["facet"].astype(object))
    # mlyard refuses a label value that does not occur (a typo, most likely)
    assume(len(present) >= 2 and set(positive) <= set(frame["label"]))
    assume(chosen is None or set(chosen) <= present)
    ours = pre_training_bias(frame, _cfg(positive, FacetConfig(
        name="facet", values_or_threshold=chosen)))
    theirs = clarify(frame, "label", positive, "facet", chosen, group="group")
    assert_same(theirs, ours["facets"]["facet"])
    # A numeric facet with a threshold.
    assume(0 < (frame["num"] > 5).sum() < len(frame))
    ours = pre_training_bias(frame, _cfg(positive, FacetConfig(name="num",
                                                                values_or_threshold=[5])))
    theirs = clarify(frame, "label", positive, "num", [5], group="group")
    assert_same(theirs, ours["facets"]["num"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), positive=st.sampled_from([["yes"], ["yes", "maybe"]]))
def test_post_training_matches_smclarify(frame: pd.DataFrame, positive: list[str]) -> None:
    present = set(frame["facet"].astype(object))
    # mlyard refuses a label value that does not occur (a typo, most likely)
    assume(len(present) >= 2 and set(positive) <= set(frame["label"]))
    assume(frame["pred"].isin(positive).any())   # smclarify refuses all-negative predictions
    data = frame.drop(columns=["group"]).assign(facet=frame["facet"])
    config = BiasAnalysisConfig(label="label", label_values_or_threshold=positive,
                                facets=[FacetConfig(name="facet")], pre_training_methods=None,
                                post_training_methods="all", predicted_label="pred",
                                group_name=None)
    ours = post_training_bias(data.assign(group=frame["group"]), config.model_copy(
        update={"group_name": "group", "features": ["num"]}))
    theirs = clarify(data.assign(group=frame["group"]).drop(columns=["group"]), "label",
                     positive, "facet", None, predicted="pred")
    # smclarify without a group: CDDPL is an error there; compare the rest, then CDDPL
    # separately with the group (its FT then sees the group column, which is text).
    for group in theirs:
        group["metrics"] = [m for m in group["metrics"] if m["name"] != "CDDPL"]
    for group in ours["facets"]["facet"]:
        group["metrics"] = [m for m in group["metrics"] if m["name"] != "CDDPL"]
    assert_same(theirs, ours["facets"]["facet"])
    ours = post_training_bias(frame, config.model_copy(update={
        "group_name": "group", "post_training_methods": ["CDDPL", "FT"]}))
    theirs = clarify(frame, "label", positive, "facet", None, predicted="pred",
                     group="group", metrics=["CDDPL", "FT"])
    assert_same(theirs, ours["facets"]["facet"])


def test_post_training_given_predictions_array() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"facet": rng.choice(list("pqr"), 300),
                          "label": rng.choice([0, 1], 300),
                          "x1": rng.normal(size=300), "x2": rng.normal(size=300)})
    predicted = (frame["x1"] + rng.normal(scale=0.5, size=300) > 0).astype(int).to_numpy()
    config = BiasAnalysisConfig(label="label", label_values_or_threshold=[1],
                                facets=[FacetConfig(name="facet")], pre_training_methods=None,
                                post_training_methods="all")
    ours = post_training_bias(frame, config, predicted)
    theirs = clarify(frame.assign(pred=predicted), "label", [1], "facet", None,
                     predicted="pred")
    assert_same(theirs, ours["facets"]["facet"])
    ft = [m for m in ours["facets"]["facet"][0]["metrics"] if m["name"] == "FT"]
    assert ft and isinstance(ft[0]["value"], float)


COURSE_METHODS = ["CI", "DPL", "KL", "JS", "LP", "TVD", "KS"]


def _course_config() -> BiasAnalysisConfig:
    return BiasAnalysisConfig(label="sentiment", label_values_or_threshold=["1"],
                              facets=[FacetConfig(name="product_category")],
                              pre_training_methods=COURSE_METHODS)


def test_course_reviews_parity(course_reviews: pd.DataFrame) -> None:
    frame = course_reviews
    assert len(frame) == 22626
    ours = pre_training_bias(frame[["sentiment", "product_category"]], _course_config())
    groups = ours["facets"]["product_category"]
    assert len(groups) == 18
    assert ours["label_value_or_threshold"] == "1"
    theirs = clarify(frame[["sentiment", "product_category"]], "sentiment", [1],
                     "product_category", None, metrics=COURSE_METHODS)
    assert_same(theirs, groups)
    blouses = next(g for g in groups if g["value_or_threshold"] == "Blouses")
    ci = next(m for m in blouses["metrics"] if m["name"] == "CI")
    assert abs(ci["value"] - 0.7363210465835764) <= 1e-12


def test_course_balanced_set(course_reviews: pd.DataFrame) -> None:
    frame = course_reviews
    balanced = frame.groupby(["product_category", "sentiment"]).sample(n=9, random_state=0)
    assert len(balanced) == 486
    ours = pre_training_bias(balanced, _course_config())
    for group in ours["facets"]["product_category"]:
        values = {m["name"]: m["value"] for m in group["metrics"]}
        assert values["CI"] == pytest.approx(8 / 9, abs=1e-12), group["value_or_threshold"]
        assert round(values["CI"], 4) == 0.8889
        for name in ("DPL", "KL", "JS", "LP", "TVD", "KS"):
            assert values[name] == pytest.approx(0.0, abs=1e-12), (name, group)
