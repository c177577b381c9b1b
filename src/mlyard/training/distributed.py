"""Distributed training: the SageMaker/torchrun environment contract and torch helpers.

A job with ``instance_count`` hosts and ``processes_per_host`` processes per host runs
``world_size = instance_count * processes_per_host`` worker processes. Locally the hosts are
simulated (``algo-1``, ``algo-2``, ... all on this machine). Each worker sees torchrun's
variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``) and SageMaker's (``SM_HOSTS``, ``SM_CURRENT_HOST``,
``SM_CURRENT_HOST_RANK``, ``SM_NUM_PROCESSES``, ``SM_RESOURCE_CONFIG``,
``SM_DISTRIBUTION_STRATEGY``), so ``torch.distributed.init_process_group()`` with the
``env://`` method works unchanged in a user's script.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Strategy = Literal["ddp", "fsdp"]


def host_name(index: int) -> str:
    """SageMaker's host names: ``algo-1``, ``algo-2``, ..."""
    return f"algo-{index + 1}"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class WorldSpec:
    """The shape of a training run: hosts × processes per host, and the strategy."""

    instance_count: int = 1
    processes_per_host: int = 1
    strategy: Strategy = "ddp"
    backend: str = "auto"

    @property
    def world_size(self) -> int:
        return self.instance_count * self.processes_per_host

    @property
    def hosts(self) -> list[str]:
        return [host_name(i) for i in range(self.instance_count)]

    def rank_env(self, rank: int, master_port: int, *, master_addr: str = "127.0.0.1"
                 ) -> dict[str, str]:
        """The environment of worker ``rank`` (both contracts)."""
        node, local = divmod(rank, self.processes_per_host)
        host = host_name(node)
        resource = {"current_host": host, "hosts": self.hosts,
                    "network_interface_name": "lo"}
        return {
            "RANK": str(rank),
            "WORLD_SIZE": str(self.world_size),
            "LOCAL_RANK": str(local),
            "LOCAL_WORLD_SIZE": str(self.processes_per_host),
            "GROUP_RANK": str(node),
            "NODE_RANK": str(node),
            "MASTER_ADDR": master_addr,
            "MASTER_PORT": str(master_port),
            "SM_HOSTS": json.dumps(self.hosts),
            "SM_CURRENT_HOST": host,
            "SM_CURRENT_HOST_RANK": str(node),
            "SM_MASTER_ADDR": master_addr,
            "SM_NUM_PROCESSES": str(self.world_size),
            "SM_PROCESSES_PER_HOST": str(self.processes_per_host),
            "SM_RESOURCE_CONFIG": json.dumps(resource),
            "SM_DISTRIBUTION_STRATEGY": self.strategy,
            "MLYARD_DIST_BACKEND": self.backend,
        }


def current_rank() -> int:
    """This process's rank (0 outside distributed training)."""
    return int(os.environ.get("RANK", "0") or 0)


def current_world_size() -> int:
    """The number of training processes (1 outside distributed training)."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def backend_for(device: str) -> str:
    """``nccl`` for CUDA devices, else ``gloo``, unless ``MLYARD_DIST_BACKEND`` names one."""
    chosen = os.environ.get("MLYARD_DIST_BACKEND", "auto")
    if chosen and chosen != "auto":
        return chosen
    return "nccl" if device.startswith("cuda") else "gloo"


@contextlib.contextmanager
def process_group(device: str) -> Iterator[Any]:
    """Join the job's process group for the duration (no-op with one process). Yields the
    ``torch.distributed`` module, or None when not distributed."""
    if current_world_size() <= 1:
        yield None
        return
    import datetime

    import torch.distributed as dist

    dist.init_process_group(backend_for(device), init_method="env://",
                            timeout=datetime.timedelta(minutes=10))
    try:
        yield dist
    finally:
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


def wrap_model(model: Any, strategy: str, device: str) -> Any:
    """Wrap ``model`` for data parallelism: DDP (gradients all-reduced and averaged) or
    FSDP (parameters, gradients and optimizer state sharded across ranks; FSDP2
    ``fully_shard`` on each transformer layer and the root)."""
    import torch
    from torch.nn.parallel import DistributedDataParallel

    if strategy == "fsdp":
        from torch.distributed.fsdp import fully_shard

        for module in model.modules():
            if type(module).__name__.endswith("Layer") and module is not model:
                fully_shard(module)
        fully_shard(model)
        return model
    device_ids = [torch.device(device).index or 0] if device.startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=device_ids)


def full_state_dicts(model: Any, optimizer: Any | None) -> tuple[dict[str, Any],
                                                                   dict[str, Any] | None]:
    """Full (unsharded, on CPU) model and optimizer state dicts of a DDP/FSDP/plain model;
    every rank must call this (FSDP gathers)."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state = get_model_state_dict(model, options=options)
    optim_state = (get_optimizer_state_dict(model, optimizer, options=options)
                   if optimizer is not None else None)
    return model_state, optim_state


def load_full_state_dicts(model: Any, optimizer: Any | None, model_state: dict[str, Any],
                          optim_state: dict[str, Any] | None) -> None:
    """Load full state dicts written by :func:`full_state_dicts` into a (wrapped) model."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        set_model_state_dict,
        set_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=False)
    set_model_state_dict(model, model_state, options=options)
    if optimizer is not None and optim_state is not None:
        set_optimizer_state_dict(model, optimizer, optim_state, options=options)
