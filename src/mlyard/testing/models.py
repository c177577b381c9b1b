"""Tiny stand-in models for serving tests, loadable in any process like a real model.

:func:`save_test_model` writes a model directory (manifest flavor ``"test"``, loader
:func:`load_test_model`) of one of these kinds:

* ``"echo"``: label ``"echo"`` with probability 1 for every instance, instantly;
* ``"failing"``: ``predict`` raises :class:`RuntimeError` (an endpoint answers 424);
* ``"slow"``: like ``"echo"`` after sleeping ``delay`` seconds per request;
* ``"crashing"``: the process exits abruptly (``os._exit``) when an instance is the string
  ``"crash"``; otherwise like ``"echo"``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlyard.errors import ValidationError
from mlyard.models.base import LoadedModel, ModelManifest, read_manifest, write_manifest

FLAVOR = "test"
LOADER = "mlyard.testing.models:load_test_model"
KINDS = ("echo", "failing", "slow", "crashing")


class EchoModel(LoadedModel):
    """Predicts the single label ``"echo"`` for anything."""

    def __init__(self, manifest: ModelManifest) -> None:
        self.manifest = manifest

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        return np.ones((len(instances), 1))


class FailingModel(EchoModel):
    """Every prediction raises :class:`RuntimeError`."""

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        raise RuntimeError("FailingModel always fails")


class SlowModel(EchoModel):
    """Sleeps ``metadata["delay"]`` seconds (default 0.2) per call, then echoes."""

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        time.sleep(float(self.manifest.metadata.get("delay", 0.2)))
        return super().predict_proba(instances)


class CrashingModel(EchoModel):
    """Kills its own process when an instance is ``"crash"``."""

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        if any(x == "crash" for x in instances):
            os._exit(3)
        return super().predict_proba(instances)


_CLASSES: dict[str, type[EchoModel]] = {"echo": EchoModel, "failing": FailingModel,
                                        "slow": SlowModel, "crashing": CrashingModel}


def save_test_model(model_dir: str | Path, kind: str = "echo", *, delay: float = 0.2) -> Path:
    """Write a test model of ``kind`` (see the module docstring) into ``model_dir``; returns
    the directory."""
    if kind not in _CLASSES:
        raise ValidationError(f"unknown test model kind {kind!r}; one of {', '.join(KINDS)}")
    model_dir = Path(model_dir)
    manifest = ModelManifest(flavor=FLAVOR, loader=LOADER, task="classification",
                             labels=["echo"], input_type="text",
                             metadata={"kind": kind, "delay": delay})
    write_manifest(model_dir, manifest)
    return model_dir


def load_test_model(model_dir: str | Path) -> EchoModel:
    """The loader named by a test model's manifest."""
    manifest = read_manifest(Path(model_dir))
    kind = str(manifest.metadata.get("kind", "echo"))
    if kind not in _CLASSES:
        raise ValidationError(f"unknown test model kind {kind!r}")
    return _CLASSES[kind](manifest)
