"""The default workspace the SDK uses when none is passed."""

from __future__ import annotations

from mlyard.config import Settings
from mlyard.core.workspace import Workspace

_default: Workspace | None = None


def default_workspace() -> Workspace:
    """The workspace from ``MLYARD_*`` settings, opened once per process."""
    global _default
    if _default is None:
        _default = Workspace(Settings.from_env())
    return _default


def set_default_workspace(workspace: Workspace | None) -> None:
    """Use ``workspace`` for SDK objects created without one (None resets)."""
    global _default
    _default = workspace
