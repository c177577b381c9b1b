"""The registry's operations: register (metrics read from their files), approve, reject,
the whole history in describe, the deploy check, and the errors that name what is wrong."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.registry import service
from mlyard.registry.service import (
    approve,
    deployable,
    describe_model_package,
    parse_package_ref,
    register_model_version,
    reject,
)
from mlyard.registry.store import ApprovalStatus, RegistryStore


def _metrics(uri: str) -> dict[str, object]:
    return {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": uri}}}


def test_parse_package_ref() -> None:
    assert parse_package_ref("reviews/3") == ("reviews", 3)
    assert parse_package_ref(" a-b/12 ") == ("a-b", 12)
    for bad in ("reviews", "reviews/", "reviews/x", "reviews/0", "/3", "a/b/3", "re_v/1"):
        with pytest.raises(ValidationError, match="invalid"):
            parse_package_ref(bad)


def test_register_creates_the_group_and_reads_metrics(ws: Workspace, models: list[str],
                                                      evaluation: Path) -> None:
    v1 = register_model_version(ws, "reviews", model_name="m-1",
                                model_metrics=_metrics(evaluation.as_uri()),
                                description="first", source={"PipelineExecutionId": "p-1"})
    assert (v1.arn, v1.version, v1.approval_status) == ("reviews/1", 1,
                                                        ApprovalStatus.PENDING)
    stats = v1.model_metrics["ModelQuality"]["Statistics"]
    assert stats["Content"] == {"metrics": {"accuracy": {"value": 0.87}}}
    assert stats["S3Uri"] == evaluation.as_uri()
    assert v1.created_by == getpass.getuser()
    container = v1.inference_specification["Containers"][0]
    assert container["ModelDataUrl"] == ws.store.get_model("m-1").uri
    v2 = register_model_version(ws, "reviews", model_name="m-2", approval_status="approved",
                                model_metrics=_metrics(str(evaluation)), created_by="ci")
    assert (v2.version, v2.approval_status, v2.created_by) == (2, ApprovalStatus.APPROVED,
                                                               "ci")
    assert v2.model_metrics["ModelQuality"]["Statistics"]["Content"]["metrics"]
    assert [g.name for g in RegistryStore.of(ws.store).list_groups()] == ["reviews"]


def test_register_checks_everything_first(ws: Workspace, models: list[str],
                                          tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="'ghost' is not a registered model"):
        register_model_version(ws, "reviews", model_name="ghost")
    missing = tmp_path / "nope.json"
    with pytest.raises(ValidationError, match=f"cannot read metrics file '{missing}'"):
        register_model_version(ws, "reviews", model_name="m-1",
                               model_metrics=_metrics(str(missing)))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValidationError, match=r"ModelQuality\.Statistics\.S3Uri: .*broken"
                                              r"\.json' is not valid JSON"):
        register_model_version(ws, "reviews", model_name="m-1",
                               model_metrics=_metrics(broken.as_uri()))
    with pytest.raises(ValidationError, match="ModelApprovalStatus 'Maybe'"):
        register_model_version(ws, "reviews", model_name="m-1", approval_status="Maybe")
    with pytest.raises(ValidationError, match="group name 'bad_name'"):
        register_model_version(ws, "bad_name", model_name="m-1")
    assert RegistryStore.of(ws.store).list_groups() == []


def test_approve_reject_and_history(ws: Workspace, models: list[str]) -> None:
    register_model_version(ws, "reviews", model_name="m-1", created_by="ann")
    reject(ws, "reviews/1", by="bob", note="accuracy regressed")
    approved = approve(ws, "reviews/1", note="fixed upstream")
    assert approved.approval_status is ApprovalStatus.APPROVED
    desc = describe_model_package(ws, "reviews/1")
    assert desc["ModelApprovalStatus"] == "Approved"
    assert desc["ModelPackageArn"] == "reviews/1" and desc["ModelName"] == "m-1"
    assert desc["ModelPackageGroupName"] == "reviews" and desc["ModelPackageVersion"] == 1
    assert [(h["Status"], h["By"], h["Note"]) for h in desc["ApprovalHistory"]] == [
        ("PendingManualApproval", "ann", None), ("Rejected", "bob", "accuracy regressed"),
        ("Approved", getpass.getuser(), "fixed upstream")]
    assert desc["ApprovalDescription"] == "fixed upstream"
    assert "SourcePipelineExecution" not in desc
    assert desc["InferenceSpecification"]["SupportedContentTypes"] == ["application/json"]


def test_unknown_versions_and_groups_are_named(ws: Workspace, models: list[str]) -> None:
    register_model_version(ws, "reviews", model_name="m-1")
    register_model_version(ws, "reviews", model_name="m-2")
    with pytest.raises(NotFoundError, match=r"reviews/9 .*versions are 1, 2"):
        approve(ws, "reviews/9")
    with pytest.raises(NotFoundError, match="'other'"):
        reject(ws, "other/1")
    with pytest.raises(ValidationError, match="GROUP/VERSION"):
        approve(ws, "reviews")
    assert [len(v.history) for v in RegistryStore.of(ws.store).list_versions("reviews")] \
        == [1, 1]


def test_only_approved_versions_deploy_unless_forced(ws: Workspace,
                                                     models: list[str]) -> None:
    register_model_version(ws, "reviews", model_name="m-1")
    register_model_version(ws, "reviews", model_name="m-2")
    reject(ws, "reviews/2")
    with pytest.raises(ConflictError, match=r"reviews/2 is Rejected; only Approved versions "
                                            r"deploy \(use --force to deploy anyway\)"):
        deployable(ws, "reviews/2")
    with pytest.raises(ConflictError, match="reviews/1 is PendingManualApproval"):
        deployable(ws, "reviews/1")
    assert deployable(ws, "reviews/2", force=True).model_name == "m-2"
    approve(ws, "reviews/1")
    assert deployable(ws, "reviews/1").model_name == "m-1"


def test_groups_and_deploy_targets(ws: Workspace) -> None:
    group = service.create_group(ws, "reviews", description="d",
                                 deploy_on_approval={"EndpointName": "reviews"})
    assert group.deploy_on_approval == {"EndpointName": "reviews", "InstanceCount": 1}
    with pytest.raises(ConflictError):
        service.create_group(ws, "reviews")
    with pytest.raises(ValidationError, match="endpoint name 'bad name'"):
        service.deploy_target("bad name")
    with pytest.raises(ValidationError, match="InstanceCount"):
        service.deploy_target("ep", 0)
    desc = service.describe_group(group)
    assert desc["ModelPackageGroupName"] == "reviews"
    assert desc["DeployOnApproval"]["EndpointName"] == "reviews"
