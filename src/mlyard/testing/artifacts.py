"""Conformance suite for :class:`mlyard.core.artifacts.ArtifactStore` implementations."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlyard.core.artifacts.base import ArtifactStore
from mlyard.errors import NotFoundError


class ArtifactStoreConformance:
    """Subclass and define an ``artifacts`` fixture returning an empty store."""

    @pytest.fixture
    def artifacts(self) -> ArtifactStore:  # pragma: no cover - overridden
        raise pytest.UsageError("define an `artifacts` fixture")

    def test_bytes_roundtrip(self, artifacts: ArtifactStore) -> None:
        uri = artifacts.uri("a", "b.txt")
        assert not artifacts.exists(uri)
        artifacts.write_bytes(uri, b"hello")
        assert artifacts.exists(uri) and artifacts.read_bytes(uri) == b"hello"
        artifacts.write_bytes(uri, b"again")
        assert artifacts.read_bytes(uri) == b"again"
        with pytest.raises(NotFoundError):
            artifacts.read_bytes(artifacts.uri("missing"))

    def test_folder_upload_replaces_and_downloads(self, artifacts: ArtifactStore,
                                                  tmp_path: Path) -> None:
        src = tmp_path / "src"
        (src / "sub").mkdir(parents=True)
        (src / "x.txt").write_text("x")
        (src / "sub" / "y.txt").write_text("y")
        uri = artifacts.uri("model")
        artifacts.upload(src, uri)
        assert len(artifacts.list(uri)) == 2
        (src / "x.txt").unlink()
        artifacts.upload(src, uri)
        assert len(artifacts.list(uri)) == 1
        got = artifacts.download(uri, tmp_path / "back")
        assert (got / "sub" / "y.txt").read_text() == "y"
        artifacts.delete(uri)
        assert not artifacts.exists(uri) and artifacts.list(uri) == []
        artifacts.delete(uri)  # no error when absent

    def test_single_file_upload(self, artifacts: ArtifactStore, tmp_path: Path) -> None:
        f = tmp_path / "f.bin"
        f.write_bytes(b"\x00\x01")
        uri = artifacts.uri("files", "f.bin")
        artifacts.upload(f, uri)
        assert artifacts.read_bytes(uri) == b"\x00\x01"
        local = artifacts.materialize(uri, tmp_path / "cache")
        assert local.read_bytes() == b"\x00\x01"
