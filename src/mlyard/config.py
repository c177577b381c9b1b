"""Settings: ``MLYARD_*`` environment variables over defaults, read once and passed in.

| setting | variable | default |
|---|---|---|
| home | ``MLYARD_HOME`` | ``./.mlyard`` |
| db_url | ``MLYARD_DB_URL`` | ``sqlite:///<home>/mlyard.db`` |
| artifact_root | ``MLYARD_ARTIFACT_ROOT`` | ``file://<home>/artifacts`` |
| executor | ``MLYARD_EXECUTOR`` | ``local`` (or ``ray``) |
| ray_address | ``MLYARD_RAY_ADDRESS`` | unset: a local Ray instance |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the workspace lives and how jobs run."""

    home: Path
    db_url: str
    artifact_root: str
    executor: str = "local"
    ray_address: str | None = None

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Settings:
        """Build settings from ``MLYARD_*`` variables; ``home`` overrides ``MLYARD_HOME``."""
        env = os.environ
        root = Path(home if home is not None else env.get("MLYARD_HOME", ".mlyard")).resolve()
        return cls(
            home=root,
            db_url=env.get("MLYARD_DB_URL") or f"sqlite:///{root / 'mlyard.db'}",
            artifact_root=env.get("MLYARD_ARTIFACT_ROOT") or (root / "artifacts").as_uri(),
            executor=env.get("MLYARD_EXECUTOR", "local"),
            ray_address=env.get("MLYARD_RAY_ADDRESS") or None,
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def child_env(self) -> dict[str, str]:
        """Variables that make a child process (a job) see this same workspace."""
        out = {
            "MLYARD_HOME": str(self.home),
            "MLYARD_DB_URL": self.db_url,
            "MLYARD_ARTIFACT_ROOT": self.artifact_root,
            "MLYARD_EXECUTOR": self.executor,
        }
        if self.ray_address:
            out["MLYARD_RAY_ADDRESS"] = self.ray_address
        return out
