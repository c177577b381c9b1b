"""Saved models: a directory with a manifest (``mlyard-model.json``) and one predict interface.

A model directory is self-describing: its manifest names the flavor whose registered loader
(:mod:`mlyard.models.flavors`, never a callable the directory names) turns it back into a
:class:`LoadedModel`. Every consumer (evaluation, batch transform, endpoint replicas) loads
models through :func:`load_model` and nothing else.
"""

from mlyard.models.base import (
    MANIFEST_NAME,
    LoadedModel,
    ModelManifest,
    load_model,
    read_manifest,
    write_manifest,
)
from mlyard.models.flavors import (
    Flavor,
    ModelLoadError,
    available_flavors,
    describe_loading,
    get_flavor,
)

__all__ = [
    "MANIFEST_NAME",
    "Flavor",
    "LoadedModel",
    "ModelLoadError",
    "ModelManifest",
    "available_flavors",
    "describe_loading",
    "get_flavor",
    "load_model",
    "read_manifest",
    "write_manifest",
]
