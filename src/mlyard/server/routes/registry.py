"""Routes of the model registry::

    GET  /api/registry/groups                                   every group
    GET  /api/registry/groups/{group}/versions                  ?status=: a group's versions
    GET  /api/registry/groups/{group}/versions/{version}        DescribeModelPackage
    POST /api/registry/groups/{group}/versions/{version}/approval
         {"ModelApprovalStatus": "Approved", "ApprovalDescription": "...", "By": "..."}

An approval is recorded with who (``By``, else the caller's token name, else the server's
user), when and the note. When the server is given its endpoint manager
(``routes(ws, manager)``) and the version's group deploys on approval, approving also
deploys the version there: a new endpoint config with the version's model, then the
endpoint is created, or updated blue/green if it exists; the answer's ``Deployment`` says
which, or why it could not start (the approval stands either way). Without a manager the
route records the approval only (the SDK and ``mlyard registry approve`` deploy).

Unknown groups and versions (and names that are not valid ones) are 404
``ResourceNotFound``; a malformed body or status filter is 400.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.specs import JOB_NAME_RE
from mlyard.core.workspace import Workspace
from mlyard.errors import MlyardError, NotFoundError, ValidationError
from mlyard.registry import service
from mlyard.registry.store import ApprovalStatus, ModelPackageRecord, RegistryStore
from mlyard.server.openapi import ApiRoute, Operation, Param, json_body, json_reply
from mlyard.server.wire import json_response, query_str, read_json_object

if TYPE_CHECKING:
    from mlyard.serving.manager import EndpointManager

TAG = "registry"
TEXT = {"type": "string"}
NUMBER = {"type": "number"}
MAX_BODY = 64 * 1024
MAX_NOTE = 1024
_VERSION_RE = re.compile(r"^[0-9]{1,9}$")
STATUSES = [s.value for s in ApprovalStatus]
_OBJECT = {"type": "object"}
_GROUP = {
    "type": "object", "required": ["ModelPackageGroupName", "CreationTime"],
    "properties": {
        "ModelPackageGroupName": TEXT, "ModelPackageGroupArn": TEXT,
        "ModelPackageGroupDescription": {"type": ["string", "null"]},
        "CreationTime": NUMBER,
        "DeployOnApproval": {"type": ["object", "null"], "description":
                             "Where approved versions deploy: EndpointName, InstanceCount"},
        "Tags": {"type": "array", "items": {"type": "object", "properties": {
            "Key": TEXT, "Value": TEXT}}},
    },
}
_PACKAGE = {
    "type": "object",
    "required": ["ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn",
                 "ModelApprovalStatus", "CreationTime", "ModelName", "ApprovalHistory"],
    "properties": {
        "ModelPackageGroupName": TEXT, "ModelPackageVersion": {"type": "integer"},
        "ModelPackageArn": {"type": "string", "description": "GROUP/VERSION"},
        "ModelPackageDescription": {"type": ["string", "null"]},
        "ModelApprovalStatus": {"type": "string", "enum": STATUSES},
        "ApprovalDescription": {"type": ["string", "null"]},
        "CreationTime": NUMBER, "LastModifiedTime": NUMBER,
        "CreatedBy": {"type": ["string", "null"]}, "ModelName": TEXT,
        "InferenceSpecification": _OBJECT,
        "ModelMetrics": {"type": "object", "description": "SageMaker's ModelMetrics; each "
                         "metrics file's JSON under Content"},
        "SourcePipelineExecution": _OBJECT, "SourcePipelineExecutionArn": TEXT,
        "ApprovalHistory": {"type": "array", "description": "Oldest first", "items": {
            "type": "object", "properties": {"Status": {"type": "string", "enum": STATUSES},
                                             "By": TEXT, "Time": NUMBER,
                                             "Note": {"type": ["string", "null"]}}}},
        "Deployment": {"type": "object", "description": "After an approval of a group that "
                       "deploys on approval: EndpointName, EndpointConfigName, Action "
                       "(Create|Update) or Error"},
    },
}
_APPROVAL_FIELDS: dict[str, Any] = {
    "ModelApprovalStatus": {"type": "string", "enum": STATUSES},
    "ApprovalDescription": {"type": "string", "maxLength": MAX_NOTE},
    "By": {"type": "string", "minLength": 1, "maxLength": 256,
           "description": "Who decides (default: the caller's token name)"},
}
_APPROVAL = {"type": "object", "required": ["ModelApprovalStatus"],
             "additionalProperties": False, "properties": _APPROVAL_FIELDS}


def _approval_body(body: dict[str, Any]) -> tuple[ApprovalStatus, str | None, str | None]:
    unknown = sorted(set(body) - set(_APPROVAL_FIELDS))
    if unknown:
        raise ValidationError(f"unknown field(s) {', '.join(map(repr, unknown))}; expected "
                              "ModelApprovalStatus, ApprovalDescription, By")
    status = body.get("ModelApprovalStatus")
    if not isinstance(status, str) or status not in STATUSES:
        raise ValidationError(f"ModelApprovalStatus must be one of {', '.join(STATUSES)}")
    note = body.get("ApprovalDescription")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE
                             or "\x00" in note):
        raise ValidationError(f"ApprovalDescription must be a string of at most {MAX_NOTE} "
                              "characters (no NUL)")
    by = body.get("By")
    if by is not None and (not isinstance(by, str) or not by.strip() or len(by) > 256
                           or "\x00" in by):
        raise ValidationError("By must be a non-empty string of at most 256 characters "
                              "(no NUL)")
    return ApprovalStatus(status), note, by


class RegistryRoutes:
    """Handlers over one workspace's registry (and, optionally, its endpoints)."""

    def __init__(self, ws: Workspace, manager: EndpointManager | None = None) -> None:
        self.ws = ws
        self.manager = manager

    def _store(self) -> RegistryStore:
        return RegistryStore.of(self.ws.store)

    @staticmethod
    def _group(request: Request) -> str:
        name = str(request.path_params["group"])
        if not JOB_NAME_RE.match(name):
            raise NotFoundError(f"no model package group named {name[:100]!r}")
        return name

    def _ref(self, request: Request) -> tuple[str, int]:
        group = self._group(request)
        text = str(request.path_params["version"])
        if not _VERSION_RE.match(text) or int(text) < 1:
            raise NotFoundError(f"no model package {group}/{text[:20]}")
        return group, int(text)

    def list_groups(self, request: Request) -> Response:
        return json_response([service.describe_group(g) for g in self._store().list_groups()])

    def list_versions(self, request: Request) -> Response:
        group = self._group(request)
        status = query_str(request.query_params, "status", max_length=32)
        wanted = None
        if status is not None:
            try:
                wanted = service.parse_status(status)
            except ValidationError as exc:
                raise ValidationError(f"query parameter 'status': {exc.message}") from None
        return json_response([service.describe_record(r)
                              for r in self._store().list_versions(group, wanted)])

    def describe(self, request: Request) -> Response:
        return json_response(service.describe_record(self._store().get_version(
            *self._ref(request))))

    async def set_approval(self, request: Request) -> Response:
        group, version = self._ref(request)
        status, note, by = _approval_body(await read_json_object(request, MAX_BODY))
        token = getattr(request.state, "token", None)
        who = by or (token if isinstance(token, str) and token else service.current_user())
        record = self._store().set_approval(group, version, status, by=who, note=note)
        out = service.describe_record(record)
        if status is ApprovalStatus.APPROVED and self.manager is not None:
            target = self._store().get_group(group).deploy_on_approval
            if target:
                out["Deployment"] = await self._deploy(record, target)
        return json_response(out)

    async def _deploy(self, record: ModelPackageRecord,
                      target: dict[str, Any]) -> dict[str, Any]:
        """Start deploying ``record`` to the group's endpoint; the outcome as a dict."""
        assert self.manager is not None
        endpoint = str(target["EndpointName"])
        config = (f"{endpoint[:40]}-{time.strftime('%Y%m%d-%H%M%S')}-"
                  f"{int(time.time() * 1e3) % 1000}")
        out: dict[str, Any] = {"EndpointName": endpoint, "EndpointConfigName": config}
        try:
            self.manager.create_endpoint_config({
                "EndpointConfigName": config, "ProductionVariants": [{
                    "VariantName": "AllTraffic", "ModelName": record.model_name,
                    "InitialVariantWeight": 1.0,
                    "InitialInstanceCount": int(target.get("InstanceCount", 1))}]})
            try:
                self.manager.describe(endpoint)
            except NotFoundError:
                await self.manager.create_endpoint(endpoint, config)
                out["Action"] = "Create"
            else:
                await self.manager.update_endpoint(endpoint, config)
                out["Action"] = "Update"
        except MlyardError as exc:
            out["Error"] = exc.message
        return out


def routes(ws: Workspace, manager: EndpointManager | None = None) -> list[ApiRoute]:
    """The registry routes over ``ws``; with ``manager``, approvals deploy where the group
    says."""
    h = RegistryRoutes(ws, manager)
    versions = "/api/registry/groups/{group}/versions"
    return [
        ApiRoute("/api/registry/groups", h.list_groups, method="GET", operation=Operation(
            "ListModelPackageGroups", "Every model package group, by name", TAG,
            replies={200: json_reply({"type": "array", "items": _GROUP})})),
        ApiRoute(versions, h.list_versions, method="GET", operation=Operation(
            "ListModelPackages", "A group's versions, oldest first, with their approval "
            "histories", TAG, params=(
                Param("status", "query", {"type": "string", "enum": STATUSES},
                      "Only versions with this approval status (any case; 400 for an "
                      "unknown one)"),),
            replies={200: json_reply({"type": "array", "items": _PACKAGE})},
            errors=(400, 404))),
        ApiRoute(versions + "/{version}", h.describe, method="GET", operation=Operation(
            "DescribeModelPackage", "A version: model, metrics, approval status and the "
            "whole approval history", TAG, replies={200: json_reply(_PACKAGE)},
            errors=(404,))),
        ApiRoute(versions + "/{version}/approval", h.set_approval, method="POST",
                 operation=Operation(
                     "UpdateModelPackageApproval", "Approve or reject a version (recorded "
                     "with who, when and the note); approving deploys it when the server "
                     "runs endpoints and the group deploys on approval", TAG,
                     body=json_body(_APPROVAL), replies={200: json_reply(_PACKAGE)},
                     errors=(400, 404))),
    ]
