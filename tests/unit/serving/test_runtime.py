"""The per-epoch count of requests in flight a deployment waits on (``Outstanding``)."""

from __future__ import annotations

from mlyard.serving.runtime import Outstanding


def test_before_counts_only_requests_begun_before_the_cut() -> None:
    o = Outstanding()
    first, second = o.begin(), o.begin()
    cut = o.cut()
    late = o.begin()
    assert (first, second, late) == (0, 0, cut)
    assert o.before(cut) == 2 and o.total == 3
    o.end(first)
    assert o.before(cut) == 1
    o.end(second)
    assert o.before(cut) == 0 and o.total == 1  # the late one does not hold the cut back
    o.end(late)
    assert o.total == 0


def test_cuts_forget_finished_epochs() -> None:
    o = Outstanding()
    for _ in range(100):
        o.end(o.begin())
        o.cut()
    assert len(o._counts) == 1 and o.total == 0
    held = o.begin()
    for _ in range(3):
        o.cut()
    assert o.before(o.epoch) == 1 and len(o._counts) == 2
    o.end(held)
    assert o.before(o.epoch) == 0 and len(o._counts) == 1
