"""Saved models: a directory with a manifest (``mlyard-model.json``) and one predict interface.

A model directory is self-describing: its manifest names the Python loader that turns the
directory back into a :class:`LoadedModel`. Every consumer (evaluation, batch transform,
later endpoints) loads models through :func:`load_model` and nothing else.
"""

from mlyard.models.base import (
    MANIFEST_NAME,
    LoadedModel,
    ModelManifest,
    load_model,
    read_manifest,
    write_manifest,
)

__all__ = [
    "MANIFEST_NAME",
    "LoadedModel",
    "ModelManifest",
    "load_model",
    "read_manifest",
    "write_manifest",
]
