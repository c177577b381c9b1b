"""The model registry's operations over a workspace: register a model as the next version
of a group, approve or reject a version (who, when, a note), describe a version in
SageMaker's ``DescribeModelPackage`` shape, and the check a deployment makes
(:func:`deployable`: only Approved versions deploy unless forced).

Registration reads the metrics files a version's ``ModelMetrics`` points at (an
evaluation's ``evaluation.json``) and keeps their JSON under ``"Content"``, so a version
describes its quality even after the files are gone. Deploying itself needs the HTTP
server and is done by the surfaces (:mod:`mlyard.sdk.registry`, ``mlyard registry``).
"""

from __future__ import annotations

import contextlib
import copy
import getpass
import json
import re
from typing import Any

from mlyard.core.specs import JOB_NAME_RE
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.registry.store import (
    ApprovalStatus,
    ModelPackageGroupRecord,
    ModelPackageRecord,
    RegistryStore,
)

_REF_RE = re.compile(r"^(?P<group>[^/\s]+)/(?P<version>[0-9]+)$")
#: SageMaker's default content types of an inference specification
JSON_TYPES = ["application/json"]


def registry(ws: Workspace) -> RegistryStore:
    """The workspace's registry store domain."""
    return RegistryStore.of(ws.store)


def current_user() -> str:
    """Who acts when no ``by`` is given: the login name (``"unknown"`` if there is none)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (containers without a passwd entry)
        return "unknown"


def check_group_name(name: str) -> str:
    """``name`` if it is a valid group name (SageMaker's rule: letters, digits and
    hyphens, 1-63 characters); ValidationError otherwise."""
    if not isinstance(name, str) or not JOB_NAME_RE.match(name):
        raise ValidationError(f"model package group name {str(name)[:100]!r} is invalid: use "
                              "1-63 letters, digits and hyphens, starting with a letter "
                              "or digit")
    return name


def parse_status(value: str | ApprovalStatus) -> ApprovalStatus:
    """An approval status from its SageMaker name (any case); ValidationError listing
    the valid ones."""
    if isinstance(value, ApprovalStatus):
        return value
    for status in ApprovalStatus:
        if isinstance(value, str) and value.lower() == status.value.lower():
            return status
    raise ValidationError(f"ModelApprovalStatus {value!r} is invalid; use one of "
                          f"{', '.join(s.value for s in ApprovalStatus)}")


def parse_package_ref(text: str) -> tuple[str, int]:
    """``"reviews/3"`` -> ``("reviews", 3)``; ValidationError for anything else."""
    match = _REF_RE.match(text.strip()) if isinstance(text, str) else None
    if match is None or int(match["version"]) < 1:
        raise ValidationError(f"model package {str(text)[:100]!r} is invalid: expected "
                              "GROUP/VERSION, e.g. reviews/3")
    return check_group_name(match["group"]), int(match["version"])


def deploy_target(endpoint: str, instance_count: int = 1) -> dict[str, Any]:
    """A group's ``deploy_on_approval`` value for ``endpoint``; ValidationError for a bad
    endpoint name or instance count."""
    if not isinstance(endpoint, str) or not JOB_NAME_RE.match(endpoint):
        raise ValidationError(f"endpoint name {str(endpoint)[:100]!r} is invalid: use 1-63 "
                              "letters, digits and hyphens")
    if isinstance(instance_count, bool) or not isinstance(instance_count, int) \
            or instance_count < 1:
        raise ValidationError(f"InstanceCount must be a positive integer, got "
                              f"{instance_count!r}")
    return {"EndpointName": endpoint, "InstanceCount": instance_count}


def create_group(ws: Workspace, name: str, *, description: str | None = None,
                 deploy_on_approval: dict[str, Any] | None = None,
                 tags: dict[str, str] | None = None) -> ModelPackageGroupRecord:
    """Create an empty group (ConflictError if it exists)."""
    if deploy_on_approval is not None:
        deploy_on_approval = deploy_target(deploy_on_approval.get("EndpointName", ""),
                                           deploy_on_approval.get("InstanceCount", 1))
    return registry(ws).create_group(check_group_name(name), description=description,
                                     deploy_on_approval=deploy_on_approval, tags=tags)


def _read_json(ws: Workspace, uri: str, where: str) -> Any:
    try:
        raw = ws.artifacts.read_bytes(uri)
    except Exception as exc:  # any store's failure (missing file, no credentials, ...)
        raise ValidationError(f"{where}: cannot read metrics file {uri!r}: "
                              f"{getattr(exc, 'message', None) or exc}") from None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{where}: metrics file {uri!r} is not valid JSON: "
                              f"{exc}") from None


def load_model_metrics(ws: Workspace, metrics: dict[str, Any]) -> dict[str, Any]:
    """A copy of SageMaker ``ModelMetrics`` with the JSON of every
    ``{"ContentType", "S3Uri"}`` entry (a JSON content type, or none given) stored under
    ``"Content"``; ValidationError naming the entry and URI when one cannot be read or is
    not JSON."""
    if not isinstance(metrics, dict):
        raise ValidationError(f"ModelMetrics must be an object, got {type(metrics).__name__}")
    out = copy.deepcopy(metrics)

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        uri = node.get("S3Uri")
        if uri is not None:
            if not isinstance(uri, str) or not uri:
                raise ValidationError(f"{path}.S3Uri must be a non-empty string")
            content_type = str(node.get("ContentType") or "application/json")
            if "json" in content_type.lower() and "Content" not in node:
                node["Content"] = _read_json(ws, uri, f"{path}.S3Uri")
            return
        for key, value in node.items():
            walk(value, f"{path}.{key}")

    walk(out, "ModelMetrics")
    return out


def register_model_version(ws: Workspace, group: str, *, model_name: str,
                           approval_status: str = "PendingManualApproval",
                           description: str | None = None,
                           inference_specification: dict[str, Any] | None = None,
                           model_metrics: dict[str, Any] | None = None,
                           source: dict[str, Any] | None = None,
                           created_by: str | None = None) -> ModelPackageRecord:
    """Register ``model_name`` (a registered model) as the next version of ``group``
    (created if missing). Everything is checked and the metrics files read before
    anything is written."""
    check_group_name(group)
    status = parse_status(approval_status)
    try:
        model = ws.store.get_model(model_name)
    except NotFoundError:
        raise NotFoundError(f"ModelName {model_name!r} is not a registered model "
                            "(see `mlyard models list`)") from None
    metrics = load_model_metrics(ws, model_metrics) if model_metrics else {}
    spec = copy.deepcopy(inference_specification) if inference_specification else {
        "Containers": [{"ModelDataUrl": model.uri, "Framework": model.flavor}],
        "SupportedContentTypes": JSON_TYPES, "SupportedResponseMIMETypes": JSON_TYPES}
    store = registry(ws)
    try:
        store.get_group(group)
    except NotFoundError:
        with contextlib.suppress(ConflictError):  # else created meanwhile, concurrently
            store.create_group(group)
    return store.create_version(group, model_name=model.name, approval_status=status,
                                created_by=created_by or current_user(),
                                description=description, inference_specification=spec,
                                model_metrics=metrics, source=dict(source or {}))


def get_package(ws: Workspace, ref: str) -> ModelPackageRecord:
    """The version ``ref`` (``"reviews/3"``)."""
    return registry(ws).get_version(*parse_package_ref(ref))


def set_status(ws: Workspace, ref: str, status: str | ApprovalStatus, *,
               by: str | None = None, note: str | None = None) -> ModelPackageRecord:
    """Give version ``ref`` an approval status, recorded with who and why."""
    group, version = parse_package_ref(ref)
    return registry(ws).set_approval(group, version, parse_status(status),
                                     by=by or current_user(), note=note)


def approve(ws: Workspace, ref: str, *, by: str | None = None,
            note: str | None = None) -> ModelPackageRecord:
    """Approve version ``ref`` (NotFoundError naming it and the versions that exist)."""
    return set_status(ws, ref, ApprovalStatus.APPROVED, by=by, note=note)


def reject(ws: Workspace, ref: str, *, by: str | None = None,
           note: str | None = None) -> ModelPackageRecord:
    """Reject version ``ref``."""
    return set_status(ws, ref, ApprovalStatus.REJECTED, by=by, note=note)


def describe_record(record: ModelPackageRecord) -> dict[str, Any]:
    """A version in SageMaker's ``DescribeModelPackage`` shape, plus its whole
    ``ApprovalHistory`` (oldest first) and ``ModelName``."""
    out: dict[str, Any] = {
        "ModelPackageGroupName": record.group,
        "ModelPackageVersion": record.version,
        "ModelPackageArn": record.arn,
        "ModelPackageDescription": record.description,
        "ModelApprovalStatus": record.approval_status.value,
        "CreationTime": record.created_at,
        "CreatedBy": record.created_by,
        "ModelName": record.model_name,
        "InferenceSpecification": record.inference_specification,
        "ModelMetrics": record.model_metrics,
        "ApprovalHistory": [{"Status": e.status.value, "By": e.by, "Time": e.at,
                             "Note": e.note} for e in record.history],
        "LastModifiedTime": record.history[-1].at if record.history else record.created_at,
    }
    if record.history and len(record.history) > 1:
        out["ApprovalDescription"] = record.history[-1].note
    if record.source:
        out["SourcePipelineExecution"] = record.source
        execution = record.source.get("PipelineExecutionId")
        if execution:
            out["SourcePipelineExecutionArn"] = execution
    return out


def describe_model_package(ws: Workspace, ref: str) -> dict[str, Any]:
    """Version ``ref`` in SageMaker's ``DescribeModelPackage`` shape."""
    return describe_record(get_package(ws, ref))


def describe_group(record: ModelPackageGroupRecord) -> dict[str, Any]:
    """A group in SageMaker's ``DescribeModelPackageGroup`` shape (plus
    ``DeployOnApproval``)."""
    return {"ModelPackageGroupName": record.name, "ModelPackageGroupArn": record.name,
            "ModelPackageGroupDescription": record.description,
            "CreationTime": record.created_at, "DeployOnApproval": record.deploy_on_approval,
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(record.tags.items())]}


def deployable(ws: Workspace, ref: str, force: bool = False) -> ModelPackageRecord:
    """Version ``ref`` if it may be deployed: Approved, or any status with ``force``;
    ConflictError otherwise."""
    record = get_package(ws, ref)
    if record.approval_status is not ApprovalStatus.APPROVED and not force:
        raise ConflictError(f"{record.arn} is {record.approval_status.value}; only Approved "
                            "versions deploy (use --force to deploy anyway)")
    return record
