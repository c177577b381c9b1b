"""Opening the workspace from a click context."""

from __future__ import annotations

import click

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.sdk.session import set_default_workspace


def workspace(ctx: click.Context) -> Workspace:
    """The workspace for this command (opened once per process; SDK objects share it)."""
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if "workspace" not in obj:
        ws = Workspace(Settings.from_env(obj.get("home")))
        set_default_workspace(ws)
        obj["workspace"] = ws
        root.obj = obj
        root.call_on_close(ws.close)
    return obj["workspace"]  # type: ignore[no-any-return]
