"""The worker group: rank environment, a dying rank fails the group, stop, reclaim."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from mlyard.training.distributed import WorldSpec, free_port
from mlyard.training.launcher import WorkerFailed, WorkerGroup, WorkerSpec

PRINT_ENV = ("import json, os; print(json.dumps({k: os.environ[k] for k in "
             "('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'SM_CURRENT_HOST', 'SM_HOSTS', "
             "'MASTER_ADDR', 'MASTER_PORT')}))")


def _specs(code_for_rank: dict[int, str], world: WorldSpec) -> list[WorkerSpec]:
    port = free_port()
    return [WorkerSpec(r, [sys.executable, "-c", code_for_rank[r]], world.rank_env(r, port),
                       world.hosts[r // world.processes_per_host])
            for r in range(world.world_size)]


def test_ranks_get_the_distribution_environment(tmp_path: Path) -> None:
    world = WorldSpec(instance_count=2, processes_per_host=2)
    lines: list[tuple[int, str]] = []
    group = WorkerGroup(_specs(dict.fromkeys(range(4), PRINT_ENV), world), tmp_path,
                        lambda r, line: lines.append((r, line)))
    assert group.run(lambda: False) == "completed"
    seen = {r: json.loads(line) for r, line in lines}
    assert sorted(seen) == [0, 1, 2, 3]
    assert [seen[r]["SM_CURRENT_HOST"] for r in range(4)] == ["algo-1", "algo-1",
                                                               "algo-2", "algo-2"]
    assert [seen[r]["LOCAL_RANK"] for r in range(4)] == ["0", "1", "0", "1"]
    assert {seen[r]["WORLD_SIZE"] for r in range(4)} == {"4"}
    assert json.loads(seen[3]["SM_HOSTS"]) == ["algo-1", "algo-2"]
    assert len({seen[r]["MASTER_PORT"] for r in range(4)}) == 1


def test_a_dying_worker_fails_the_group_without_hanging(tmp_path: Path) -> None:
    world = WorldSpec(processes_per_host=2)
    code = {0: "import time; time.sleep(60)",
            1: "import sys; print('loading shard'); sys.exit('rank 1: out of memory')"}
    group = WorkerGroup(_specs(code, world), tmp_path, lambda r, line: None)
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match=r"rank 1 \(algo-1\) exited with code 1.*out of memory"):
        group.run(lambda: False)
    assert time.monotonic() - started < 15
    assert all(w.poll() is not None for w in group.workers)  # rank 0 was killed


def test_stop_and_interrupt(tmp_path: Path) -> None:
    world = WorldSpec()
    sleeper = {0: "import time; time.sleep(60)"}
    t0 = time.monotonic()
    group = WorkerGroup(_specs(sleeper, world), tmp_path, lambda r, line: None)
    assert group.run(lambda: time.monotonic() - t0 > 0.5) == "stopped"
    group = WorkerGroup(_specs(sleeper, world), tmp_path, lambda r, line: None)
    t1 = time.monotonic()
    assert group.run(lambda: False, interrupt=lambda: time.monotonic() - t1 > 0.5) \
        == "interrupted"
    assert group.workers[0].poll() is not None
