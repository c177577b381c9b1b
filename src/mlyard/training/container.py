"""Bring-your-own container: run a training or processing command inside an image.

Where Docker or Podman exists, a job with ``image`` runs its command as
``docker run --rm --network none -v <job root>:<job root> -e SM_...=... <image> <command>``:
the job's ``/opt/ml``-like folder is mounted at the same path, so every ``SM_*`` variable
means the same inside the container as outside. The runtime comes from
``MLYARD_CONTAINER_RUNTIME`` (``docker``/``podman``/a path) or the first found on PATH.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlyard.errors import ValidationError

RUNTIMES = ("docker", "podman")
#: Variables of this process that never cross into a container.
_HOST_ONLY = ("PATH", "HOME", "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "PWD")


def container_runtime() -> str:
    """The container runtime's executable, or :class:`ValidationError` when there is none."""
    chosen = os.environ.get("MLYARD_CONTAINER_RUNTIME")
    candidates = [chosen] if chosen else list(RUNTIMES)
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
    raise ValidationError(
        "image= needs a container runtime, and none was found "
        f"(looked for {', '.join(candidates)} on PATH; set MLYARD_CONTAINER_RUNTIME)")


def container_command(runtime: str, image: str, command: Sequence[str],
                      env: Mapping[str, str], mounts: Sequence[Path], workdir: Path,
                      *, name: str | None = None, gpus: bool = False) -> list[str]:
    """The ``docker run`` command line that runs ``command`` in ``image`` with ``env`` and
    each of ``mounts`` bound at its own path."""
    args = [runtime, "run", "--rm", "--network", "none", "-w", str(workdir)]
    if name:
        args += ["--name", name]
    if gpus:
        args += ["--gpus", "all"]
    for mount in dict.fromkeys(Path(m).resolve() for m in mounts):
        args += ["-v", f"{mount}:{mount}"]
    for key, value in sorted(env.items()):
        if key in _HOST_ONLY:
            continue
        args += ["-e", f"{key}={value}"]
    return [*args, image, *command]
