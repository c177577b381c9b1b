"""Artifact store over fsspec: ``file://`` by default, ``s3://`` with the ``s3`` extra."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

import fsspec

from mlyard.core.artifacts.base import ArtifactStore
from mlyard.errors import NotFoundError, WorkspaceError


def _file_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "":
        return Path(uri)
    return None


class FsspecArtifactStore(ArtifactStore):
    """:class:`ArtifactStore` for any fsspec file system. Local roots get atomic uploads:
    data lands in a temporary sibling folder and is renamed into place."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        protocol = urlparse(self.root).scheme or "file"
        try:
            self.fs = fsspec.filesystem(protocol)
        except (ImportError, ValueError) as exc:
            raise WorkspaceError(
                f"artifact root {root!r} needs a file system fsspec cannot load: {exc} "
                "(for s3:// install mlyard[s3])"
            ) from None
        local = _file_path(self.root)
        if local is not None:
            local.mkdir(parents=True, exist_ok=True)

    def local_path(self, uri: str) -> Path | None:
        return _file_path(uri)

    def _path(self, uri: str) -> str:
        local = _file_path(uri)
        return str(local) if local is not None else uri

    def upload(self, local: Path, uri: str) -> str:
        dest = _file_path(uri)
        if dest is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.tmp"
            if local.is_dir():
                shutil.copytree(local, tmp)
            else:
                shutil.copy2(local, tmp)
            if dest.is_dir():
                old = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.old"
                dest.rename(old)
                tmp.rename(dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, dest)
            return uri
        if self.fs.exists(uri):
            self.fs.rm(uri, recursive=True)
        self.fs.put(str(local), uri, recursive=local.is_dir())
        return uri

    def download(self, uri: str, local: Path) -> Path:
        if not self.exists(uri):
            raise NotFoundError(f"no artifact at {uri}")
        src = _file_path(uri)
        local.parent.mkdir(parents=True, exist_ok=True)
        if src is not None:
            if src.is_dir():
                shutil.copytree(src, local, dirs_exist_ok=True)
            else:
                shutil.copy2(src, local)
            return local
        self.fs.get(uri, str(local), recursive=self.fs.isdir(uri))
        return local

    def exists(self, uri: str) -> bool:
        return bool(self.fs.exists(self._path(uri)))

    def list(self, uri: str) -> list[str]:
        path = self._path(uri)
        if not self.fs.exists(path):
            return []
        files = self.fs.find(path)
        local = _file_path(uri)
        if local is not None:
            return sorted(Path(f).as_uri() for f in files)
        proto = urlparse(uri).scheme
        return sorted(f if "://" in f else f"{proto}://{f}" for f in files)

    def read_bytes(self, uri: str) -> bytes:
        if not self.exists(uri):
            raise NotFoundError(f"no artifact at {uri}")
        with self.fs.open(self._path(uri), "rb") as fh:
            return bytes(fh.read())

    def write_bytes(self, uri: str, data: bytes) -> None:
        local = _file_path(uri)
        if local is not None:
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, local)
            return
        with self.fs.open(uri, "wb") as fh:
            fh.write(data)

    def delete(self, uri: str) -> None:
        path = self._path(uri)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)


def open_artifact_store(root: str) -> ArtifactStore:
    """The artifact store for ``root``."""
    return FsspecArtifactStore(root)
