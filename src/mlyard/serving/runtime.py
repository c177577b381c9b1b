"""Endpoint runtime: the in-memory side of endpoints inside ``mlyard server``.

An :class:`EndpointRuntime` holds the live fleet (the *blue* fleet: one
:class:`VariantRuntime` per production variant, each a :class:`ReplicaPool` of replica
processes), optionally a *green* fleet during a blue/green update, a shadow variant and a
data-capture writer. :meth:`EndpointRuntime.route` picks a variant at random in proportion
to the weights (or the one a request pins). All state that must survive a restart is
written to the metadata store by :class:`mlyard.serving.manager.EndpointManager`.

Each variant counts its requests still in flight in an :class:`Outstanding` (per epoch),
so that a blue/green deployment can wait for the outcome of every request it sent to the
new fleet during a step before judging that step: a request to a crashing replica fails
only after the pool has tried several replicas, seconds after it was routed.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from itertools import accumulate

from mlyard.errors import ValidationError
from mlyard.serving.capture import CaptureWriter
from mlyard.serving.endpoint_specs import EndpointConfig
from mlyard.serving.pool import ReplicaPool


class Outstanding:
    """Requests in flight, counted per epoch (event-loop only, no lock).

    :meth:`begin` returns the current epoch and :meth:`end` takes it back; :meth:`cut`
    starts a new epoch and :meth:`before` counts the requests of earlier epochs still in
    flight: after ``e = cut()``, ``before(e) == 0`` means every request begun before the
    cut has its outcome, however many began since."""

    __slots__ = ("_counts", "epoch")

    def __init__(self) -> None:
        self.epoch = 0
        self._counts: dict[int, int] = {0: 0}

    def begin(self) -> int:
        """Count one request in the current epoch; returns the epoch for :meth:`end`."""
        epoch = self.epoch
        self._counts[epoch] = self._counts.get(epoch, 0) + 1
        return epoch

    def end(self, epoch: int) -> None:
        """One request of ``epoch`` has its outcome."""
        left = self._counts.get(epoch, 0) - 1
        if left <= 0 and epoch != self.epoch:
            self._counts.pop(epoch, None)
        else:
            self._counts[epoch] = max(0, left)

    def cut(self) -> int:
        """Start a new epoch; returns it (epochs with nothing in flight are dropped)."""
        self._counts = {e: n for e, n in self._counts.items() if n > 0}
        self.epoch += 1
        self._counts[self.epoch] = 0
        return self.epoch

    def before(self, epoch: int) -> int:
        """Requests begun in epochs before ``epoch`` and still in flight."""
        return sum(n for e, n in self._counts.items() if e < epoch)

    @property
    def total(self) -> int:
        """Every request in flight."""
        return sum(self._counts.values())


@dataclass
class VariantRuntime:
    """One production (or shadow) variant: its model, weight and replica pool."""

    name: str
    model_name: str
    weight: float
    pool: ReplicaPool
    shadow: bool = False
    sampling: float = 0.0  # shadow only: share of live requests copied, 0..1
    outstanding: Outstanding = field(default_factory=Outstanding)  # green fleet's requests


@dataclass
class Fleet:
    """The variants of one endpoint config, with a cumulative-weight table for routing."""

    config: EndpointConfig
    variants: dict[str, VariantRuntime]
    _names: list[str] = field(default_factory=list)
    _cumulative: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reweigh()

    def reweigh(self) -> None:
        """Rebuild the routing table after weights changed (an atomic swap of two lists)."""
        live = [(n, v.weight) for n, v in self.variants.items() if v.weight > 0]
        names = [n for n, _ in live]
        cumulative = list(accumulate(w for _, w in live))
        self._names, self._cumulative = names, cumulative

    def pick(self, rng: random.Random) -> VariantRuntime:
        """A variant at random in proportion to its weight."""
        names, cumulative = self._names, self._cumulative
        if not names:
            raise ValidationError("every variant of this endpoint has weight 0")
        i = bisect.bisect_right(cumulative, rng.random() * cumulative[-1])
        return self.variants[names[min(i, len(names) - 1)]]

    def pools(self) -> list[ReplicaPool]:
        return [v.pool for v in self.variants.values()]


@dataclass
class EndpointRuntime:
    """A live endpoint."""

    name: str
    blue: Fleet
    shadow: VariantRuntime | None = None
    capture: CaptureWriter | None = None
    green: Fleet | None = None
    green_fraction: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def route(self, target: str | None) -> tuple[VariantRuntime, bool]:
        """The variant for one request and whether it belongs to the green fleet.
        ``target`` pins a variant by name (``X-Amzn-SageMaker-Target-Variant``)."""
        green = self.green
        if target is not None:
            if green is not None and self.green_fraction > 0 and target in green.variants:
                return green.variants[target], True
            variant = self.blue.variants.get(target)
            if variant is None:
                known = sorted(self.blue.variants)
                raise ValidationError(
                    f"endpoint {self.name!r} has no variant {target!r}; variants: {known}")
            return variant, False
        if green is not None and self.green_fraction > 0 and (
                self.green_fraction >= 1.0 or self.rng.random() < self.green_fraction):
            return green.pick(self.rng), True
        return self.blue.pick(self.rng), False

    def all_pools(self) -> list[ReplicaPool]:
        pools = self.blue.pools()
        if self.green is not None:
            pools += self.green.pools()
        if self.shadow is not None:
            pools.append(self.shadow.pool)
        return pools
