"""The model registry's store domain: model package groups, their versions and each
version's approval history.

A version's number is the next one of its group, allocated in the same transaction that
writes the version, so concurrent registrations get distinct numbers. Every approval
change (and the creation status) appends an :class:`ApprovalEvent`, so the whole history
is kept. Reach it with ``RegistryStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.registry.store_sql.SqlRegistryStore` (store domain ``registry``).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlyard.core.stores.domain import StoreDomain


class ApprovalStatus(StrEnum):
    """SageMaker's ``ModelApprovalStatus``."""

    PENDING = "PendingManualApproval"
    APPROVED = "Approved"
    REJECTED = "Rejected"


@dataclass(frozen=True)
class ModelPackageGroupRecord:
    """A model package group: a name for the versions of one model line."""

    name: str
    created_at: float
    description: str | None = None
    #: e.g. ``{"EndpointName": "reviews", "InstanceCount": 1}``: approving a version of
    #: this group deploys it there (done by the SDK and the CLI)
    deploy_on_approval: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalEvent:
    """One approval status a version was given: by whom, when, why."""

    status: ApprovalStatus
    by: str
    at: float
    note: str | None = None


@dataclass(frozen=True)
class ModelPackageRecord:
    """One version of a group (a model package)."""

    group: str
    version: int
    model_name: str
    created_at: float
    approval_status: ApprovalStatus
    arn: str  # "<group>/<version>", the id users type
    description: str | None = None
    inference_specification: dict[str, Any] = field(default_factory=dict)
    #: ``{"ModelQuality": {"Statistics": {"ContentType":..., "S3Uri":..., "Content": {...}}}}``
    model_metrics: dict[str, Any] = field(default_factory=dict)
    #: ``{"PipelineExecutionId": ..., "StepName": ...}`` or ``{}``
    source: dict[str, Any] = field(default_factory=dict)
    created_by: str | None = None
    history: tuple[ApprovalEvent, ...] = ()  # oldest first; first = creation status


def package_arn(group: str, version: int) -> str:
    """The id of a version: ``"<group>/<version>"``."""
    return f"{group}/{version}"


class RegistryStore(StoreDomain):
    """Model package groups, versions and approval histories."""

    @abstractmethod
    def create_group(self, name: str, *, description: str | None = None,
                     deploy_on_approval: dict[str, Any] | None = None,
                     tags: dict[str, str] | None = None) -> ModelPackageGroupRecord:
        """Create an empty group; ConflictError if one has that name."""

    @abstractmethod
    def get_group(self, name: str) -> ModelPackageGroupRecord:
        """The group ``name``; NotFoundError if none."""

    @abstractmethod
    def list_groups(self) -> list[ModelPackageGroupRecord]:
        """Every group, by name."""

    @abstractmethod
    def set_deploy_on_approval(self, name: str,
                               config: dict[str, Any] | None) -> ModelPackageGroupRecord:
        """Set (None: clear) where approved versions of ``name`` deploy; NotFoundError if
        no such group."""

    @abstractmethod
    def delete_group(self, name: str) -> None:
        """Remove an empty group; NotFoundError if none, ConflictError if it has
        versions."""

    @abstractmethod
    def create_version(self, group: str, *, model_name: str,
                       approval_status: ApprovalStatus, created_by: str,
                       description: str | None = None,
                       inference_specification: dict[str, Any] | None = None,
                       model_metrics: dict[str, Any] | None = None,
                       source: dict[str, Any] | None = None,
                       note: str | None = None) -> ModelPackageRecord:
        """Add the group's next version (numbers start at 1 and are never reused) with a
        first history event of ``approval_status`` by ``created_by``; NotFoundError if
        the group does not exist."""

    @abstractmethod
    def get_version(self, group: str, version: int) -> ModelPackageRecord:
        """One version with its history; NotFoundError naming ``group/version`` and the
        versions that exist."""

    @abstractmethod
    def list_versions(self, group: str,
                      status: ApprovalStatus | None = None) -> list[ModelPackageRecord]:
        """The group's versions, oldest first, optionally only those with ``status``;
        NotFoundError if no such group."""

    @abstractmethod
    def set_approval(self, group: str, version: int, status: ApprovalStatus, *, by: str,
                     note: str | None = None) -> ModelPackageRecord:
        """Give a version ``status`` and append the event to its history (the same status
        again is allowed and recorded, as SageMaker allows re-approving); NotFoundError
        as :meth:`get_version`."""
