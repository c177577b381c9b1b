"""Each bias metric on small hand-computed cases, the edge cases Clarify writes as errors
or infinities, thresholds, and the parsing of method lists."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mlyard.analysis.bias import (
    BiasAnalysisConfig,
    FacetConfig,
    post_training_bias,
    pre_training_bias,
    split_methods,
)
from mlyard.analysis.bias.counts import count_table
from mlyard.analysis.bias.methods import resolve
from mlyard.errors import ValidationError

# Facet x: 4 rows, labels 1,1,0,0 (2 positive); facet y: 6 rows, labels 1,1,1,1,1,0.
# (Text labels: Clarify's rule makes a small integer column, or text of integers, with >= 5%
# distinct values continuous, where [1] would be a threshold.)
FRAME = pd.DataFrame({
    "f": ["x", "x", "x", "x", "y", "y", "y", "y", "y", "y"],
    "label": [1, 1, 0, 0, 1, 1, 1, 1, 1, 0],
    "g": ["A", "B", "A", "B", "A", "A", "B", "B", "B", "A"],
    "pred": [1, 0, 1, 0, 1, 1, 1, 1, 0, 0],
}).replace({"label": {1: "yes", 0: "no"}, "pred": {1: "yes", 0: "no"}})


def _config(**kw: object) -> BiasAnalysisConfig:
    base: dict[str, object] = {"label": "label", "label_values_or_threshold": ["yes"],
                               "facets": [FacetConfig(name="f")]}
    base.update(kw)
    return BiasAnalysisConfig.model_validate(base)


def _values(section: dict, facet: str = "f", value: str = "x") -> dict[str, object]:
    group = next(g for g in section["facets"][facet] if g["value_or_threshold"] == value)
    return {m["name"]: (m["value"] if "error" not in m else ("error", m["error"]))
            for m in group["metrics"]}


def test_pre_training_metrics_by_hand() -> None:
    v = _values(pre_training_bias(FRAME, _config(group_name="g")))
    # CI = (n_a - n_d) / n = (6 - 4) / 10
    assert v["CI"] == pytest.approx(0.2, abs=1e-15)
    # DPL = q_a - q_d = 5/6 - 2/4
    assert v["DPL"] == pytest.approx(5 / 6 - 2 / 4, abs=1e-15)
    # Pa = [1/6, 5/6] (rest: negative, positive), Pd = [1/2, 1/2]
    kl = 1 / 6 * math.log((1 / 6) / (1 / 2)) + 5 / 6 * math.log((5 / 6) / (1 / 2))
    assert v["KL"] == pytest.approx(kl, abs=1e-15)
    # P = (Pa + Pd) / 2 = [1/3, 2/3]
    js = 0.5 * (1 / 6 * math.log(0.5) + 5 / 6 * math.log((5 / 6) / (2 / 3))
                + 0.5 * math.log(0.5 / (1 / 3)) + 0.5 * math.log(0.5 / (2 / 3)))
    assert v["JS"] == pytest.approx(js, abs=1e-15)
    # |Pa - Pd| = [1/3, 1/3]: L2 sqrt(2)/3, TVD (1/3 + 1/3)/2, KS max 1/3
    assert v["LP"] == pytest.approx(math.sqrt(2) / 3, abs=1e-15)
    assert v["TVD"] == pytest.approx(1 / 3, abs=1e-15)
    assert v["KS"] == pytest.approx(1 / 3, abs=1e-15)
    # Subgroup A (5 rows): x has 1 of the 3 positives, 1 of the 2 negatives: 1/2 - 1/3.
    # Subgroup B (5 rows): x has 1 of the 4 positives, 1 of the 1 negative: 1 - 1/4.
    # CDDL = (5 * 1/6 + 5 * 3/4) / 10 = 11/24
    assert v["CDDL"] == pytest.approx(11 / 24, abs=1e-15)


def test_pre_training_section_schema_and_order() -> None:
    section = pre_training_bias(FRAME, _config())
    assert section["label"] == "label"
    assert section["label_value_or_threshold"] == "yes"
    assert [g["value_or_threshold"] for g in section["facets"]["f"]] == ["x", "y"]
    names = [m["name"] for m in section["facets"]["f"][0]["metrics"]]
    assert names == sorted(["CI", "DPL", "KL", "JS", "LP", "TVD", "KS", "CDDL"])
    first = section["facets"]["f"][0]["metrics"][1]
    assert first == {"name": "CI", "description": "Class Imbalance (CI)", "value": 0.2}
    # Without a group column CDDL is Clarify's error entry.
    cddl = section["facets"]["f"][0]["metrics"][0]
    assert cddl["value"] is None and cddl["error"] == "Group variable is empty or not provided"
    # y against the rest mirrors x: CI -0.2
    assert _values(section, value="y")["CI"] == pytest.approx(-0.2)


def test_post_training_metrics_by_hand() -> None:
    # x: TP=1 FN=1 FP=1 TN=1; y: TP=4 FN=1 FP=0 TN=1
    config = _config(group_name="g", pre_training_methods=None, post_training_methods="all",
                     predicted_label="pred")
    v = _values(post_training_bias(FRAME, config))
    assert v["DPPL"] == pytest.approx(4 / 6 - 2 / 4, abs=1e-15)      # q_a - q_d predicted
    assert v["DI"] == pytest.approx((2 / 4) / (4 / 6), abs=1e-15)    # q_d / q_a
    assert v["DCA"] == pytest.approx(5 / 4 - 2 / 2, abs=1e-15)       # (TP+FN)/(TP+FP) a - d
    assert v["DCR"] == pytest.approx(2 / 2 - 1 / 2, abs=1e-15)       # (TN+FP)/(TN+FN) d - a
    assert v["RD"] == pytest.approx(4 / 5 - 1 / 2, abs=1e-15)        # recall a - d
    assert v["SD"] == pytest.approx(1 / 2 - 1 / 1, abs=1e-15)        # specificity d - a
    assert v["DAR"] == pytest.approx(4 / 4 - 1 / 2, abs=1e-15)       # precision a - d
    assert v["DRR"] == pytest.approx(1 / 2 - 1 / 2, abs=1e-15)       # TN/(TN+FN) d - a
    assert v["AD"] == pytest.approx(5 / 6 - 2 / 4, abs=1e-15)        # accuracy a - d
    # TE = FN_d/FP_d - FN_a/FP_a = 1 - 1/0: Clarify writes -infinity as a string
    assert v["TE"] == "-Infinity"
    # benefit = pred - label + 1 over all rows: two 0s, seven 1s, one 2; mean 0.9
    ge = (2 * -1 + 7 * (1 / 0.81 - 1) + (4 / 0.81 - 1)) / (10 * 2)
    assert v["GE"] == pytest.approx(ge, abs=1e-12)
    # Subgroup A: x has 2 of the 4 predicted positives, 0 of the 1 predicted negative: 0 - 1/2
    # Subgroup B: x has 0 of the 2 predicted positives, 2 of the 3 predicted negatives: 2/3
    # CDDPL = (5 * -1/2 + 5 * 2/3) / 10 = 1/12
    assert v["CDDPL"] == pytest.approx(1 / 12, abs=1e-15)
    # FT: the group column is text, and FlipTest takes numeric features only
    assert v["FT"] == ("error", "FlipTest does not support non-numeric columns")


def test_flip_test_by_hand() -> None:
    # Rest y: z 0,1,2,3,10,11 predicted 1,1,1,1,0,0 (6 rows <= 9: one neighbour).
    # Group x: z 0.1,10.1,2.1,11.1 predicted 1,1,1,0; neighbours say 1,0,1,0:
    # one positive flip (10.1), no negative flip: FT = 1/4.
    frame = pd.DataFrame({"f": ["y"] * 6 + ["x"] * 4,
                          "z": [0, 1, 2, 3, 10, 11, 0.1, 10.1, 2.1, 11.1],
                          "label": list("YYNYNNYYYN"), "pred": list("YYYYNNYYYN")})
    config = _config(post_training_methods=["FT"], predicted_label="pred",
                     label_values_or_threshold=["Y"])
    assert _values(post_training_bias(frame, config))["FT"] == pytest.approx(0.25)


def test_edge_cases_match_clarify_errors() -> None:
    # Facet x has no positive label: only the negative class is common, KL = 1 * ln(1/(1/2))
    frame = pd.DataFrame({"f": ["x", "x", "y", "y"], "label": ["no", "no", "yes", "no"]})
    v = _values(pre_training_bias(frame, _config()))
    assert v["DPL"] == pytest.approx(0.5)
    assert v["KL"] == pytest.approx(0.5 * math.log(0.5 / 1.0))
    # No label class common to both sides: Clarify's error for the divergences.
    frame = pd.DataFrame({"f": ["x", "x", "y", "y"], "label": ["no", "no", "yes", "yes"]})
    v = _values(pre_training_bias(frame, _config(group_name="f")))
    for name in ("KL", "JS", "LP", "TVD", "KS"):
        assert v[name] == ("error", "No instance of common facet found, dataset may be too "
                                    "small")
    # Chosen values covering every row: the rest is empty.
    v = _values(pre_training_bias(frame, _config(facets=[FacetConfig(
        name="f", values_or_threshold=["x", "y"])])), value="x,y")
    assert v["CI"] == ("error", "CI: negated facet set is empty. Check that x[~facet] has "
                                "non-zero length.")
    assert v["DPL"] == ("error", "Negative facet set is empty.")


def test_single_label_class() -> None:
    frame = pd.DataFrame({"f": ["x", "y", "y"], "g": ["a", "a", "b"], "label": ["yes"] * 3})
    v = _values(pre_training_bias(frame, _config(group_name="g")))
    assert v["CI"] == pytest.approx(1 / 3)
    assert v["DPL"] == 0.0 and v["KL"] == 0.0
    assert v["CDDL"] == ("error", "No negative labels in set")


def test_numeric_facet_threshold_and_label_threshold() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.uniform(18, 80, 200).round(1),
                          "score": rng.uniform(0, 1, 200)})
    config = BiasAnalysisConfig(label="score", label_values_or_threshold=["0.5"],
                                facets=[FacetConfig(name="age", values_or_threshold=[40])])
    section = pre_training_bias(frame, config)
    top = frame["age"].max()
    assert section["label_value_or_threshold"] == f"(0.5, {frame['score'].max()}]"
    (group,) = section["facets"]["age"]
    assert group["value_or_threshold"] == f"(40.0, {top}]"
    older = frame["age"] > 40
    ci = group["metrics"][1]
    assert ci["name"] == "CI"
    assert ci["value"] == pytest.approx(((~older).sum() - older.sum()) / len(frame))
    pos = frame["score"] > 0.5
    dpl = pos[~older].mean() - pos[older].mean()
    assert group["metrics"][2]["value"] == pytest.approx(dpl)


def test_chosen_values_and_several_facets() -> None:
    frame = FRAME.assign(h=["p", "q"] * 5)
    config = _config(facets=[FacetConfig(name="g", values_or_threshold=["A"]),
                             FacetConfig(name="h")])
    section = pre_training_bias(frame, config)
    assert list(section["facets"]) == ["g", "h"]
    assert [g["value_or_threshold"] for g in section["facets"]["g"]] == ["A"]
    assert [g["value_or_threshold"] for g in section["facets"]["h"]] == ["p", "q"]


def test_cli_strings_match_integer_columns() -> None:
    # 100 rows, 2 distinct integers (2% < 5%): categorical, "1" is the value 1
    frame = pd.DataFrame({"f": ["x", "y"] * 50, "label": [0, 1, 1, 0] * 25})
    section = pre_training_bias(frame, _config(label_values_or_threshold=["1"]))
    assert section["facets"]["f"][0]["metrics"][1]["value"] == 0.0
    assert section["label_value_or_threshold"] == "1"
    assert _values(section)["DPL"] == pytest.approx(0.0)


def test_count_table_one_pass() -> None:
    codes = np.array([0, 0, 1, 2, 1])
    positive = np.array([True, False, True, True, False])
    groups = np.array([0, 1, 0, 1, 2])
    pred = np.array([True, True, False, False, True])
    t = count_table(codes, 3, positive, groups, 2, pred)
    assert t.counts.shape == (3, 2, 3, 2)
    assert t.counts.sum() == 5
    assert t.counts[0, 1, 0, 1] == 1 and t.counts[1, 0, 2, 1] == 1
    assert t.side(np.array([True, False, True])).sum() == 3


def test_split_methods() -> None:
    assert split_methods("all", post=False) == ("all", None)
    assert split_methods("all", post=True) == ("all", "all")
    assert split_methods("ci,DPL,dppl,DCAcc", post=True) == (["CI", "DPL"], ["DPPL", "DCA"])
    assert split_methods("CI,KL", post=True) == (["CI", "KL"], None)
    assert split_methods("DI", post=True) == (None, ["DI"])
    with pytest.raises(ValidationError, match=r"unknown bias method 'XX'.*CI"):
        split_methods("CI,XX", post=False)
    with pytest.raises(ValidationError, match=r"DI.*need predictions"):
        split_methods("CI,DI", post=False)
    with pytest.raises(ValidationError, match="pre-training metric"):
        resolve(["CI"], "post")


def test_missing_facet_values_are_in_the_rest_only() -> None:
    frame = pd.DataFrame({"f": ["x", "x", None, "y", "y"],
                          "label": ["yes", "no", "yes", "no", "yes"]})
    section = pre_training_bias(frame, _config())
    assert [g["value_or_threshold"] for g in section["facets"]["f"]] == ["x", "y"]
    # x: n_d = 2, the rest (y and the missing value) n_a = 3: CI = (3 - 2) / 5
    assert _values(section)["CI"] == pytest.approx(0.2)


@pytest.mark.parametrize(("column", "given", "shown"), [
    ([True, False] * 60, ["true"], "True"),
    ([0, 1, 1] * 40, ["1.0"], "1"),
    ([0.5, 1.5, 2.5] * 40, [1.5, 2.5], "1.5,2.5"),
])
def test_numeric_labels_match_given_text(column: list[object], given: list[object],
                                         shown: str) -> None:
    frame = pd.DataFrame({"f": ["x", "y", "y", "x"] * 30, "label": column})
    section = pre_training_bias(frame, _config(label_values_or_threshold=given))
    assert section["label_value_or_threshold"] == shown
    expected = pd.Series(column).isin([True] if shown == "True" else
                                      [float(v) for v in shown.split(",")])
    dpl = expected[frame["f"] == "y"].mean() - expected[frame["f"] == "x"].mean()
    assert _values(section)["DPL"] == pytest.approx(dpl)


def test_no_positive_prediction_still_reports() -> None:
    # smclarify refuses this report; mlyard computes it: DPPL = 0 - 0, DI = 0/0 = 0.
    frame = FRAME.assign(pred="no")
    config = _config(pre_training_methods=None, post_training_methods=["DPPL", "DI", "RD"],
                     predicted_label="pred")
    v = _values(post_training_bias(frame, config))
    assert v == {"DI": 0.0, "DPPL": 0.0, "RD": 0.0}
