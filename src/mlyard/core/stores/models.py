"""The models domain: registered models (a name and the URI of the model's directory)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from mlyard.core.records import ModelRecord
from mlyard.core.stores.domain import StoreDomain


class ModelStore(StoreDomain):
    """Model registrations; the job runner registers the model a training job produced."""

    @abstractmethod
    def create_model(self, name: str, uri: str, flavor: str, job_name: str | None = None,
                     metadata: dict[str, Any] | None = None) -> ModelRecord:
        """Register a model; ConflictError if the name exists."""

    @abstractmethod
    def get_model(self, name: str) -> ModelRecord:
        """The model called ``name``; NotFoundError if none."""

    @abstractmethod
    def list_models(self, limit: int = 100) -> list[ModelRecord]:
        """Models, newest first."""

    @abstractmethod
    def delete_model(self, name: str) -> None:
        """Remove a model's registration (its artifacts stay)."""
