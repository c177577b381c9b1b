"""Artifact stores: bytes of models, outputs and logs, addressed by URI."""

from mlyard.core.artifacts.base import ArtifactStore
from mlyard.core.artifacts.fsspec_store import FsspecArtifactStore, open_artifact_store

__all__ = ["ArtifactStore", "FsspecArtifactStore", "open_artifact_store"]
