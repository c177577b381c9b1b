"""The default workspace the SDK uses when none is passed (kept by
:mod:`mlyard.core.workspace`, so that job processes can set it without importing the SDK)."""

from __future__ import annotations

from mlyard.core.workspace import default_workspace, set_default_workspace

__all__ = ["default_workspace", "set_default_workspace"]
