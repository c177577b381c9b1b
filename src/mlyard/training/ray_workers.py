"""Training workers as Ray actors, for jobs run by the Ray executor.

Each rank's process is started by a small supervising actor (:class:`_WorkerActor`) placed
by Ray (``SPREAD`` over the cluster's nodes), so a multi-process training job uses the
cluster rather than the node its job process landed on. Rank 0's actor picks the master
address (its node's IP) and a free port there; every rank's environment is rewritten with
them. The actors offer what :class:`mlyard.training.launcher.WorkerHandle` needs: poll,
drain, signal, wait. The job process reaches the cluster through ``RAY_ADDRESS`` (set by
:class:`mlyard.core.executors.ray_executor.RayExecutor`) or ``MLYARD_RAY_ADDRESS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlyard.training.launcher import LocalWorker, WorkerSpec

#: CPUs each supervising actor reserves (the training process itself is not a Ray task).
ACTOR_CPUS = 0.0


class _WorkerActor:
    """Runs one worker process on the actor's node (the body of the Ray actor)."""

    def __init__(self) -> None:
        self.worker: LocalWorker | None = None

    def node_ip(self) -> str:
        import ray

        return str(ray.util.get_node_ip_address())

    def free_port(self) -> int:
        from mlyard.training.distributed import free_port

        return free_port()

    def start(self, rank: int, command: list[str], env: dict[str, str], cwd: str) -> int:
        self.worker = LocalWorker(rank, command, env, Path(cwd))
        return self.worker.pid

    def poll(self) -> int | None:
        assert self.worker is not None
        return self.worker.poll()

    def drain(self) -> list[str]:
        assert self.worker is not None
        return self.worker.drain()

    def signal(self, sig: int) -> None:
        if self.worker is not None:
            self.worker.signal(sig)

    def wait(self, timeout: float) -> int | None:
        assert self.worker is not None
        return self.worker.wait(timeout)


class RayWorker:
    """A :class:`WorkerHandle` whose process runs under a Ray actor."""

    def __init__(self, rank: int, actor: Any) -> None:
        import ray

        self.rank = rank
        self._actor = actor
        self._ray = ray

    def poll(self) -> int | None:
        result = self._ray.get(self._actor.poll.remote())
        return None if result is None else int(result)

    def drain(self) -> list[str]:
        return list(self._ray.get(self._actor.drain.remote()))

    def signal(self, sig: int) -> None:
        self._ray.get(self._actor.signal.remote(sig))

    def wait(self, timeout: float) -> int | None:
        result = self._ray.get(self._actor.wait.remote(timeout))
        return None if result is None else int(result)


class RayWorkerStarter:
    """Starts each rank under its own actor; pass :meth:`start` as the worker group's
    ``start`` function. :meth:`close` kills the actors."""

    def __init__(self, address: str | None) -> None:
        import ray

        from mlyard.core.executors.ray_executor import connect_ray

        connect_ray(address)
        self._ray = ray
        self._cls = ray.remote(num_cpus=ACTOR_CPUS, scheduling_strategy="SPREAD")(_WorkerActor)
        self._actors: list[Any] = []
        self._master: tuple[str, int] | None = None

    def start(self, spec: WorkerSpec, cwd: Path) -> RayWorker:
        actor: Any = self._cls.remote()
        self._actors.append(actor)
        env = dict(spec.env)
        if "MASTER_ADDR" in env:
            if self._master is None:  # rank 0 comes first: its node hosts the rendezvous
                self._master = (str(self._ray.get(actor.node_ip.remote())),
                                int(self._ray.get(actor.free_port.remote())))
            host, port = self._master
            env.update(MASTER_ADDR=host, SM_MASTER_ADDR=host, MASTER_PORT=str(port))
        self._ray.get(actor.start.remote(spec.rank, spec.command, env, str(cwd)))
        return RayWorker(spec.rank, actor)

    def close(self) -> None:
        for actor in self._actors:
            try:
                self._ray.kill(actor)
            except Exception:
                continue
        self._actors.clear()
