"""Unit tests of mlyard.serving.abreport: accuracy join, significance, recommendations."""

from __future__ import annotations

import calendar
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from mlyard.errors import DataError, NotFoundError, ValidationError
from mlyard.serving.abreport import (
    ab_report,
    holm,
    load_ground_truth,
    predicted_label,
    two_proportion_test,
    wilson_interval,
)
from mlyard.serving.capture import CaptureWriter, DataCaptureConfig, iso_time, read_capture
from mlyard.serving.metrics import MetricsRecorder

NOON = float(calendar.timegm((2026, 11, 23, 12, 0, 0)))


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _record(event_id: str, variant: str, label: str, t: float = NOON) -> dict[str, Any]:
    """A capture record as read_capture yields it, with mlyard's JSON output."""
    other = "neg" if label == "pos" else "pos"
    output = json.dumps([{"label": [label, other], "prob": [0.8, 0.2]}])
    return {
        "captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": '{"instances": ["x"]}', "encoding": "JSON"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                               "data": output, "encoding": "JSON"},
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": iso_time(t)},
        "eventVersion": "0",
        "variant": variant,
    }


def _traffic(metrics: MetricsRecorder, variant: str, n: int, *, latency: float,
             errors_5xx: int = 0, seed: int = 0, t: float = NOON) -> None:
    rng = random.Random(seed)
    for i in range(n):
        now = t + i % 300
        metrics.record("ep", variant, "Invocations", 1.0, now=now)
        metrics.record("ep", variant, "ModelLatency", rng.gauss(latency, latency / 10), now=now)
        metrics.record("ep", variant, "OverheadLatency", 150.0 + rng.random() * 10, now=now)
        if i < errors_5xx:
            metrics.record("ep", variant, "Invocation5XXErrors", 1.0, now=now)


def _labelled(accuracies: dict[str, float], n: int, seed: int = 7
              ) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """``n`` captured events per variant, the first ``accuracy * n`` predicted right."""
    rng = random.Random(seed)
    captures, truth = [], {}
    for variant, acc in accuracies.items():
        right = round(acc * n)
        for i in range(n):
            event = f"{variant}-{i}"
            label = rng.choice(["pos", "neg"])
            truth[event] = label
            predicted = label if i < right else ("neg" if label == "pos" else "pos")
            captures.append(_record(event, variant, predicted, NOON + i))
    return captures, truth


@pytest.fixture
def metrics() -> MetricsRecorder:
    return MetricsRecorder(clock=FakeClock(NOON + 300), rng=random.Random(1))


def test_clear_winner_by_accuracy(metrics: MetricsRecorder) -> None:
    _traffic(metrics, "A", 500, latency=2000.0, seed=1)
    _traffic(metrics, "B", 500, latency=2500.0, seed=2)
    captures, truth = _labelled({"A": 0.7, "B": 0.9}, 500)
    report = ab_report(metrics, "ep", ["A", "B"], captures=captures, ground_truth=truth)
    a, b = report.variant("A"), report.variant("B")
    assert (a.scored, a.correct, b.scored, b.correct) == (500, 350, 500, 450)
    assert a.accuracy == pytest.approx(0.7) and b.accuracy == pytest.approx(0.9)
    assert a.accuracy_ci_low is not None and a.accuracy_ci_high is not None
    assert a.accuracy_ci_low < 0.7 < a.accuracy_ci_high
    (test,) = report.comparisons
    assert test.metric == "accuracy" and test.test == "two-proportion z-test"
    assert test.p_value < 0.001 and test.significant
    rec = report.recommendation
    assert (rec.winner, rec.basis, rec.significant) == ("B", "accuracy", True)
    assert "B wins" in rec.message
    assert report.matched_events == 1000 and report.ground_truth_events == 1000
    # Operational numbers are there too.
    assert a.invocations == 500 and a.errors_5xx == 0 and a.error_rate == 0.0
    assert a.model_latency_p50 == pytest.approx(2000.0, rel=0.05)
    assert b.model_latency_p99 is not None and b.model_latency_p99 > 2500.0
    assert a.overhead_latency_p50 == pytest.approx(155.0, abs=6)
    assert set(report.latency_series) == {"A", "B"} and report.latency_series["A"]


def test_equal_variants_no_significant_difference(metrics: MetricsRecorder) -> None:
    _traffic(metrics, "A", 300, latency=2000.0, seed=1)
    _traffic(metrics, "B", 300, latency=2000.0, seed=2)
    captures, truth = _labelled({"A": 0.8, "B": 0.8}, 500)
    report = ab_report(metrics, "ep", ["A", "B"], captures=captures, ground_truth=truth)
    rec = report.recommendation
    assert rec.winner is None and rec.basis == "accuracy" and not rec.significant
    assert "no significant difference" in rec.message and rec.leader in ("A", "B")
    assert rec.leader is not None and rec.leader in rec.message
    assert report.comparisons[0].p_value == pytest.approx(1.0)


def test_small_samples_use_fisher_and_three_variants_are_adjusted(
    metrics: MetricsRecorder,
) -> None:
    captures, truth = _labelled({"A": 0.5, "B": 1.0}, 8)
    report = ab_report(metrics, "ep", ["A", "B"], captures=captures, ground_truth=truth)
    (test,) = report.comparisons
    assert test.test == "Fisher exact" and test.p_value == pytest.approx(0.0769, abs=1e-3)
    assert report.recommendation.winner is None
    captures, truth = _labelled({"A": 0.7, "B": 0.9, "C": 0.72}, 400)
    report = ab_report(metrics, "ep", ["A", "B", "C"], captures=captures, ground_truth=truth)
    assert len(report.comparisons) == 3
    assert all(c.p_adjusted >= c.p_value for c in report.comparisons)
    assert report.recommendation.winner == "B"


def test_join_through_capture_files_with_csv_output(tmp_path: Path,
                                                    metrics: MetricsRecorder) -> None:
    clock = FakeClock(NOON)
    config = DataCaptureConfig(enabled=True, rotation_seconds=60)
    truth = {}
    with CaptureWriter(tmp_path, "ep", config, clock=clock) as writer:
        for i in range(200):
            clock.t = NOON + i
            variant = "A" if i % 2 else "B"
            truth[f"e{i}"] = "pos"
            right = variant == "B" or i % 4 == 1  # B always right, A half the time
            writer.capture(variant=variant, event_id=f"e{i}", inference_id=None,
                           request_body=b"text\nhello", request_content_type="text/csv",
                           response_body=b"predicted_label,probability\n"
                           + (b"pos" if right else b"neg") + b",0.9\n",
                           response_content_type="text/csv", inference_time=NOON + i)
    truth["unknown-event"] = "pos"
    report = ab_report(metrics, "ep", ["A", "B"], captures=read_capture(tmp_path, "ep"),
                       ground_truth=truth)
    assert report.variant("A").scored == 100 and report.variant("A").correct == 50
    assert report.variant("B").correct == 100
    assert report.matched_events == 200 and report.ground_truth_events == 201
    assert report.recommendation.winner == "B"


def test_latency_only_recommendation(metrics: MetricsRecorder) -> None:
    _traffic(metrics, "A", 1000, latency=4000.0, errors_5xx=10, seed=1)
    _traffic(metrics, "B", 1000, latency=2000.0, errors_5xx=12, seed=2)
    report = ab_report(metrics, "ep", ["A", "B"])
    rec = report.recommendation
    assert (rec.winner, rec.basis, rec.significant) == ("B", "p99_latency", False)
    assert "operational metrics only" in rec.message and "p99" in rec.message
    assert report.comparisons[0].metric == "error_rate"
    assert not report.comparisons[0].significant
    assert report.variant("A").error_rate == pytest.approx(0.01)
    assert "operational metrics only" in report.summary_table()
    # Ground truth that matches nothing falls back to the same, saying so.
    fallback = ab_report(metrics, "ep", ["A", "B"], captures=[], ground_truth={"x": "pos"})
    assert fallback.recommendation.winner == "B"
    assert "no labelled event matched" in fallback.recommendation.message


def test_error_rate_recommendation(metrics: MetricsRecorder) -> None:
    _traffic(metrics, "A", 1000, latency=1000.0, errors_5xx=100, seed=1)
    _traffic(metrics, "B", 1000, latency=3000.0, errors_5xx=10, seed=2)
    rec = ab_report(metrics, "ep", ["A", "B"]).recommendation
    assert (rec.winner, rec.basis, rec.significant) == ("B", "error_rate", True)
    assert "operational metrics only" in rec.message


def test_window_limits_metrics_and_captures() -> None:
    clock = FakeClock(NOON + 7200)
    metrics = MetricsRecorder(clock=clock)
    _traffic(metrics, "A", 100, latency=1000.0, t=NOON)  # two hours ago
    _traffic(metrics, "A", 10, latency=1000.0, t=NOON + 7000)
    captures = [_record("old", "A", "pos", NOON), _record("new", "A", "pos", NOON + 7100)]
    report = ab_report(metrics, "ep", ["A"], captures=captures,
                       ground_truth={"old": "pos", "new": "pos"}, window=600)
    assert report.variant("A").invocations == 10
    assert report.variant("A").scored == 1
    assert report.recommendation.winner is None and "only variant A" in \
        report.recommendation.message
    empty = ab_report(MetricsRecorder(), "ep", ["A", "B"])
    assert empty.recommendation.basis == "none" and empty.variant("A").invocations == 0


def test_renderings(metrics: MetricsRecorder) -> None:
    weird = '<b>&"x\'</b>'
    _traffic(metrics, weird, 200, latency=2000.0, seed=1)
    _traffic(metrics, "B", 200, latency=1500.0, seed=2)
    captures, truth = _labelled({weird: 0.6, "B": 0.9}, 100)
    report = ab_report(metrics, "ep", [weird, "B"], captures=captures, ground_truth=truth)
    html = report.to_html()
    assert weird not in html and "&lt;b&gt;&amp;&quot;x&#x27;&lt;/b&gt;" in html
    assert html.count("data:image/png;base64,") == 2  # one latency chart per variant
    assert "Wilson interval" in html and "Pairwise tests" in html
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["recommendation"]["winner"] == "B"
    assert data["variants"][1]["accuracy"] == pytest.approx(0.9)
    table = report.summary_table()
    assert weird in table and "Recommendation [accuracy against ground truth]" in table
    assert "95% CI" in table
    with pytest.raises(NotFoundError, match="the report has no variant 'nope'"):
        report.variant("nope")


def test_bad_arguments(metrics: MetricsRecorder) -> None:
    for kwargs, message in (({"alpha": 0.0}, "alpha must be between 0 and 1, got 0.0"),
                            ({"alpha": 1.5}, "alpha must be between 0 and 1, got 1.5"),
                            ({"window": 0}, "window must be > 0 seconds, got 0")):
        with pytest.raises(ValidationError, match=re.escape(message)):
            ab_report(metrics, "ep", ["A"], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs at least one variant"):
        ab_report(metrics, "ep", [])
    with pytest.raises(ValidationError, match=r"variant names repeat: \['A', 'A'\]"):
        ab_report(metrics, "ep", ["A", "A"])


def test_statistics_helpers() -> None:
    low, high = wilson_interval(50, 100)
    assert (low, high) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    name, z, p = two_proportion_test(450, 500, 350, 500)
    assert name == "two-proportion z-test" and z is not None and z > 7 and p < 1e-10
    assert two_proportion_test(500, 500, 500, 500)[2] == 1.0
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


@pytest.mark.parametrize(("body", "content_type", "label"), [
    (b'[{"label": ["pos", "neg"], "prob": [0.9, 0.1]}]', "application/json", "pos"),
    (b'{"predictions": [{"predicted_label": 3}]}', "application/json", "3"),
    (b'{"label": "a"}\n{"label": "b"}\n', "application/jsonlines", "a"),
    (b'["cat", "dog"]', "application/json", "cat"),
    (b"predicted_label,probability\nneg,0.7\n", "text/csv", "neg"),
    (b"spam,0.9\nham,0.1", "text/csv", "spam"),
    (b"__label__pos", "text/plain", "__label__pos"),
    (b"{not json", "application/json", None),
    (b"", "text/csv", None),
    (b"\xff", "text/csv", None),
])
def test_predicted_label(body: bytes, content_type: str, label: str | None) -> None:
    assert predicted_label(body, content_type) == label


def test_load_ground_truth(tmp_path: Path) -> None:
    jsonl = tmp_path / "gt.jsonl"
    jsonl.write_text('{"eventId": "e1", "label": "pos"}\n\n{"eventId": "e2", "label": 1}\n'
                     '{"eventId": "e1", "label": "pos"}\n')
    assert load_ground_truth(jsonl) == {"e1": "pos", "e2": "1"}
    sm = tmp_path / "sagemaker.jsonl"
    sm.write_text(json.dumps({"groundTruthData": {"data": "neg", "encoding": "CSV"},
                              "eventMetadata": {"eventId": "e3"}, "eventVersion": "0"}) + "\n")
    assert load_ground_truth(sm) == {"e3": "neg"}
    csv_file = tmp_path / "gt.csv"
    csv_file.write_text('label,eventId\n"a, b",e1\nc,e2\n')
    assert load_ground_truth(csv_file) == {"e1": "a, b", "e2": "c"}


@pytest.mark.parametrize(("name", "text", "match"), [
    ("bad.jsonl", '{"eventId": "e1", "label": "a"}\n\n{oops\n', r"bad\.jsonl:3: invalid JSON"),
    ("keys.jsonl", '{"eventId": "e1"}\n', r":1: needs keys eventId and label"),
    ("list.jsonl", '{"eventId": "e1", "label": {"x": 1}}\n', r":1: label must be"),
    ("dup.jsonl", '{"eventId": "e1", "label": "a"}\n{"eventId": "e1", "label": "b"}\n',
     r":2: eventId 'e1' has label 'b' here but 'a' on line 1"),
    ("cols.csv", "id,label\ne1,a\n", r":1: the CSV header needs eventId and label"),
    ("width.csv", "eventId,label\ne1,a\ne2,b,c\n", r":3: 3 fields, the header has 2"),
    ("empty.csv", "\n\n", r"no ground truth records"),
])
def test_load_ground_truth_errors(tmp_path: Path, name: str, text: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        load_ground_truth(path)


def test_load_ground_truth_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.csv does not exist"):
        load_ground_truth(tmp_path / "nope.csv")


def test_client_errors_do_not_decide_the_error_rate_comparison(
        metrics: MetricsRecorder) -> None:
    """A variant that got more bad input (4xx, the client's error) is not the worse model:
    the comparison and recommendation go by 5xx (model and server failures)."""
    _traffic(metrics, "A", 1000, latency=1000.0, seed=1)
    _traffic(metrics, "B", 1000, latency=1000.0, errors_5xx=50, seed=2)
    for _ in range(200):
        metrics.record("ep", "A", "Invocation4XXErrors", 1.0, now=NOON + 1)
    report = ab_report(metrics, "ep", ["A", "B"])
    a, b = report.variant("A"), report.variant("B")
    assert (a.errors_4xx, a.errors_5xx, b.errors_4xx, b.errors_5xx) == (200, 0, 0, 50)
    (test,) = report.comparisons
    assert (test.rate_a, test.rate_b) == (0.0, 0.05) and test.significant
    rec = report.recommendation
    assert (rec.winner, rec.basis, rec.significant) == ("A", "error_rate", True)
    assert "5xx error rate" in rec.message
