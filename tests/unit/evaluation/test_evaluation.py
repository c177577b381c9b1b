"""Unit tests of mlyard.evaluation: metrics, evaluation.json, reports, data loading."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.errors import DataError, ValidationError
from mlyard.evaluation import (
    ClassificationResult,
    EvaluationResult,
    RegressionResult,
    classification_metrics,
    evaluate_model,
    load_labeled_data,
    regression_metrics,
    write_report,
)
from mlyard.models.base import LoadedModel, ModelManifest
from mlyard.models.datafiles import BadRows

SCALARS = [
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc_ovr",
    "log_loss",
]


class TableModel(LoadedModel):
    """A fake classifier: each text is the key of a fixed probability row."""

    def __init__(self, labels: Sequence[str], table: Mapping[str, Sequence[float]]) -> None:
        self.manifest = ModelManifest(flavor="fake", loader="tests:fake", labels=list(labels))
        self.table = table
        self.batches: list[int] = []

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        self.batches.append(len(instances))
        return np.array([self.table[t] for t in instances], dtype=float)


class DoublingModel(LoadedModel):
    """A fake regressor predicting twice the number in each text."""

    def __init__(self) -> None:
        self.manifest = ModelManifest(flavor="double", loader="tests:double", task="regression")

    def predict_values(self, instances: Sequence[Any]) -> np.ndarray:
        return np.array([2.0 * float(t) for t in instances])


# The hand-computed multiclass example: argmax predictions are a, b, b, b, c, a.
HAND_LABELS = ["a", "b", "c"]
HAND_TRUE = ["a", "a", "b", "b", "c", "c"]
HAND_PROBA = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.3, 0.6, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.7, 0.1],
        [0.1, 0.1, 0.8],
        [0.5, 0.2, 0.3],
    ]
)


# --- classification metrics -------------------------------------------------------------


def test_perfect_predictions_score_one() -> None:
    labels = ["neg", "neu", "pos"]
    y = ["neg", "neu", "pos", "pos", "neg"]
    proba = np.eye(3)[[0, 1, 2, 2, 0]]
    r = classification_metrics(y, proba, labels)
    for name in SCALARS[:-1]:
        assert getattr(r, name) == pytest.approx(1.0), name
    assert r.log_loss is not None and r.log_loss < 1e-6
    assert r.confusion_matrix == ((2, 0, 0), (0, 1, 0), (0, 0, 2))
    assert r.task == "multiclass"
    assert all(m.f1 == 1.0 for m in r.per_class.values())


def test_hand_computed_multiclass_example() -> None:
    r = classification_metrics(HAND_TRUE, HAND_PROBA, HAND_LABELS)
    # Rows: true a, b, c; columns: predicted a, b, c.
    assert r.confusion_matrix == ((1, 1, 0), (0, 2, 0), (1, 0, 1))
    assert r.accuracy == pytest.approx(4 / 6)
    # Recalls 1/2, 2/2, 1/2.
    assert r.balanced_accuracy == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    # Precisions 1/2, 2/3, 1/1; F1 = 2PR/(P+R): 1/2, 4/5, 2/3.
    assert r.per_class["a"].precision == pytest.approx(0.5)
    assert r.per_class["b"].precision == pytest.approx(2 / 3)
    assert r.per_class["c"].precision == pytest.approx(1.0)
    assert r.per_class["b"].f1 == pytest.approx(0.8)
    assert r.per_class["c"].f1 == pytest.approx(2 / 3)
    assert r.f1_macro == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert r.precision_macro == pytest.approx((0.5 + 2 / 3 + 1.0) / 3)
    assert r.f1_weighted == pytest.approx(r.f1_macro)  # equal supports
    assert [m.support for m in r.per_class.values()] == [2, 2, 2]
    # One-vs-rest AUC for "a": positives score 0.8 and 0.3, negatives 0.1, 0.2, 0.1, 0.5:
    # 7 of the 8 pairs ranked right.
    assert r.per_class["a"].roc_auc == pytest.approx(7 / 8)
    assert r.roc_auc_ovr == pytest.approx((7 / 8 + 1 + 1) / 3)
    expected_loss = -np.mean(np.log([0.8, 0.3, 0.8, 0.7, 0.8, 0.3]))
    assert r.log_loss == pytest.approx(expected_loss)


def test_hand_example_matches_scikit_learn() -> None:
    from sklearn.metrics import f1_score, log_loss, roc_auc_score

    r = classification_metrics(HAND_TRUE, HAND_PROBA, HAND_LABELS)
    pred = [HAND_LABELS[i] for i in HAND_PROBA.argmax(axis=1)]
    assert r.f1_macro == pytest.approx(f1_score(HAND_TRUE, pred, average="macro"))
    assert r.roc_auc_ovr == pytest.approx(
        roc_auc_score(HAND_TRUE, HAND_PROBA, multi_class="ovr", labels=HAND_LABELS)
    )
    assert r.log_loss == pytest.approx(log_loss(HAND_TRUE, HAND_PROBA, labels=HAND_LABELS))


def test_binary_threshold_changes_predictions() -> None:
    labels = ["no", "yes"]
    y = ["no", "no", "yes", "yes"]
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8]])
    argmax = classification_metrics(y, proba, labels)
    assert argmax.task == "binary"
    assert argmax.positive_label == "yes" and argmax.threshold is None
    assert argmax.confusion_matrix == ((2, 0), (1, 1))
    low = classification_metrics(y, proba, labels, threshold=0.3)
    assert low.threshold == 0.3
    assert low.confusion_matrix == ((1, 1), (0, 2))
    assert low.accuracy == pytest.approx(0.75) and argmax.accuracy == pytest.approx(0.75)
    assert low.per_class["yes"].recall == 1.0 and argmax.per_class["yes"].recall == 0.5
    # The threshold decides predictions only; AUC and log loss stay.
    assert low.roc_auc_ovr == argmax.roc_auc_ovr == pytest.approx(1.0)
    assert low.log_loss == argmax.log_loss


def test_binary_positive_label_selects_the_scored_column() -> None:
    labels = ["no", "yes"]
    y = ["no", "yes", "yes"]
    proba = np.array([[0.7, 0.3], [0.6, 0.4], [0.1, 0.9]])
    r = classification_metrics(y, proba, labels, threshold=0.65, positive_label="no")
    assert r.positive_label == "no"
    # "no" predicted where P(no) >= 0.65: rows 0 only.
    assert r.confusion_matrix == ((1, 0), (0, 2))
    data = r.to_evaluation_json()
    sm = data["binary_classification_metrics"]
    assert sm["confusion_matrix"] == {"no": {"no": 1, "yes": 0}, "yes": {"no": 0, "yes": 2}}
    curve = sm["receiver_operating_characteristic_curve"]
    assert curve["false_positive_rates"][0] == 0.0 and curve["true_positive_rates"][-1] == 1.0


def test_absent_class_gives_auc_none_with_reason() -> None:
    r = classification_metrics(["a", "b", "a"], HAND_PROBA[:3], HAND_LABELS)
    assert r.roc_auc_ovr is None
    assert r.roc_auc_reason is not None and "'c'" in r.roc_auc_reason
    assert r.log_loss is not None and math.isfinite(r.log_loss)
    assert r.per_class["c"].support == 0 and r.per_class["c"].roc_auc is None
    assert r.per_class["a"].roc_auc is not None
    entry = r.to_evaluation_json()["metrics"]["roc_auc_ovr"]
    assert entry["value"] is None and "absent" in entry["reason"]
    assert "n/a" in r.summary_table()


def test_macro_average_ignores_labels_never_seen_nor_predicted() -> None:
    # "c" is neither in y_true nor predicted: macro F1 averages over a and b only.
    r = classification_metrics(["a", "b"], [[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]], HAND_LABELS)
    assert r.f1_macro == 1.0 and r.accuracy == 1.0


def test_binary_single_class_auc_none() -> None:
    r = classification_metrics(["yes", "yes"], np.array([[0.2, 0.8], [0.6, 0.4]]), ["no", "yes"])
    assert r.roc_auc_ovr is None and "only label 'yes'" in (r.roc_auc_reason or "")
    assert r.accuracy == 0.5


def test_unknown_label_raises_naming_it() -> None:
    with pytest.raises(ValidationError, match="'zebra'"):
        classification_metrics(["a", "zebra"], HAND_PROBA[:2], HAND_LABELS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": [], "proba": np.zeros((0, 3))}, "empty"),
        ({"proba": np.zeros((6, 2))}, "shape"),
        ({"proba": HAND_PROBA * 2}, r"\[0, 1\]"),
        ({"threshold": 0.5}, "binary models only"),
        ({"positive_label": "a"}, "binary models only"),
    ],
)
def test_classification_input_errors(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"y_true": HAND_TRUE, "proba": HAND_PROBA, "labels": HAND_LABELS}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        classification_metrics(**args)


def test_binary_threshold_and_positive_label_errors() -> None:
    proba = np.array([[0.5, 0.5]])
    with pytest.raises(ValidationError, match="threshold"):
        classification_metrics(["a"], proba, ["a", "b"], threshold=1.5)
    with pytest.raises(ValidationError, match="'c' is not a model label"):
        classification_metrics(["a"], proba, ["a", "b"], positive_label="c")


def test_evaluation_json_shape_classification() -> None:
    data = classification_metrics(HAND_TRUE, HAND_PROBA, HAND_LABELS).to_evaluation_json()
    assert list(data["metrics"]) == SCALARS
    assert all(set(v) == {"value"} for v in data["metrics"].values())
    assert data["confusion_matrix"] == {
        "labels": ["a", "b", "c"],
        "matrix": [[1, 1, 0], [0, 2, 0], [1, 0, 1]],
    }
    assert data["n"] == 6 and data["task"] == "multiclass"
    assert set(data["per_class"]["b"]) == {"precision", "recall", "f1", "support", "roc_auc"}
    sm = data["multiclass_classification_metrics"]
    assert sm["accuracy"] == data["metrics"]["accuracy"]
    assert sm["confusion_matrix"]["c"] == {"a": 1, "b": 0, "c": 1}
    json.dumps(data, allow_nan=False)


def test_summary_table_lists_metrics_and_classes() -> None:
    table = classification_metrics(HAND_TRUE, HAND_PROBA, HAND_LABELS).summary_table()
    for name in SCALARS:
        assert name in table
    assert "0.6667" in table and "support" in table and "true \\ predicted" in table


# --- regression metrics ------------------------------------------------------------------


def test_regression_metrics_known_numbers() -> None:
    r = regression_metrics([1, 2, 3, 4], ["1", 2.0, 3, 5])
    # Errors 0, 0, 0, 1; total sum of squares 2.25 + 0.25 + 0.25 + 2.25 = 5.
    assert r.mse == pytest.approx(0.25)
    assert r.rmse == pytest.approx(0.5)
    assert r.mae == pytest.approx(0.25)
    assert r.r2 == pytest.approx(1 - 1 / 5)
    assert r.residual_std == pytest.approx(np.std([0, 0, 0, 1]))
    data = r.to_evaluation_json()
    assert data["metrics"]["rmse"] == {"value": 0.5, "standard_deviation": r.residual_std}
    assert data["metrics"]["r2"] == {"value": pytest.approx(0.8)}
    assert data["regression_metrics"]["mse"]["value"] == pytest.approx(0.25)
    assert "rmse" in r.summary_table()


def test_regression_errors_and_single_row() -> None:
    with pytest.raises(ValidationError, match="empty"):
        regression_metrics([], [])
    with pytest.raises(ValidationError, match="'x'"):
        regression_metrics([1, "x"], [1, 2])
    with pytest.raises(ValidationError, match="differ in length: 1 and 2"):
        regression_metrics([1], [1, 2])
    one = regression_metrics([3], [4])
    assert one.r2 is None and one.r2_reason and one.rmse == 1.0


# --- reports -----------------------------------------------------------------------------


def test_write_report_classification(tmp_path: Path) -> None:
    labels = ["<script>alert(1)</script>", "ok & $fine$"]
    y = [labels[0], labels[1], labels[1]]
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    result = classification_metrics(y, proba, labels)
    files = write_report(result, tmp_path / "out", "Report <b>title</b>")
    expected = {
        "evaluation.json",
        "confusion_matrix.json",
        "confusion_matrix.png",
        "roc_curves.png",
        "report.html",
    }
    assert set(files) == expected
    for path in files.values():
        assert path.is_file() and path.stat().st_size > 0
    assert files["confusion_matrix.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(files["evaluation.json"].read_text())
    assert data["metrics"]["accuracy"]["value"] == pytest.approx(2 / 3)
    assert set(data["metrics"]) == set(SCALARS)
    assert json.loads(files["confusion_matrix.json"].read_text()) == {
        "labels": labels,
        "matrix": [[1, 0], [1, 1]],
    }
    page = files["report.html"].read_text()
    assert "<script>" not in page and "<b>title" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ok &amp; $fine$" in page
    assert page.count("data:image/png;base64,") == 2


def test_write_report_without_roc_notes_the_reason(tmp_path: Path) -> None:
    result = classification_metrics(["a", "a"], [[0.7, 0.3], [0.4, 0.6]], ["a", "b"])
    files = write_report(result, tmp_path, "t")
    assert "roc_curves.png" not in files
    page = files["report.html"].read_text()
    assert "No ROC curve" in page and page.count("data:image/png;base64,") == 1


def test_write_report_regression(tmp_path: Path) -> None:
    files = write_report(regression_metrics([1, 2, 3], [1.5, 2, 2]), tmp_path, "Reg")
    assert set(files) == {"evaluation.json", "predicted_vs_actual.png", "report.html"}
    data = json.loads(files["evaluation.json"].read_text())
    assert set(data["metrics"]) == {"mse", "rmse", "mae", "r2"}
    assert "standard_deviation" in data["metrics"]["rmse"]
    assert "data:image/png;base64," in files["report.html"].read_text()


# --- evaluate_model ----------------------------------------------------------------------


def test_evaluate_model_batches_progress_and_int_labels(tmp_path: Path) -> None:
    table = {"bad": [0.8, 0.1, 0.1], "meh": [0.1, 0.7, 0.2], "good": [0.1, 0.2, 0.7]}
    model = TableModel(["-1", "0", "1"], table)
    texts = ["bad", "meh", "good", "good", "bad"]
    seen: list[int] = []
    result = evaluate_model(
        model, texts, [-1, 0, 1, 1, 0], out_dir=tmp_path, batch_size=2, progress=seen.append
    )
    assert isinstance(result, EvaluationResult)
    assert model.batches == [2, 2, 1] and seen == [2, 4, 5]
    assert isinstance(result.metrics, ClassificationResult)
    assert result.metrics.accuracy == pytest.approx(0.8)
    assert result.n == 5 and result.task == "multiclass"
    assert (tmp_path / "evaluation.json").is_file() and "report.html" in result.artifacts
    assert result.to_evaluation_json()["metrics"]["accuracy"]["value"] == pytest.approx(0.8)
    assert "wrote report.html" in result.summary_table()


def test_evaluate_model_checks_labels_before_predicting() -> None:
    model = TableModel(["a", "b"], {"x": [0.5, 0.5]})
    with pytest.raises(ValidationError, match="'c'"):
        evaluate_model(model, ["x"], ["c"])
    with pytest.raises(ValidationError, match="threshold"):
        evaluate_model(model, ["x"], ["a"], threshold=2.0)
    with pytest.raises(ValidationError, match="2 labels"):
        evaluate_model(model, ["x"], ["a", "b"])
    with pytest.raises(ValidationError, match="empty"):
        evaluate_model(model, [], [])
    assert model.batches == []


def test_evaluate_model_binary_threshold() -> None:
    model = TableModel(["neg", "pos"], {"x": [0.6, 0.4], "y": [0.2, 0.8]})
    plain = evaluate_model(model, ["x", "y"], ["pos", "pos"])
    low = evaluate_model(model, ["x", "y"], ["pos", "pos"], threshold=0.3)
    assert plain.metrics.accuracy == 0.5  # type: ignore[union-attr]
    assert low.metrics.accuracy == 1.0  # type: ignore[union-attr]


def test_evaluate_model_rejects_bad_batch_shape() -> None:
    model = TableModel(["a", "b"], {"x": [1.0]})
    with pytest.raises(ValidationError, match="shape"):
        evaluate_model(model, ["x"], ["a"])


def test_evaluate_model_regression(tmp_path: Path) -> None:
    result = evaluate_model(DoublingModel(), ["1", "2", "3"], [2, 4, 7], out_dir=tmp_path)
    assert isinstance(result.metrics, RegressionResult)
    assert result.metrics.mae == pytest.approx(1 / 3)
    assert result.task == "regression"
    assert "predicted_vs_actual.png" in result.artifacts
    with pytest.raises(ValidationError, match="classifiers only"):
        evaluate_model(DoublingModel(), ["1"], [2], threshold=0.5)


# --- load_labeled_data -------------------------------------------------------------------


def test_load_csv_default_and_custom_columns(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text('label,text\n1,"great, really"\n-1,awful\n', encoding="utf-8")
    assert load_labeled_data(path) == (["great, really", "awful"], ["1", "-1"])
    other = tmp_path / "reviews.csv"
    other.write_text("id,Review Text,sentiment\n7,fine,0\n", encoding="utf-8")
    assert load_labeled_data(other, label_column="sentiment", text_column="Review Text") == (
        ["fine"],
        ["0"],
    )


def test_load_fasttext_and_folder(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("__label__1 loved it\n\n__label__-1  hated it \n")
    (tmp_path / "a.csv").write_text("text,label\nso so,0\n")
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".hidden").write_text("junk")
    assert load_labeled_data(tmp_path / "b.txt") == (["loved it", "hated it"], ["1", "-1"])
    texts, labels = load_labeled_data(tmp_path)
    assert texts == ["so so", "loved it", "hated it"] and labels == ["0", "1", "-1"]


def test_load_missing_column_names_columns_present(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("review,rating\nnice,5\n")
    with pytest.raises(DataError, match=r"no column 'label'.*'review', 'rating'"):
        load_labeled_data(path)
    with pytest.raises(DataError, match="no column 'stars'"):
        load_labeled_data(path, label_column="stars", text_column="review")


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.csv", "", "empty"),
        ("blank.txt", "\n  \n", "empty"),
        ("header.csv", "label,text\n", "no data rows"),
        ("gap.csv", "label,text\n1,ok\n,missing label\n", r"gap\.csv:3: empty 'label'"),
        ("notext.csv", "label,text\n1,ok\n\n2,  \n", r"notext\.csv:4: empty 'text'"),
        ("fields.csv", "label,text\n1,a,b\n", r"fields\.csv:2: 3 field\(s\)"),
        ("multi.txt", "__label__a __label__b text\n", "more than one label"),
        ("bare.txt", "__label__a ok\nno label here\n", r"bare\.txt:2: expected '__label__"),
        ("nolabel.txt", "__label__ text\n", r"nolabel\.txt:1: "),
    ],
)
def test_load_errors(tmp_path: Path, name: str, content: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        load_labeled_data(path)


def test_load_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_labeled_data(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no data files"):
        load_labeled_data(tmp_path / "empty")


# --- the one bad-row policy ------------------------------------------------------------------


@pytest.mark.parametrize(("data", "match"), [
    (b"label,text\n1,ok\n0,caf\xe9\n", r"d\.csv:3: not UTF-8 text"),
    (b"label,text\n1,ok\n0\n", r"d\.csv:3: 1 field\(s\), but the header has 2"),
    (b"", r"d\.csv: the file is empty"),
])
def test_bad_rows_are_refused_with_file_and_line(tmp_path: Path, data: bytes,
                                                 match: str) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(data)
    with pytest.raises(DataError, match=match):
        load_labeled_data(path)


def test_bad_rows_are_skipped_and_counted_on_request(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"label,text\n1,ok\n0,caf\xe9\n0\n,no label\n0,fine\n")
    policy = BadRows(skip=True)
    assert load_labeled_data(path, bad_rows=policy) == (["ok", "fine"], ["1", "0"])
    assert policy.count == 3
    path.write_bytes(b"")
    with pytest.raises(DataError, match="the file is empty"):
        load_labeled_data(path, bad_rows=BadRows(skip=True))


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200) | st.lists(st.sampled_from(
    [b"label,text", b"__label__a x", b"1,ok", b"1", b"a,b,c", b"\xff", b'"q', b"", b","]),
    max_size=10).map(b"\n".join), skip=st.booleans())
def test_arbitrary_bytes_raise_nothing_but_data_error(tmp_path: Path, data: bytes,
                                                      skip: bool) -> None:
    path = tmp_path / "any.txt"
    path.write_bytes(data)
    try:
        texts, labels = load_labeled_data(path, bad_rows=BadRows(skip=skip))
    except DataError:
        return
    assert len(texts) == len(labels) > 0
