"""Endpoint metrics in memory: mlyard's CloudWatch for real-time endpoints.

A :class:`MetricsRecorder` keeps one time series per ``(endpoint, variant, metric)``: a ring
of time buckets of ``resolution`` seconds, each holding the count, sum, minimum and maximum of
the values recorded in it and a sample of the values themselves (for percentiles). Buckets
older than ``retention`` seconds are dropped lazily (when a series gets a new bucket or is
queried). Statistics over any period are computed from the buckets, CloudWatch style:
:meth:`MetricsRecorder.query` returns one :class:`Datapoint` per period that has data,
:meth:`MetricsRecorder.latest` one value over the last ``window`` seconds (what the
autoscaler and the deployment alarms read). :meth:`MetricsRecorder.prometheus` renders
cumulative counters, latency histograms and gauges in the Prometheus text format 0.0.4.

Metric names and units are SageMaker's (see :data:`METRICS`). What the router records for
each request routed to a variant:

* ``Invocations`` = 1 (every request the variant was chosen for, whatever its outcome:
  answered, refused by the replica (4xx), failed in the model (424/5xx) or failed in the
  pool before any replica answered (503: no healthy replica, overloaded, every replica
  tried died));
* ``InvocationsPerReplica`` = ``1 / replicas`` (the variant's replica count when the
  request arrived), so that its ``Sum`` over a minute is SageMaker's
  ``InvocationsPerInstance`` even while the replica count changes within the minute;
* ``ModelLatency`` and ``OverheadLatency`` in **microseconds**; a request no replica
  answered has no ``ModelLatency`` and its whole time in the server as ``OverheadLatency``
  (so the p99 alarm of a deployment sees requests that waited for a crashing replica);
* ``Invocation4XXErrors`` = 1 for a request refused as the client's error (bad payload,
  unsupported type) and ``Invocation5XXErrors`` = 1 for one the model or the server failed
  (424 model error, 5xx, 503 from the pool); alarms read the 5xx series only, so bad
  input sent by clients never rolls a deployment back (0 may be recorded for successes so
  that ``Average`` is the error rate; ``Sum`` is the count either way).
  :func:`error_metric` classifies a status.

Gauges (``Replicas``, ``CPUUtilization``, ``MemoryUtilization``,
``ConcurrentRequestsPerModel``, ...) are set with :meth:`MetricsRecorder.set_gauge`, which
also records the value as a point of the time series. A shadow variant records the same
metric names under its own variant name.

Hot path: :meth:`MetricsRecorder.record` takes one lock and updates one bucket (a few
microseconds). Percentiles use a reservoir sample of at most ``max_samples`` values per
bucket; buckets older than ``compact_after`` seconds are cut down to ``compact_samples``
values to bound memory over a day of retention. Percentiles weight each sampled value by
the number of values it stands for, so they stay unbiased across buckets sampled at
different rates. A bucket whose values are all equal (``Invocations``) keeps no sample.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from mlyard.errors import ValidationError

INVOCATIONS = "Invocations"
INVOCATIONS_PER_REPLICA = "InvocationsPerReplica"
MODEL_LATENCY = "ModelLatency"
OVERHEAD_LATENCY = "OverheadLatency"
INVOCATION_4XX_ERRORS = "Invocation4XXErrors"
INVOCATION_5XX_ERRORS = "Invocation5XXErrors"
MODEL_SETUP_TIME = "ModelSetupTime"
CPU_UTILIZATION = "CPUUtilization"
MEMORY_UTILIZATION = "MemoryUtilization"
CONCURRENT_REQUESTS_PER_MODEL = "ConcurrentRequestsPerModel"
REPLICAS = "Replicas"
CONCURRENT_REQUESTS = "ConcurrentRequests"
SHADOW_AGREEMENT = "ShadowAgreement"

#: The metrics the serving stack records: name -> (unit, description). Any other name may
#: be recorded too (custom or shadow metrics); these are the ones with a fixed meaning.
METRICS: dict[str, tuple[str, str]] = {
    INVOCATIONS: ("Count", "Requests routed to the variant (1 per request, errors included)"),
    INVOCATIONS_PER_REPLICA: (
        "Count",
        "1/replicas per request: its Sum over a period is invocations per replica",
    ),
    MODEL_LATENCY: ("Microseconds", "Time the model took to answer, as seen by the router"),
    OVERHEAD_LATENCY: ("Microseconds", "Time spent in the server outside the model"),
    INVOCATION_4XX_ERRORS: ("Count", "Requests answered with a 4xx status"),
    INVOCATION_5XX_ERRORS: ("Count", "Requests answered with a 5xx status"),
    MODEL_SETUP_TIME: ("Microseconds", "Time to start a replica and load its model"),
    CPU_UTILIZATION: ("Percent", "CPU use of the variant's replicas (100 = one core)"),
    MEMORY_UTILIZATION: ("Percent", "Memory use of the variant's replicas"),
    CONCURRENT_REQUESTS_PER_MODEL: ("Count", "Requests in flight per replica"),
    REPLICAS: ("Count", "Replica processes of the variant"),
    CONCURRENT_REQUESTS: ("Count", "Requests in flight in the variant's pool (sampled)"),
    SHADOW_AGREEMENT: ("None", "Share of shadow answers whose top label equals the live one"),
}

#: The statistics every query accepts; any percentile ``pNN`` or ``pNN.N`` (0 < NN <= 100)
#: is accepted too.
STATS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount", "p50", "p90", "p99")
_PERCENTILE_RE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100(?:\.0+)?)$")

#: Upper bounds (seconds) of the Prometheus latency histogram buckets (``+Inf`` implied).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

_PROM_GAUGES: dict[str, tuple[str, str]] = {
    REPLICAS: ("mlyard_endpoint_replicas", "Replica processes of the variant"),
    CPU_UTILIZATION: (
        "mlyard_endpoint_cpu_utilization_percent",
        "CPU use of the variant's replicas in percent (100 = one core)",
    ),
    MEMORY_UTILIZATION: (
        "mlyard_endpoint_memory_utilization_percent",
        "Memory use of the variant's replicas in percent",
    ),
    CONCURRENT_REQUESTS_PER_MODEL: (
        "mlyard_endpoint_concurrent_requests_per_model",
        "Requests in flight per replica",
    ),
}
_PROM_LATENCIES: dict[str, tuple[str, str]] = {
    MODEL_LATENCY: ("mlyard_endpoint_model_latency_seconds", "Model latency in seconds"),
    OVERHEAD_LATENCY: (
        "mlyard_endpoint_overhead_latency_seconds",
        "Server overhead latency in seconds",
    ),
}
_ERROR_CODES = {INVOCATION_4XX_ERRORS: "4xx", INVOCATION_5XX_ERRORS: "5xx"}


@dataclass(frozen=True, slots=True)
class Datapoint:
    """One statistic over one period: ``timestamp`` is the period's start (epoch seconds),
    ``sample_count`` the number of values recorded in it."""

    timestamp: float
    value: float
    sample_count: int


class _Bucket:
    """The values recorded in one time bucket. ``values`` is None while every value equals
    ``min`` (then the sample is implied), else a reservoir sample of at most ``cap``."""

    __slots__ = ("count", "max", "min", "sum", "values")

    def __init__(self, value: float) -> None:
        self.count = 1
        self.sum = value
        self.min = value
        self.max = value
        self.values: array[float] | None = None

    def add(self, value: float, cap: int, rand: Callable[[], float]) -> None:
        self.count += 1
        self.sum += value
        values = self.values
        if values is None:
            if value == self.min:
                return
            # First distinct value: materialize the implied sample of equal values.
            values = self.values = array("d", [self.min]) * min(self.count - 1, cap)
        if value < self.min:
            self.min = value
        elif value > self.max:
            self.max = value
        if len(values) < cap:
            values.append(value)
        else:  # reservoir sampling (algorithm R)
            j = int(rand() * self.count)
            if j < cap:
                values[j] = value

    def sample(self) -> tuple[array[float] | list[float], float]:
        """The sampled values and the weight of each (values it stands for)."""
        if self.values is None:
            n = min(self.count, 1)
            return [self.min] * n, self.count / n
        return self.values, self.count / len(self.values)

    def compact(self, keep: int, rng: random.Random) -> None:
        values = self.values
        if values is not None and len(values) > keep:
            self.values = array("d", rng.sample(list(values), keep))


class _Series:
    __slots__ = ("buckets", "compact_order", "order")

    def __init__(self) -> None:
        self.buckets: dict[int, _Bucket] = {}
        self.order: deque[int] = deque()  # bucket indexes, in creation order
        self.compact_order: deque[int] = deque()  # buckets not compacted yet


class _PromTotals:
    """Cumulative per-variant counters and histograms (not subject to retention)."""

    __slots__ = ("errors", "invocations", "latency")

    def __init__(self) -> None:
        self.invocations = 0.0
        self.errors = {"4xx": 0.0, "5xx": 0.0}
        # metric -> [bucket counts (non-cumulative, last one +Inf), sum (s), count]
        self.latency: dict[str, tuple[list[int], list[float]]] = {}

    def observe_latency(self, metric: str, seconds: float) -> None:
        entry = self.latency.get(metric)
        if entry is None:
            entry = self.latency[metric] = ([0] * (len(LATENCY_BUCKETS) + 1), [0.0, 0.0])
        entry[0][bisect_left(LATENCY_BUCKETS, seconds)] += 1
        entry[1][0] += seconds
        entry[1][1] += 1


def error_metric(status: int) -> str | None:
    """The error metric an answer with HTTP ``status`` counts in: ``Invocation5XXErrors`` for
    5xx and 424 (the model failed: SageMaker's ``ModelError``), ``Invocation4XXErrors`` for
    other 4xx (the client's error), None for success."""
    if status >= 500 or status == 424:
        return INVOCATION_5XX_ERRORS
    if status >= 400:
        return INVOCATION_4XX_ERRORS
    return None


def check_stat(stat: str) -> float | None:
    """Validate ``stat``; returns the percentile it names (0..100) or None for the others.

    Raises :class:`~mlyard.errors.ValidationError` listing the allowed statistics."""
    if stat in STATS[:5]:
        return None
    m = _PERCENTILE_RE.match(stat)
    if m is None or float(m.group(1)) <= 0.0:
        raise ValidationError(
            f"unknown statistic {stat!r}; allowed: {', '.join(STATS[:5])} "
            "or a percentile pNN / pNN.N (e.g. p50, p90, p99, p99.9)"
        )
    return float(m.group(1))


def weighted_percentile(
    values: Iterable[float], weights: Iterable[float], q: float
) -> float:
    """The ``q``-th percentile (0..100) of ``values``, each standing for ``weights`` (>= 1)
    equal values.

    Each value is treated as ``weight`` copies of itself and the percentile is interpolated
    linearly between order statistics, so with all weights 1 this is numpy's default
    (linear) percentile. Weights need not be whole numbers."""
    v = np.fromiter(values, dtype=np.float64)
    w = np.fromiter(weights, dtype=np.float64)
    if v.size == 0:
        raise ValidationError("no values to take a percentile of")
    if np.all(w == 1.0):
        return float(np.percentile(v, q))
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    first = np.cumsum(w) - w  # position of each value's first copy, 0-based
    last = first + w - 1.0  # position of its last copy
    span = last[-1]
    if span <= 0:
        return float(v[-1])
    positions = np.empty(2 * v.size)
    positions[0::2] = first / span
    positions[1::2] = last / span
    return float(np.interp(q / 100.0, positions, np.repeat(v, 2)))


def _aggregate(buckets: list[_Bucket], stat: str, q: float | None) -> float:
    if stat == "Sum":
        return math.fsum(b.sum for b in buckets)
    if stat == "SampleCount":
        return float(sum(b.count for b in buckets))
    if stat == "Average":
        return math.fsum(b.sum for b in buckets) / sum(b.count for b in buckets)
    if stat == "Minimum":
        return min(b.min for b in buckets)
    if stat == "Maximum":
        return max(b.max for b in buckets)
    assert q is not None
    if len(buckets) == 1 and buckets[0].values is None:
        return buckets[0].min
    samples = [b.sample() for b in buckets]
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s, _ in samples])
    weights = np.concatenate([np.full(len(s), w) for s, w in samples])
    return weighted_percentile(values, weights, q)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return re.sub(r"[^a-zA-Z0-9_]", "_", s).lower()


class MetricsRecorder:
    """Thread-safe in-memory time series of endpoint metrics (see the module docstring).

    ``resolution``: bucket width in seconds (the finest period a query can resolve);
    ``retention``: seconds of data kept; ``clock``: the time source (epoch seconds);
    ``max_samples``: values kept per bucket for percentiles (reservoir sampling beyond);
    ``compact_after`` / ``compact_samples``: buckets older than ``compact_after`` seconds
    keep only ``compact_samples`` values; ``rng``: the sampling randomness (seed it in tests).
    """

    def __init__(
        self,
        resolution: float = 1.0,
        retention: float = 86400.0,
        clock: Callable[[], float] = time.time,
        *,
        max_samples: int = 10_000,
        compact_after: float = 3600.0,
        compact_samples: int = 64,
        rng: random.Random | None = None,
    ) -> None:
        if not resolution > 0:
            raise ValidationError(f"resolution must be > 0 seconds, got {resolution}")
        if not retention >= resolution:
            raise ValidationError(
                f"retention must be >= resolution ({resolution} s), got {retention}"
            )
        if max_samples < 1 or compact_samples < 1:
            raise ValidationError("max_samples and compact_samples must be >= 1")
        self._resolution = float(resolution)
        self._retention = float(retention)
        self._clock = clock
        self._cap = int(max_samples)
        self._compact_keep = int(compact_samples)
        self._retention_buckets = math.ceil(retention / resolution)
        self._compact_buckets = math.ceil(compact_after / resolution)
        self._rng = rng if rng is not None else random.Random()
        self._rand = self._rng.random
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._prom: dict[tuple[str, str], _PromTotals] = {}
        self._gauges: dict[tuple[str, str, str], float] = {}

    @property
    def resolution(self) -> float:
        """Bucket width in seconds."""
        return self._resolution

    @property
    def retention(self) -> float:
        """Seconds of data kept."""
        return self._retention

    def now(self) -> float:
        """The recorder's clock."""
        return self._clock()

    # -- writing -------------------------------------------------------------------------

    def record(
        self, endpoint: str, variant: str, metric: str, value: float, now: float | None = None
    ) -> None:
        """Add ``value`` to the ``metric`` series of ``endpoint``/``variant`` at time ``now``
        (default: the clock). Counter metrics (invocations, errors) and latencies also feed
        the cumulative Prometheus series."""
        t = self._clock() if now is None else now
        idx = int(t // self._resolution)
        key = (endpoint, variant, metric)
        with self._lock:
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = _Series()
            bucket = series.buckets.get(idx)
            if bucket is None:
                series.buckets[idx] = _Bucket(value)
                series.order.append(idx)
                series.compact_order.append(idx)
                self._maintain(series, idx)
            else:
                bucket.add(value, self._cap, self._rand)
            if metric in _PROM_METRICS:
                self._observe(endpoint, variant, metric, value)

    def _observe(self, endpoint: str, variant: str, metric: str, value: float) -> None:
        totals = self._prom.get((endpoint, variant))
        if totals is None:
            totals = self._prom[(endpoint, variant)] = _PromTotals()
        if metric == INVOCATIONS:
            totals.invocations += value
        elif metric in _ERROR_CODES:
            totals.errors[_ERROR_CODES[metric]] += value
        else:
            totals.observe_latency(metric, value / 1e6)

    def _maintain(self, series: _Series, newest: int) -> None:
        """Drop buckets beyond retention and compact old ones (lock held)."""
        oldest_kept = newest - self._retention_buckets
        order, buckets = series.order, series.buckets
        while order and order[0] < oldest_kept:
            buckets.pop(order.popleft(), None)
        compact_before = newest - self._compact_buckets
        pending = series.compact_order
        while pending and pending[0] < compact_before:
            bucket = buckets.get(pending.popleft())
            if bucket is not None:
                bucket.compact(self._compact_keep, self._rng)

    def set_gauge(self, endpoint: str, variant: str, metric: str, value: float) -> None:
        """Set a gauge (``Replicas``, ``CPUUtilization``, ``MemoryUtilization``, ...) shown
        by :meth:`prometheus`; the value is also recorded as a point of the time series."""
        self.record(endpoint, variant, metric, value)
        with self._lock:
            self._gauges[(endpoint, variant, metric)] = float(value)

    def gauge(self, endpoint: str, variant: str, metric: str) -> float | None:
        """The last value :meth:`set_gauge` set, or None."""
        with self._lock:
            return self._gauges.get((endpoint, variant, metric))

    def forget(self, endpoint: str, variant: str | None = None) -> None:
        """Drop every series, counter and gauge of ``endpoint`` (of one variant if given)."""

        def match(e: str, v: str) -> bool:
            return e == endpoint and (variant is None or v == variant)

        with self._lock:
            for key in [k for k in self._series if match(k[0], k[1])]:
                del self._series[key]
            for pkey in [k for k in self._prom if match(k[0], k[1])]:
                del self._prom[pkey]
            for gkey in [k for k in self._gauges if match(k[0], k[1])]:
                del self._gauges[gkey]

    # -- reading -------------------------------------------------------------------------

    def endpoints(self) -> list[str]:
        """Endpoints with any series, sorted."""
        with self._lock:
            return sorted({k[0] for k in self._series} | {k[0] for k in self._gauges})

    def variants(self, endpoint: str) -> list[str]:
        """Variants of ``endpoint`` with any series, sorted."""
        with self._lock:
            return sorted({k[1] for k in self._series if k[0] == endpoint})

    def metric_names(self, endpoint: str, variant: str | None = None) -> list[str]:
        """Metric names with any series of ``endpoint`` (of one variant if given), sorted."""
        with self._lock:
            return sorted({k[2] for k in self._series
                           if k[0] == endpoint and (variant is None or k[1] == variant)})

    def _index_range(self, start: float | None, end: float | None) -> tuple[float, float]:
        """Bucket indexes ``[lo, hi)`` of the buckets whose start ``t`` has ``start <= t <
        end``, within retention."""
        res = self._resolution
        lo: float = self._clock() // res - self._retention_buckets
        if start is not None:
            lo = max(lo, math.ceil(start / res))
        hi = math.inf if end is None else math.ceil(end / res)
        return lo, hi

    def _collect(
        self, endpoint: str, metric: str, variant: str | None, lo: float, hi: float
    ) -> list[tuple[int, _Bucket]]:
        """(index, bucket) of the matching series with ``lo <= index < hi`` (lock held)."""
        if variant is not None:
            one = self._series.get((endpoint, variant, metric))
            matching = [one] if one is not None else []
        else:
            matching = [
                s for k, s in self._series.items() if k[0] == endpoint and k[2] == metric
            ]
        out: list[tuple[int, _Bucket]] = []
        for series in matching:
            for idx, bucket in series.buckets.items():
                if lo <= idx < hi:
                    out.append((idx, bucket))
        return out

    def query(
        self,
        endpoint: str,
        metric: str,
        *,
        variant: str | None = None,
        period: float = 60.0,
        stat: str = "Sum",
        start: float | None = None,
        end: float | None = None,
    ) -> list[Datapoint]:
        """``stat`` of ``metric`` per ``period`` seconds, oldest first, only periods with
        data. ``variant`` None aggregates every variant of the endpoint. Periods are aligned
        to multiples of ``period`` since the epoch (as CloudWatch); a bucket belongs to the
        period its start falls in. ``start``/``end`` (epoch seconds) select the buckets whose
        start ``t`` has ``start <= t < end``; data beyond retention is never returned."""
        if not period > 0:
            raise ValidationError(f"period must be > 0 seconds, got {period}")
        q = check_stat(stat)
        res = self._resolution
        with self._lock:
            lo, hi = self._index_range(start, end)
            groups: dict[int, list[_Bucket]] = {}
            for idx, bucket in self._collect(endpoint, metric, variant, lo, hi):
                groups.setdefault(int((idx * res) // period), []).append(bucket)
            return [
                Datapoint(
                    timestamp=float(key * period),
                    value=_aggregate(buckets, stat, q),
                    sample_count=sum(b.count for b in buckets),
                )
                for key, buckets in sorted(groups.items())
            ]

    def aggregate(
        self,
        endpoint: str,
        metric: str,
        *,
        variant: str | None = None,
        stat: str = "Sum",
        start: float | None = None,
        end: float | None = None,
    ) -> float | None:
        """``stat`` over every bucket whose start lies in ``[start, end)`` (all retained
        data by default), or None when there is none."""
        q = check_stat(stat)
        with self._lock:
            lo, hi = self._index_range(start, end)
            buckets = [b for _, b in self._collect(endpoint, metric, variant, lo, hi)]
            return _aggregate(buckets, stat, q) if buckets else None

    def span(
        self, endpoint: str, metric: str, *, variant: str | None = None
    ) -> tuple[float, float] | None:
        """Start times of the oldest and newest retained buckets with data, or None."""
        with self._lock:
            lo, hi = self._index_range(None, None)
            idxs = [i for i, _ in self._collect(endpoint, metric, variant, lo, hi)]
        if not idxs:
            return None
        return min(idxs) * self._resolution, max(idxs) * self._resolution

    def latest(
        self,
        endpoint: str,
        metric: str,
        *,
        variant: str | None = None,
        window: float,
        stat: str,
    ) -> float | None:
        """``stat`` over the last ``window`` seconds, or None without data: the buckets
        whose start ``t`` has ``now - window < t <= now`` (at bucket granularity; the
        current, still filling bucket included)."""
        if not window > 0:
            raise ValidationError(f"window must be > 0 seconds, got {window}")
        q = check_stat(stat)
        res = self._resolution
        with self._lock:
            now = self._clock()
            newest = now // res
            lo = max(math.floor((now - window) / res) + 1, newest - self._retention_buckets)
            buckets = [b for _, b in self._collect(endpoint, metric, variant, lo, newest + 1)]
            return _aggregate(buckets, stat, q) if buckets else None

    # -- Prometheus ----------------------------------------------------------------------

    def prometheus(self) -> str:
        """Every endpoint's counters, latency histograms and gauges in the Prometheus text
        exposition format 0.0.4 (cumulative since the recorder started or the variant was
        last forgotten)."""
        with self._lock:
            prom = {
                k: (t.invocations, dict(t.errors),
                    {m: (list(c), list(s)) for m, (c, s) in t.latency.items()})
                for k, t in self._prom.items()
            }
            gauges = dict(self._gauges)
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.append(f"# HELP {name} {_escape_help(help_text)}")
            lines.append(f"# TYPE {name} {kind}")

        def labels(endpoint: str, variant: str, **extra: str) -> str:
            pairs = [("endpoint", endpoint), ("variant", variant), *extra.items()]
            return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in pairs) + "}"

        keys = sorted(prom)
        family(
            "mlyard_endpoint_invocations_total", "counter", "Requests routed to the variant"
        )
        for key in keys:
            lines.append(f"mlyard_endpoint_invocations_total{labels(*key)} {_fmt(prom[key][0])}")
        family(
            "mlyard_endpoint_errors_total", "counter",
            "Failed requests by status class (code 4xx or 5xx)",
        )
        for key in keys:
            for code in ("4xx", "5xx"):
                count_text = _fmt(prom[key][1][code])
                lines.append(
                    f"mlyard_endpoint_errors_total{labels(*key, code=code)} {count_text}"
                )
        for metric, (name, help_text) in _PROM_LATENCIES.items():
            family(name, "histogram", help_text)
            for key in keys:
                entry = prom[key][2].get(metric)
                if entry is None:
                    continue
                counts, (total, count) = entry
                running = 0
                for bound, c in zip((*LATENCY_BUCKETS, math.inf), counts, strict=True):
                    running += c
                    lines.append(f"{name}_bucket{labels(*key, le=_fmt(bound))} {running}")
                lines.append(f"{name}_sum{labels(*key)} {_fmt(total)}")
                lines.append(f"{name}_count{labels(*key)} {_fmt(count)}")
        metrics_seen = {m for _, _, m in gauges}
        others = sorted(metrics_seen - set(_PROM_GAUGES))
        families = [(m, *_PROM_GAUGES[m]) for m in _PROM_GAUGES] + [
            (m, f"mlyard_endpoint_{_snake(m)}", f"Gauge {m}") for m in others
        ]
        for metric, name, help_text in families:
            family(name, "gauge", help_text)
            for (endpoint, variant, m), value in sorted(gauges.items()):
                if m == metric:
                    lines.append(f"{name}{labels(endpoint, variant)} {_fmt(value)}")
        return "\n".join(lines) + "\n"


_PROM_METRICS = frozenset({INVOCATIONS, *_ERROR_CODES, *_PROM_LATENCIES})
