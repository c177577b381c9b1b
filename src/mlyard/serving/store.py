"""The endpoints' store domain: endpoint configs, endpoints and their scaling history.

Reach it with ``EndpointStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.serving.store_sql.SqlEndpointStore` (registered as store domain
``endpoints``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlyard.core.stores.domain import StoreDomain


class EndpointStatus(StrEnum):
    """SageMaker's endpoint statuses."""

    CREATING = "Creating"
    IN_SERVICE = "InService"
    UPDATING = "Updating"
    ROLLING_BACK = "RollingBack"
    FAILED = "Failed"
    DELETING = "Deleting"


@dataclass(frozen=True)
class EndpointConfigRecord:
    """A stored endpoint config: production variants, shadow variant, data capture."""

    name: str
    spec: dict[str, Any]
    created_at: float


@dataclass(frozen=True)
class EndpointRecord:
    """A stored endpoint. ``state`` holds what changes while it runs: current weights and
    replica counts per variant, autoscaling policies and the last deployment."""

    name: str
    config_name: str
    status: EndpointStatus
    created_at: float
    updated_at: float
    failure_reason: str | None = None
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScalingActivity:
    """One autoscaling or capacity change of an endpoint variant."""

    endpoint: str
    variant: str
    timestamp: float
    from_replicas: int
    to_replicas: int
    cause: str
    status: str = "Successful"


class EndpointStore(StoreDomain):
    """Endpoint configs, endpoints and scaling activities."""

    @abstractmethod
    def create_endpoint_config(self, name: str, spec: dict[str, Any]) -> EndpointConfigRecord:
        """Store an endpoint config; ConflictError if the name exists."""

    @abstractmethod
    def get_endpoint_config(self, name: str) -> EndpointConfigRecord:
        """One endpoint config; NotFoundError if none."""

    @abstractmethod
    def list_endpoint_configs(self) -> list[EndpointConfigRecord]:
        """Endpoint configs, newest first."""

    @abstractmethod
    def delete_endpoint_config(self, name: str) -> None:
        """Remove an endpoint config."""

    @abstractmethod
    def create_endpoint(self, name: str, config_name: str,
                        state: dict[str, Any]) -> EndpointRecord:
        """Store a Creating endpoint; ConflictError if the name exists."""

    @abstractmethod
    def get_endpoint(self, name: str) -> EndpointRecord:
        """One endpoint; NotFoundError if none."""

    @abstractmethod
    def list_endpoints(self) -> list[EndpointRecord]:
        """Endpoints, newest first."""

    @abstractmethod
    def update_endpoint(self, name: str, *, status: EndpointStatus | None = None,
                        config_name: str | None = None, state: dict[str, Any] | None = None,
                        failure_reason: str | None = None,
                        clear_failure: bool = False) -> EndpointRecord:
        """Change the given fields of an endpoint."""

    @abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Remove an endpoint and its scaling history."""

    @abstractmethod
    def add_scaling_activity(self, activity: ScalingActivity) -> None:
        """Append to an endpoint's scaling history."""

    @abstractmethod
    def list_scaling_activities(self, endpoint: str) -> list[ScalingActivity]:
        """An endpoint's scaling history, oldest first."""
