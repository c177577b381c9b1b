"""Model manifest and the generic predict interface."""

from __future__ import annotations

import importlib
import json
import time
from abc import ABC
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from mlyard.errors import NotFoundError, ValidationError

MANIFEST_NAME = "mlyard-model.json"
FORMAT_VERSION = 1


class ModelManifest(BaseModel):
    """What a model directory holds and how to load it.

    ``loader`` is ``"package.module:callable"``; the callable takes the model directory and
    returns a :class:`LoadedModel`.
    """

    format_version: int = FORMAT_VERSION
    flavor: str
    loader: str
    task: Literal["classification", "regression"] = "classification"
    labels: list[str] = Field(default_factory=list)
    input_type: str = "text"
    created_at: float = Field(default_factory=time.time)
    metadata: dict[str, Any] = Field(default_factory=dict)


class LoadedModel(ABC):
    """A model ready to predict. Subclasses implement :meth:`predict_proba` (classifiers)
    or :meth:`predict_values` (regressors); :meth:`predict` gives the wire format."""

    manifest: ModelManifest

    @property
    def labels(self) -> list[str]:
        """Class labels in the column order of :meth:`predict_proba`."""
        return list(self.manifest.labels)

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self.manifest.task

    def predict_proba(self, instances: Sequence[Any]) -> np.ndarray:
        """Class probabilities, shape ``(len(instances), len(labels))``."""
        raise ValidationError(f"{self.manifest.flavor} model does not predict probabilities")

    def predict_values(self, instances: Sequence[Any]) -> np.ndarray:
        """Regression outputs, shape ``(len(instances),)``."""
        raise ValidationError(f"{self.manifest.flavor} model does not predict values")

    def predict(self, instances: Sequence[Any], top_k: int = 1) -> list[dict[str, Any]]:
        """Predictions in BlazingText's JSON shape.

        Classification: ``[{"label": [top labels], "prob": [their probabilities]}, ...]``,
        best first. Regression: ``[{"score": value}, ...]``.
        """
        if self.task == "regression":
            return [{"score": float(v)} for v in self.predict_values(instances)]
        if top_k < 1:
            raise ValidationError(f"top_k must be >= 1, got {top_k}")
        proba = self.predict_proba(instances)
        k = min(top_k, proba.shape[1])
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        labels = self.labels
        return [
            {
                "label": [labels[j] for j in row],
                "prob": [float(proba[i, j]) for j in row],
            }
            for i, row in enumerate(order)
        ]


def write_manifest(model_dir: Path, manifest: ModelManifest) -> Path:
    """Write ``mlyard-model.json`` into ``model_dir`` (atomically) and return its path."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest.model_dump(), indent=2))
    tmp.replace(path)
    return path


def read_manifest(model_dir: Path) -> ModelManifest:
    """Read and validate the manifest of ``model_dir``."""
    path = Path(model_dir) / MANIFEST_NAME
    if not path.is_file():
        raise NotFoundError(f"{model_dir} is not an mlyard model directory (no {MANIFEST_NAME})")
    try:
        return ModelManifest.model_validate_json(path.read_text())
    except ValueError as exc:
        raise ValidationError(f"corrupt model manifest {path}: {exc}") from None


def load_model(model_dir: str | Path) -> LoadedModel:
    """Load the model stored in ``model_dir`` through the loader its manifest names."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    module_name, _, attr = manifest.loader.partition(":")
    try:
        loader = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValidationError(f"model loader {manifest.loader!r} not importable: {exc}") from None
    model = loader(model_dir)
    if not isinstance(model, LoadedModel):
        raise ValidationError(f"model loader {manifest.loader!r} returned {type(model).__name__}")
    return model
