"""Unit tests of mlyard.serving.metrics: buckets, statistics, retention, Prometheus output."""

from __future__ import annotations

import random
import re
import threading

import numpy as np
import pytest

from mlyard.errors import ValidationError
from mlyard.serving.metrics import (
    LATENCY_BUCKETS,
    Datapoint,
    MetricsRecorder,
    check_stat,
    weighted_percentile,
)


class FakeClock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


T0 = 1_000_080.0  # a multiple of 120


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def rec(clock: FakeClock) -> MetricsRecorder:
    return MetricsRecorder(resolution=1.0, retention=3600.0, clock=clock, rng=random.Random(0))


def test_sum_average_min_max_count_per_period(rec: MetricsRecorder, clock: FakeClock) -> None:
    # Minute 0: values 1..10 spread over 10 seconds; minute 1: 100 and 300.
    for i in range(1, 11):
        rec.record("ep", "A", "ModelLatency", float(i), now=T0 + i)
    rec.record("ep", "A", "ModelLatency", 100.0, now=T0 + 61)
    rec.record("ep", "A", "ModelLatency", 300.0, now=T0 + 119.5)
    clock.t = T0 + 120

    def q(stat: str) -> list[tuple[float, float, int]]:
        return [(d.timestamp, d.value, d.sample_count)
                for d in rec.query("ep", "ModelLatency", period=60, stat=stat)]

    assert q("Sum") == [(T0, 55.0, 10), (T0 + 60, 400.0, 2)]
    assert q("Average") == [(T0, 5.5, 10), (T0 + 60, 200.0, 2)]
    assert q("Minimum") == [(T0, 1.0, 10), (T0 + 60, 100.0, 2)]
    assert q("Maximum") == [(T0, 10.0, 10), (T0 + 60, 300.0, 2)]
    assert q("SampleCount") == [(T0, 10.0, 10), (T0 + 60, 2.0, 2)]
    # One 120 s period holds both minutes; 1 s periods hold one bucket each.
    assert rec.query("ep", "ModelLatency", period=120, stat="Sum") == [
        Datapoint(T0, 455.0, 12)
    ]
    per_second = rec.query("ep", "ModelLatency", period=1, stat="Sum")
    assert len(per_second) == 12 and per_second[0] == Datapoint(T0 + 1, 1.0, 1)
    # start/end select buckets by their start time, end exclusive.
    window = rec.query("ep", "ModelLatency", period=60, stat="Sum", start=T0 + 5, end=T0 + 62)
    assert window == [Datapoint(T0, 45.0, 6), Datapoint(T0 + 60, 100.0, 1)]
    assert rec.query("ep", "Nope", period=60) == []
    assert rec.query("other", "ModelLatency", period=60) == []


def test_percentiles_match_numpy(rec: MetricsRecorder) -> None:
    values = np.random.default_rng(1).exponential(1000.0, size=3000)
    for i, v in enumerate(values):
        rec.record("ep", "A", "ModelLatency", float(v), now=T0 + (i % 60))
    for stat, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("p100", 100)):
        (dp,) = rec.query("ep", "ModelLatency", period=60, stat=stat)
        assert dp.value == pytest.approx(float(np.percentile(values, q)))
        assert dp.sample_count == 3000


def test_constant_bucket_keeps_no_sample(rec: MetricsRecorder) -> None:
    for _ in range(1000):
        rec.record("ep", "A", "Invocations", 1.0, now=T0)
    rec.record("ep", "A", "Invocations", 1.0, now=T0 + 1)
    series = rec._series[("ep", "A", "Invocations")]
    assert all(b.values is None for b in series.buckets.values())
    (dp,) = rec.query("ep", "Invocations", period=60, stat="p50")
    assert dp.value == 1.0 and dp.sample_count == 1001
    # A distinct value materializes the sample without losing the equal ones.
    rec.record("ep", "A", "Invocations", 3.0, now=T0)
    (dp,) = rec.query("ep", "Invocations", period=1, stat="p99", end=T0 + 1)
    assert dp.value == 1.0
    assert rec.query("ep", "Invocations", period=1, stat="Maximum")[0].value == 3.0


def test_reservoir_percentiles_are_weighted_across_buckets(clock: FakeClock) -> None:
    rec = MetricsRecorder(clock=clock, max_samples=100, rng=random.Random(3))
    rng = np.random.default_rng(2)
    busy = rng.uniform(0.0, 1.0, size=20_000)  # second 0: 20k fast requests, 100 kept
    for v in busy:
        rec.record("ep", "A", "ModelLatency", float(v), now=T0)
    for v in rng.uniform(10.0, 11.0, size=100):  # second 1: 100 slow ones, all kept
        rec.record("ep", "A", "ModelLatency", float(v), now=T0 + 1)
    assert len(rec._series[("ep", "A", "ModelLatency")].buckets[int(T0)].values or []) == 100
    (p50,) = rec.query("ep", "ModelLatency", period=60, stat="p50")
    (p99,) = rec.query("ep", "ModelLatency", period=60, stat="p99")
    (p999,) = rec.query("ep", "ModelLatency", period=60, stat="p99.9")
    # 99.5% of the values are in [0, 1): an unweighted sample would put p50 near 1-10.
    assert 0.3 < p50.value < 0.7
    assert p99.value < 1.0
    assert 10.0 <= p999.value <= 11.0
    assert p50.sample_count == 20_100


def test_weighted_percentile() -> None:
    v = [3.0, 1.0, 2.0, 10.0]
    assert weighted_percentile(v, [1, 1, 1, 1], 50) == float(np.percentile(v, 50))
    # Weights act as repeated values.
    assert weighted_percentile([0.0, 10.0], [1000, 1000], 25) == 0.0
    assert weighted_percentile([0.0, 10.0], [1000, 1000], 75) == 10.0
    expanded = [0.0] * 3 + [5.0] * 2 + [7.0]
    for q in (0, 10, 33, 50, 80, 100):
        assert weighted_percentile([0.0, 5.0, 7.0], [3, 2, 1], q) == pytest.approx(
            float(np.percentile(expanded, q))
        )
    assert weighted_percentile([4.0], [50], 99) == 4.0
    with pytest.raises(ValidationError, match="no values to take a percentile of"):
        weighted_percentile([], [], 50)


def test_variant_filter_and_latest(rec: MetricsRecorder, clock: FakeClock) -> None:
    for t in range(100):
        rec.record("ep", "A", "Invocations", 1.0, now=T0 + t)
        if t % 2 == 0:
            rec.record("ep", "B", "Invocations", 1.0, now=T0 + t)
    rec.record("other", "A", "Invocations", 1.0, now=T0)
    clock.t = T0 + 99
    total = rec.query("ep", "Invocations", period=3600, stat="Sum")
    a = rec.query("ep", "Invocations", variant="A", period=3600, stat="Sum")
    b = rec.query("ep", "Invocations", variant="B", period=3600, stat="Sum")
    assert (a[0].value, b[0].value, total[0].value) == (100.0, 50.0, 150.0)
    assert rec.query("ep", "Invocations", variant="C", period=60) == []
    # latest: buckets with now - window < start <= now.
    assert rec.latest("ep", "Invocations", variant="A", window=10, stat="Sum") == 10.0
    assert rec.latest("ep", "Invocations", window=10, stat="Sum") == 15.0
    assert rec.latest("ep", "Invocations", variant="A", window=0.5, stat="SampleCount") == 1.0
    clock.t = T0 + 99.7
    assert rec.latest("ep", "Invocations", variant="A", window=10, stat="Sum") == 10.0
    assert rec.latest("ep", "ModelLatency", window=10, stat="p99") is None
    assert rec.aggregate("ep", "Invocations", variant="B", stat="Sum") == 50.0
    assert rec.span("ep", "Invocations", variant="B") == (T0, T0 + 98)
    assert rec.variants("ep") == ["A", "B"]
    assert rec.endpoints() == ["ep", "other"]


def test_retention_drops_old_buckets(clock: FakeClock) -> None:
    rec = MetricsRecorder(resolution=1.0, retention=10.0, clock=clock)
    for t in range(30):
        rec.record("ep", "A", "Invocations", 1.0, now=T0 + t)
    series = rec._series[("ep", "A", "Invocations")]
    assert len(series.buckets) <= 11 and min(series.buckets) >= int(T0) + 19
    clock.t = T0 + 29
    assert rec.latest("ep", "Invocations", window=1000, stat="Sum") == 11.0
    # Data beyond retention is never returned, even before a new bucket drops it.
    clock.t = T0 + 100
    assert rec.query("ep", "Invocations", period=60) == []
    assert rec.aggregate("ep", "Invocations") is None


def test_old_buckets_are_compacted(clock: FakeClock) -> None:
    rec = MetricsRecorder(clock=clock, compact_after=10.0, compact_samples=8,
                          rng=random.Random(5))
    for i in range(1000):
        rec.record("ep", "A", "ModelLatency", float(i), now=T0)
    rec.record("ep", "A", "ModelLatency", 5.0, now=T0 + 5)
    bucket = rec._series[("ep", "A", "ModelLatency")].buckets[int(T0)]
    assert bucket.values is not None and len(bucket.values) == 1000
    rec.record("ep", "A", "ModelLatency", 5.0, now=T0 + 20)
    assert bucket.values is not None and len(bucket.values) == 8
    assert (bucket.count, bucket.min, bucket.max) == (1000, 0.0, 999.0)
    (dp,) = rec.query("ep", "ModelLatency", period=1, stat="p50", end=T0 + 1)
    assert 0.0 <= dp.value <= 999.0 and dp.sample_count == 1000


def test_bad_stat_and_period(rec: MetricsRecorder) -> None:
    rec.record("ep", "A", "Invocations", 1.0)
    with pytest.raises(ValidationError, match="Sum, Average, Minimum, Maximum, SampleCount"):
        rec.query("ep", "Invocations", stat="Mean")
    for bad in ("p0", "p101", "p", "P50", "p50.", "avg"):
        with pytest.raises(ValidationError, match=re.escape(f"unknown statistic {bad!r}")):
            check_stat(bad)
    assert check_stat("p99.99") == 99.99 and check_stat("Sum") is None
    with pytest.raises(ValidationError, match="period"):
        rec.query("ep", "Invocations", period=0)
    with pytest.raises(ValidationError, match="window"):
        rec.latest("ep", "Invocations", window=0, stat="Sum")
    with pytest.raises(ValidationError, match="unknown statistic 'Median'"):
        rec.latest("ep", "Invocations", window=5, stat="Median")
    with pytest.raises(ValidationError, match="resolution must be > 0 seconds"):
        MetricsRecorder(resolution=0)


def test_gauges_and_forget(rec: MetricsRecorder, clock: FakeClock) -> None:
    rec.set_gauge("ep", "A", "Replicas", 2)
    clock.t += 1
    rec.set_gauge("ep", "A", "Replicas", 3)
    rec.set_gauge("ep", "B", "CPUUtilization", 55.5)
    rec.record("ep", "A", "Invocations", 1.0)
    rec.record("ep2", "A", "Invocations", 1.0)
    assert rec.gauge("ep", "A", "Replicas") == 3.0
    assert [d.value for d in rec.query("ep", "Replicas", period=1, stat="Maximum")] == [2, 3]
    rec.forget("ep", "A")
    assert rec.gauge("ep", "A", "Replicas") is None
    assert rec.gauge("ep", "B", "CPUUtilization") == 55.5
    assert rec.query("ep", "Invocations", period=60) == []
    assert 'endpoint="ep",variant="A"' not in rec.prometheus()
    rec.forget("ep")
    assert rec.variants("ep") == [] and rec.endpoints() == ["ep2"]


_SAMPLE_RE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*")*)?\})?'
    r' (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$'
)


def _parse(text: str) -> dict[str, list[tuple[str, float]]]:
    """Parse an exposition into {family: [(labels, value)]}, checking the format."""
    assert text.endswith("\n")
    families: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[str, list[tuple[str, float]]] = {}
    for line in text.splitlines():
        assert line, "no blank lines"
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert name not in helped
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary")
            assert name in helped and name not in families
            families[name] = kind
            continue
        m = _SAMPLE_RE.match(line)
        assert m, f"bad sample line {line!r}"
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = name if name in families else base
        assert family in families, f"sample {name} before its TYPE line"
        if families[family] == "histogram":
            assert name != family
        samples.setdefault(name, []).append((m.group(2) or "", float(m.group(3))))
    return samples


def test_prometheus_exposition(rec: MetricsRecorder) -> None:
    weird = 'e"p\\x\nz'
    for ms in (200.0, 800.0, 3000.0, 3_000_000.0, 20_000_000.0):
        rec.record(weird, "A", "Invocations", 1.0)
        rec.record(weird, "A", "ModelLatency", ms)
        rec.record(weird, "A", "OverheadLatency", 50.0)
    rec.record(weird, "A", "Invocation4XXErrors", 1.0)
    rec.record(weird, "A", "Invocation5XXErrors", 1.0)
    rec.record(weird, "A", "Invocation5XXErrors", 1.0)
    rec.record("ep", "B", "Invocations", 1.0)
    rec.set_gauge("ep", "B", "Replicas", 2)
    rec.set_gauge("ep", "B", "MemoryUtilization", 12.5)
    rec.set_gauge("ep", "B", "MemoryBytes", 1e9)
    text = rec.prometheus()
    samples = _parse(text)
    lab = '{endpoint="e\\"p\\\\x\\nz",variant="A"}'
    assert (lab, 5.0) in samples["mlyard_endpoint_invocations_total"]
    assert ('{endpoint="ep",variant="B"}', 1.0) in samples["mlyard_endpoint_invocations_total"]
    errors = dict(samples["mlyard_endpoint_errors_total"])
    assert errors[lab[:-1] + ',code="4xx"}'] == 1.0
    assert errors[lab[:-1] + ',code="5xx"}'] == 2.0
    assert errors['{endpoint="ep",variant="B",code="5xx"}'] == 0.0
    buckets = [(labels, v) for labels, v in samples["mlyard_endpoint_model_latency_seconds_bucket"]
               if labels.startswith(lab[:-1])]
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and buckets[-1][0].endswith('le="+Inf"}')
    assert dict(buckets)[lab[:-1] + ',le="0.001"}'] == 2.0  # 200 us and 800 us
    assert samples["mlyard_endpoint_model_latency_seconds_count"] == [(lab, 5.0)]
    (_, total), = samples["mlyard_endpoint_model_latency_seconds_sum"]
    assert total == pytest.approx(23.004)
    assert samples["mlyard_endpoint_overhead_latency_seconds_count"] == [(lab, 5.0)]
    assert samples["mlyard_endpoint_replicas"] == [('{endpoint="ep",variant="B"}', 2.0)]
    assert samples["mlyard_endpoint_memory_utilization_percent"] == [
        ('{endpoint="ep",variant="B"}', 12.5)
    ]
    assert samples["mlyard_endpoint_memory_bytes"] == [('{endpoint="ep",variant="B"}', 1e9)]
    assert "# TYPE mlyard_endpoint_errors_total counter" in text
    assert "# TYPE mlyard_endpoint_model_latency_seconds histogram" in text
    assert "# TYPE mlyard_endpoint_replicas gauge" in text
    # An empty recorder still exposes valid families.
    empty = MetricsRecorder().prometheus()
    assert _parse(empty) == {} and "# TYPE mlyard_endpoint_invocations_total counter" in empty


def test_prometheus_counters_outlive_retention(clock: FakeClock) -> None:
    rec = MetricsRecorder(retention=10.0, clock=clock)
    for t in range(100):
        rec.record("ep", "A", "Invocations", 1.0, now=T0 + t)
    clock.t = T0 + 1000
    assert rec.aggregate("ep", "Invocations") is None
    assert 'mlyard_endpoint_invocations_total{endpoint="ep",variant="A"} 100' in rec.prometheus()


def test_thread_safety_smoke(clock: FakeClock) -> None:
    rec = MetricsRecorder(clock=clock, max_samples=500)
    n, threads = 10_000, 4
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            for i in range(n):
                rec.record("ep", f"V{k % 2}", "ModelLatency", float(i % 100), now=T0 + i % 30)
                rec.record("ep", f"V{k % 2}", "Invocations", 1.0, now=T0 + i % 30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def read() -> None:
        try:
            while not stop.is_set():
                rec.query("ep", "ModelLatency", period=10, stat="p99")
                rec.latest("ep", "Invocations", window=60, stat="Sum")
                rec.prometheus()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    workers = [threading.Thread(target=write, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    reader.join()
    assert not errors
    clock.t = T0 + 30
    assert rec.aggregate("ep", "Invocations", stat="Sum") == n * threads
    assert rec.aggregate("ep", "ModelLatency", stat="SampleCount") == n * threads
    assert rec.aggregate("ep", "ModelLatency", stat="Sum") == threads * sum(
        float(i % 100) for i in range(n)
    )
    assert f'mlyard_endpoint_invocations_total{{endpoint="ep",variant="V0"}} {2 * n}' in (
        rec.prometheus()
    )
