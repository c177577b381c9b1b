"""Replica gauges of ``mlyard server``: what the replica processes of each variant use.

Every ``MLYARD_MONITOR_INTERVAL`` seconds the server calls :meth:`ReplicaMonitor.sample`,
which records per variant (production and shadow):

- ``ConcurrentRequests``: requests in flight (a series; the ``ConcurrentRequestsPerModel``
  target-tracking policy averages it);
- ``CPUUtilization``: percent of one core per replica, averaged over the replicas (as
  SageMaker's per-instance figure), from the CPU seconds since the previous sample;
- ``MemoryUtilization``: percent of this machine's memory held by the variant's replicas;
- ``Replicas``: the pool's replica count.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import psutil

from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.runtime import EndpointRuntime


class ReplicaMonitor:
    """Samples the replica pools of live endpoints into a metrics recorder."""

    def __init__(self, metrics: MetricsRecorder) -> None:
        self.metrics = metrics
        self._cpu_seen: dict[tuple[str, str], tuple[float, float]] = {}

    def sample(self, runtimes: Iterable[tuple[str, EndpointRuntime]]) -> None:
        """Record the gauges of every variant of ``runtimes`` (``(endpoint, runtime)``)."""
        now = time.monotonic()
        total_memory = float(psutil.virtual_memory().total)
        for name, rt in runtimes:
            variants = list(rt.blue.variants.values())
            if rt.shadow is not None:
                variants.append(rt.shadow)
            for v in variants:
                self.metrics.record(name, v.name, "ConcurrentRequests", float(v.pool.in_flight))
                stats = v.pool.stats()
                if stats:
                    cpu = float(sum(s.cpu_seconds for s in stats))
                    key = (name, v.name)
                    last = self._cpu_seen.get(key)
                    self._cpu_seen[key] = (now, cpu)
                    if last is not None and now > last[0] and cpu >= last[1]:
                        busy = (cpu - last[1]) / (now - last[0]) / len(stats) * 100.0
                        self.metrics.set_gauge(name, v.name, "CPUUtilization", busy)
                    rss = float(sum(s.rss_bytes for s in stats))
                    self.metrics.set_gauge(name, v.name, "MemoryUtilization",
                                           rss / total_memory * 100.0)
                self.metrics.set_gauge(name, v.name, "Replicas", float(v.pool.replicas))

    def forget(self, endpoint: str) -> None:
        """Drop the CPU baseline of a deleted endpoint's variants."""
        for key in [k for k in self._cpu_seen if k[0] == endpoint]:
            del self._cpu_seen[key]
