"""Checkpoints: atomic saves, verification, fingerprints, pruning, the schedule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlyard.training.checkpoint import (
    CONFIG_ENV,
    DIR_ENV,
    CheckpointError,
    CheckpointManager,
    checkpoint_env,
)

FP = {"algorithm": "bert", "labels": ["a", "b"], "world_size": 1}


def _write(text: str):  # type: ignore[no-untyped-def]
    return lambda folder: (folder / "state.bin").write_text(text)


def test_save_and_latest_round_trip(tmp_path: Path) -> None:
    mgr = CheckpointManager(tmp_path, FP, every_steps=2, keep=2)
    assert mgr.latest() is None
    for step in (2, 4, 6):
        mgr.save(step, 1, _write(f"s{step}"), meta={"step_in_epoch": step})
    names = sorted(p.name for p in tmp_path.glob("checkpoint-*"))
    assert names == ["checkpoint-000000004", "checkpoint-000000006"]  # keep=2 pruned step 2
    found = mgr.latest()
    assert found is not None and found.step == 6 and found.meta == {"step_in_epoch": 6}
    assert found.file("state.bin").read_text() == "s6"
    assert mgr.saves == 3 and mgr.save_seconds > 0


def test_schedule() -> None:
    mgr = CheckpointManager(Path("/nonexistent"), FP, every_steps=500)
    assert [s for s in range(1, 1501) if mgr.due(s)] == [500, 1000, 1500]
    timed = CheckpointManager(Path("/nonexistent"), FP, every_steps=0, every_seconds=1e-9)
    assert timed.due(1)


def test_corrupt_checkpoint_is_an_error(tmp_path: Path) -> None:
    mgr = CheckpointManager(tmp_path, FP)
    path = mgr.save(10, 1, _write("good"))
    assert path is not None
    (path / "state.bin").write_text("evil")
    with pytest.raises(CheckpointError, match="corrupt"):
        mgr.latest()
    (path / "mlyard-checkpoint.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        mgr.latest()


def test_incomplete_checkpoint_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-000000003").mkdir()
    with pytest.raises(CheckpointError, match="incomplete"):
        CheckpointManager(tmp_path, FP).latest()


def test_checkpoint_of_another_model_is_an_error(tmp_path: Path) -> None:
    CheckpointManager(tmp_path, FP).save(5, 1, _write("x"))
    other = CheckpointManager(tmp_path, {**FP, "labels": ["x", "y", "z"]})
    with pytest.raises(CheckpointError, match=r"different model.*labels"):
        other.latest()


def test_restart_policy_moves_bad_checkpoints_aside(tmp_path: Path) -> None:
    CheckpointManager(tmp_path, FP).save(5, 1, _write("x"))
    logs: list[str] = []
    other = CheckpointManager(tmp_path, {**FP, "world_size": 2}, on_invalid="restart",
                              log=logs.append)
    assert other.latest() is None
    assert "starting from scratch" in logs[0]
    assert not list(tmp_path.glob("checkpoint-*"))
    assert list(tmp_path.glob("invalid-*/checkpoint-000000005"))


def test_a_failed_write_leaves_no_checkpoint(tmp_path: Path) -> None:
    mgr = CheckpointManager(tmp_path, FP)
    mgr.save(1, 1, _write("ok"))

    def boom(folder: Path) -> None:
        (folder / "state.bin").write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        mgr.save(2, 1, boom)
    assert [p.name for p in tmp_path.iterdir() if p.name != ".mlyard-saves"] \
        == ["checkpoint-000000001"]
    latest = mgr.latest()
    assert latest is not None and latest.step == 1


def test_non_writer_ranks_do_not_write(tmp_path: Path) -> None:
    mgr = CheckpointManager(tmp_path, FP, writer=False)
    assert mgr.save(1, 1, _write("x")) is None
    assert not list(tmp_path.iterdir())


def test_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DIR_ENV, raising=False)
    assert CheckpointManager.from_env(FP) is None
    env = checkpoint_env(tmp_path, every_steps=7, every_seconds=None, keep=3,
                         on_invalid="restart")
    assert json.loads(env[CONFIG_ENV])["every_steps"] == 7
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    mgr = CheckpointManager.from_env(FP)
    assert mgr is not None and mgr.every_steps == 7 and mgr.keep == 3
    assert mgr.on_invalid == "restart" and mgr.directory == tmp_path


def test_background_saves_write_in_a_thread(tmp_path: Path) -> None:
    import threading

    release = threading.Event()

    def slow(folder: Path) -> None:
        release.wait(5)
        (folder / "state.bin").write_text("late")

    mgr = CheckpointManager(tmp_path, FP, background=True)
    mgr.save(3, 1, slow)
    assert not list(tmp_path.glob("checkpoint-*"))  # returned before the write
    release.set()
    mgr.wait()
    found = mgr.latest()
    assert found is not None and found.step == 3 and mgr.write_seconds > 0

    def broken(folder: Path) -> None:
        raise OSError("disk full")

    mgr.save(4, 1, broken)
    with pytest.raises(OSError, match="disk full"):
        mgr.wait()
