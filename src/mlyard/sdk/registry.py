"""The model registry from Python (SageMaker's ``ModelPackageGroup`` / ``ModelPackage``
ideas): list a group's versions, approve or reject one with a note, describe it with its
whole approval history, and deploy an approved version to an endpoint.

A group may name an endpoint to deploy to on approval
(:meth:`ModelPackageGroup.set_deploy_on_approval`, the course's "deploy on approval"):
:meth:`ModelPackage.approve` then deploys the version there, creating the endpoint or
updating it blue/green through :mod:`mlyard.sdk.endpoints` (which starts the workspace's
server when none runs). Only Approved versions deploy unless ``force=True``.
"""

from __future__ import annotations

from typing import Any

from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError
from mlyard.registry import service
from mlyard.registry.store import (
    ApprovalStatus,
    ModelPackageGroupRecord,
    ModelPackageRecord,
    RegistryStore,
)
from mlyard.sdk.endpoints import Predictor, create_endpoint, endpoints_client, production_variant
from mlyard.sdk.session import default_workspace


def deploy_package(ws: Workspace, record: ModelPackageRecord, endpoint_name: str, *,
                   initial_instance_count: int = 1, wait: bool = True,
                   deployment_config: dict[str, Any] | None = None) -> Predictor:
    """Serve ``record``'s model on ``endpoint_name``: a new endpoint, or a blue/green
    update of an existing one to a config with this model alone, shifting traffic as
    ``deployment_config`` says (SageMaker's ``DeploymentConfig``; default: all at once,
    then the server's bake time). No approval check: see
    :func:`mlyard.registry.service.deployable`."""
    service.deploy_target(endpoint_name, initial_instance_count)
    variant = production_variant(record.model_name,
                                 initial_instance_count=initial_instance_count)
    client = endpoints_client(ws)
    try:
        client.describe_endpoint(endpoint_name)
    except NotFoundError:
        client.close()
        return create_endpoint(endpoint_name, [variant], wait=wait, workspace=ws)
    predictor = Predictor(endpoint_name, client=client)
    predictor.update_endpoint([variant], deployment_config=deployment_config, wait=wait)
    return predictor


class ModelPackage:
    """One version of a model package group, named ``"<group>/<version>"``."""

    def __init__(self, ref: str, *, workspace: Workspace | None = None) -> None:
        self.group, self.version = service.parse_package_ref(ref)
        self.ref = f"{self.group}/{self.version}"
        self.ws = workspace or default_workspace()

    def __repr__(self) -> str:
        return f"ModelPackage({self.ref!r})"

    @property
    def record(self) -> ModelPackageRecord:
        """The version as stored now."""
        return service.get_package(self.ws, self.ref)

    @property
    def approval_status(self) -> str:
        return self.record.approval_status.value

    def describe(self) -> dict[str, Any]:
        """SageMaker's ``DescribeModelPackage`` answer, with the whole approval history."""
        return service.describe_model_package(self.ws, self.ref)

    def approve(self, note: str | None = None, *, by: str | None = None,
                deploy: bool = True, wait: bool = True) -> Predictor | None:
        """Approve this version (``by`` defaults to the login name). If its group deploys
        on approval (and ``deploy``), deploy it there and return the endpoint's
        :class:`Predictor`; otherwise None."""
        service.approve(self.ws, self.ref, by=by, note=note)
        target = RegistryStore.of(self.ws.store).get_group(self.group).deploy_on_approval
        if not deploy or not target:
            return None
        return self.deploy(target["EndpointName"],
                           initial_instance_count=int(target.get("InstanceCount", 1)),
                           wait=wait)

    def reject(self, note: str | None = None, *, by: str | None = None) -> ModelPackageRecord:
        """Reject this version (it no longer deploys unless forced)."""
        return service.reject(self.ws, self.ref, by=by, note=note)

    def deploy(self, endpoint_name: str, *, force: bool = False,
               initial_instance_count: int = 1, wait: bool = True,
               deployment_config: dict[str, Any] | None = None) -> Predictor:
        """Deploy this version's model to ``endpoint_name`` (created, or updated
        blue/green as ``deployment_config`` says); ConflictError unless it is Approved or
        ``force``."""
        record = service.deployable(self.ws, self.ref, force=force)
        return deploy_package(self.ws, record, endpoint_name,
                              initial_instance_count=initial_instance_count, wait=wait,
                              deployment_config=deployment_config)


class ModelPackageGroup:
    """A model package group: the numbered versions of one model line."""

    def __init__(self, name: str, *, workspace: Workspace | None = None) -> None:
        self.name = service.check_group_name(name)
        self.ws = workspace or default_workspace()

    def __repr__(self) -> str:
        return f"ModelPackageGroup({self.name!r})"

    @classmethod
    def create(cls, name: str, *, description: str | None = None,
               deploy_on_approval: str | None = None, instance_count: int = 1,
               workspace: Workspace | None = None) -> ModelPackageGroup:
        """Create an empty group (ConflictError if it exists), optionally deploying
        approved versions to the endpoint ``deploy_on_approval``."""
        group = cls(name, workspace=workspace)
        target = (service.deploy_target(deploy_on_approval, instance_count)
                  if deploy_on_approval else None)
        service.create_group(group.ws, name, description=description,
                             deploy_on_approval=target)
        return group

    @property
    def record(self) -> ModelPackageGroupRecord:
        return RegistryStore.of(self.ws.store).get_group(self.name)

    def describe(self) -> dict[str, Any]:
        """SageMaker's ``DescribeModelPackageGroup`` answer plus ``DeployOnApproval``."""
        return service.describe_group(self.record)

    def set_deploy_on_approval(self, endpoint_name: str | None,
                               instance_count: int = 1) -> ModelPackageGroupRecord:
        """Deploy versions approved from now on to ``endpoint_name`` (None: stop)."""
        target = (service.deploy_target(endpoint_name, instance_count)
                  if endpoint_name is not None else None)
        return RegistryStore.of(self.ws.store).set_deploy_on_approval(self.name, target)

    def register(self, model_name: str, **kwargs: Any) -> ModelPackage:
        """Register ``model_name`` as the next version (keyword arguments as
        :func:`mlyard.registry.service.register_model_version`)."""
        record = service.register_model_version(self.ws, self.name, model_name=model_name,
                                                **kwargs)
        return ModelPackage(record.arn, workspace=self.ws)

    def versions(self, status: str | None = None) -> list[ModelPackage]:
        """The group's versions, oldest first, optionally only those with ``status``."""
        wanted = service.parse_status(status) if status is not None else None
        return [ModelPackage(r.arn, workspace=self.ws)
                for r in RegistryStore.of(self.ws.store).list_versions(self.name, wanted)]

    def latest_approved(self) -> ModelPackage | None:
        """The newest Approved version, or None."""
        approved = self.versions(ApprovalStatus.APPROVED.value)
        return approved[-1] if approved else None
