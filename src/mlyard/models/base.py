"""Model manifest and the generic predict interface.

The manifest is data from the model directory, which mlyard does not trust: it names a
flavor, and the flavor registry (:mod:`mlyard.models.flavors`) names the code that loads
it. :func:`read_manifest` refuses an unknown flavor or a foreign ``loader`` before anything
is imported, so registering, serving and evaluating a hostile model run none of its code.
"""

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
from mlyard.models.flavors import ModelLoadError, check_flavor

MANIFEST_NAME = "mlyard-model.json"
FORMAT_VERSION = 1


class ModelManifest(BaseModel):
    """What a model directory holds and which flavor loads it.

    ``flavor`` picks the loader from the registry (:mod:`mlyard.models.flavors`).
    ``loader`` (``"package.module:callable"``) is kept for compatibility with the manifests
    mlyard has always written: when present it must be the flavor's registered loader, and
    it is never imported on its own.
    """

    format_version: int = FORMAT_VERSION
    flavor: str
    loader: str | None = None
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


def read_manifest(model_dir: Path, *, check: bool = True) -> ModelManifest:
    """Read and validate the manifest of ``model_dir``.

    With ``check`` (the default) the manifest must name a registered flavor and, if it has
    a ``loader``, that flavor's loader (:class:`~mlyard.models.flavors.ModelLoadError`
    otherwise). ``check=False`` only parses, for showing a refused manifest to people.
    """
    path = Path(model_dir) / MANIFEST_NAME
    if not path.is_file():
        raise NotFoundError(f"{model_dir} is not an mlyard model directory (no {MANIFEST_NAME})")
    try:
        manifest = ModelManifest.model_validate_json(path.read_text())
    except ValueError as exc:
        raise ValidationError(f"corrupt model manifest {path}: {exc}") from None
    if check:
        check_flavor(manifest.flavor, manifest.loader, model_dir)
    return manifest


def load_model(model_dir: str | Path) -> LoadedModel:
    """Load the model stored in ``model_dir`` through its flavor's registered loader.

    The flavor is checked before anything is imported; a loader that cannot be imported or
    returns anything other than a :class:`LoadedModel` is a :class:`ModelLoadError`.
    """
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    flavor = check_flavor(manifest.flavor, manifest.loader, model_dir)
    module_name, _, attr = flavor.loader.partition(":")
    try:
        loader = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"loader {flavor.loader!r} of flavor {flavor.name!r} "
                             f"({flavor.source}) is not importable: {exc}") from None
    model = loader(model_dir)
    if not isinstance(model, LoadedModel):
        raise ModelLoadError(f"loader {flavor.loader!r} of flavor {flavor.name!r} returned "
                             f"{type(model).__name__}, not a loaded model")
    return model
