"""Job log capture: regex metrics, and non-finite values never break the store."""

from __future__ import annotations

from pathlib import Path

from mlyard.core.logcapture import JobLog
from mlyard.core.records import JobType
from mlyard.core.stores import SqlAlchemyStore


def test_non_finite_metrics_are_logged_not_stored(tmp_path: Path) -> None:
    store = SqlAlchemyStore(f"sqlite:///{tmp_path / 'x.db'}")
    store.create_job("j", JobType.TRAINING, {})
    log = JobLog(store, "j", tmp_path / "job.log", [("loss", r"loss=(\S+)")])
    log.metric("train:loss", float("nan"), 1)
    log.metric("train:loss", 0.25, 2)
    log.write("epoch 1 loss=inf")
    log.write("epoch 2 loss=0.5")
    log.write("[rank 1] loss=0.7", parse_metrics=False)
    log.close()
    assert [(p.name, p.value, p.step) for p in store.get_metrics("j")] == [
        ("train:loss", 0.25, 2), ("loss", 0.5, 0)]
    lines = [line.line for line in store.get_logs("j")]
    assert lines[0] == "metric train:loss at step 1 is nan; not stored as a point"
    assert "[rank 1] loss=0.7" in lines
