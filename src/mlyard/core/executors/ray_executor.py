"""Ray executor: runs ``mlyard job run <name>`` as a Ray task (extra ``ray``).

The task runs the same command in a subprocess on whichever node Ray picks, with the
workspace settings in its environment; for a multi-node cluster the workspace must be
shared (a PostgreSQL ``MLYARD_DB_URL`` and an ``s3://`` artifact root). The submitting
process must stay connected to Ray while its jobs run (as with any Ray driver).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from mlyard.config import Settings
from mlyard.core.executors.base import Executor, job_command, job_environment
from mlyard.core.records import JobRecord
from mlyard.core.stores.base import MetadataStore
from mlyard.errors import WorkspaceError


def _run_command(command: list[str], env: dict[str, str]) -> int:
    """Body of the Ray task: run the job command to completion, return its exit code."""
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL, check=False).returncode


def connect_ray(address: str | None, num_cpus: int | None = None) -> None:
    """Connect this process to Ray once: ``address``, else ``RAY_ADDRESS`` (set for job
    processes the Ray executor starts), else a new local instance. Inside a job process
    stdout/stderr are captured into the job log by file-like objects without file
    descriptors, which Ray needs: the real ones are put back while it starts."""
    import ray

    if ray.is_initialized():
        return
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), num_cpus=num_cpus,
                 include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    finally:
        sys.stdout, sys.stderr = saved


class RayExecutor(Executor):
    """:class:`Executor` over Ray tasks; connects to ``settings.ray_address`` or starts a
    local Ray instance."""

    name = "ray"

    def __init__(self, settings: Settings, store: MetadataStore,
                 num_cpus: int | None = None) -> None:
        super().__init__(settings, store)
        try:
            import ray
        except ImportError:
            raise WorkspaceError("the ray executor needs the extra: pip install 'mlyard[ray]'")\
                from None
        self._ray = ray
        connect_ray(settings.ray_address, num_cpus=num_cpus)
        self._task = ray.remote(num_cpus=1, max_retries=0)(_run_command)
        self._refs: dict[str, Any] = {}

    def submit(self, job_name: str) -> None:
        env = job_environment(self.settings)
        # the job process joins the same cluster (its training workers are Ray actors)
        env.setdefault("RAY_ADDRESS", self._ray.get_runtime_context().gcs_address)
        self._refs[job_name] = self._task.remote(job_command(job_name), env)

    def is_running(self, record: JobRecord) -> bool | None:
        ref = self._refs.get(record.name)
        if ref is None:
            return self.local_process_alive(record)
        ready, _ = self._ray.wait([ref], timeout=0)
        return not ready

    def exit_code(self, job_name: str) -> int | None:
        """The job command's exit code once its task finished, else None."""
        ref = self._refs.get(job_name)
        if ref is None:
            return None
        ready, _ = self._ray.wait([ref], timeout=0)
        return int(self._ray.get(ref)) if ready else None

    def kill(self, record: JobRecord) -> None:
        ref = self._refs.get(record.name)
        if ref is not None:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        self._refs.clear()
