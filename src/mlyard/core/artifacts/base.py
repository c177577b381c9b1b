"""The artifact store interface. Implementations must pass :mod:`mlyard.testing.artifacts`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path


class ArtifactStore(ABC):
    """Stores files and folders under a root URI (``file://...``, ``s3://...``)."""

    root: str

    def uri(self, *parts: str) -> str:
        """The URI of ``parts`` joined below the root."""
        tail = "/".join(p.strip("/") for p in parts if p)
        return f"{self.root.rstrip('/')}/{tail}" if tail else self.root

    @abstractmethod
    def upload(self, local: Path, uri: str) -> str:
        """Copy a local file or folder to ``uri`` (replacing what is there); returns ``uri``.
        The destination appears complete or not at all for local roots."""

    @abstractmethod
    def download(self, uri: str, local: Path) -> Path:
        """Copy ``uri`` (file or folder) to ``local``; returns ``local``."""

    @abstractmethod
    def local_path(self, uri: str) -> Path | None:
        """A local path for ``uri`` if it is on this machine's file system, else None."""

    @abstractmethod
    def exists(self, uri: str) -> bool:
        """Whether anything is stored at ``uri``."""

    @abstractmethod
    def list(self, uri: str) -> list[str]:
        """URIs of the files below ``uri``, sorted."""

    @abstractmethod
    def read_bytes(self, uri: str) -> bytes:
        """The bytes of one file."""

    @abstractmethod
    def write_bytes(self, uri: str, data: bytes) -> None:
        """Write one file (atomically for local roots)."""

    @abstractmethod
    def delete(self, uri: str) -> None:
        """Remove a file or folder (no error if absent)."""

    def materialize(self, uri: str, cache_dir: Path) -> Path:
        """A local path holding ``uri``: the path itself when local, else a download."""
        local = self.local_path(uri)
        if local is not None:
            return local
        target = cache_dir / uri.replace("://", "/").replace("/", "_")
        if not target.exists():
            self.download(uri, target)
        return target
