"""The workspace: settings + metadata store + artifact store + executor, opened once; and
the process's default workspace (what the SDK and user code inside a job use when none is
passed)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from mlyard.config import Settings
from mlyard.core.artifacts import ArtifactStore, open_artifact_store
from mlyard.core.executors import Executor, make_executor
from mlyard.core.stores import MetadataStore, SqlAlchemyStore


class Workspace:
    """Everything a command needs to reach the workspace at ``settings.home``.

    The executor is created on first use, so commands that never start jobs never import
    Ray or spawn anything.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store: MetadataStore = SqlAlchemyStore(self.settings.db_url)
        self.artifacts: ArtifactStore = open_artifact_store(self.settings.artifact_root)

    @cached_property
    def executor(self) -> Executor:
        """The executor the settings name."""
        return make_executor(self.settings, self.store)

    def job_dir(self, job_name: str) -> Path:
        """Local scratch folder of a job (launcher log, staging of outputs)."""
        return self.settings.home / "jobs" / job_name

    @property
    def cache_dir(self) -> Path:
        """Local cache for artifacts fetched from remote roots."""
        return self.settings.home / "cache"

    def close(self) -> None:
        """Release the executor and database connections."""
        if "executor" in self.__dict__:
            self.executor.close()
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: Workspace | None = None


def default_workspace() -> Workspace:
    """The workspace from ``MLYARD_*`` settings, opened once per process (or the one set with
    :func:`set_default_workspace`)."""
    global _default
    if _default is None:
        _default = Workspace(Settings.from_env())
    return _default


def set_default_workspace(workspace: Workspace | None) -> None:
    """Use ``workspace`` where none is passed (None resets)."""
    global _default
    _default = workspace
