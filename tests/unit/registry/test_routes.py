"""The registry's HTTP routes on Starlette's TestClient with the server's error handlers:
lists, describe, approvals (who, note, 400 for bad bodies, 404 for unknown versions) and
deploy on approval through an endpoint manager (a recording stand-in here)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError
from mlyard.registry.service import create_group, register_model_version, reject
from mlyard.registry.store import RegistryStore
from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.routes.registry import routes

V = "/api/registry/groups/reviews/versions"


class FakeManager:
    """Records what an approval asks of the endpoint manager."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing
        self.calls: list[tuple[str, Any]] = []

    def create_endpoint_config(self, spec: dict[str, Any]) -> None:
        self.calls.append(("config", spec["ProductionVariants"][0]["ModelName"]))

    def describe(self, name: str) -> dict[str, Any]:
        if name not in self.existing:
            raise NotFoundError(f"no endpoint named {name!r}")
        return {}

    async def create_endpoint(self, name: str, config: str) -> None:
        self.calls.append(("create", name))
        self.existing.add(name)

    async def update_endpoint(self, name: str, config: str) -> None:
        if name == "busy":
            raise ConflictError(f"endpoint {name!r} is Updating, not InService")
        self.calls.append(("update", name))


def client(ws: Workspace, manager: Any = None) -> TestClient:
    app = Starlette(routes=routes(ws, manager), exception_handlers=EXCEPTION_HANDLERS)
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def two(ws: Workspace, models: list[str]) -> None:
    create_group(ws, "reviews", description="text")
    register_model_version(ws, "reviews", model_name="m-1", created_by="ann")
    register_model_version(ws, "reviews", model_name="m-2", created_by="ann")


def test_reads(ws: Workspace, two: None) -> None:
    http = client(ws)
    groups = http.get("/api/registry/groups").json()
    assert [g["ModelPackageGroupName"] for g in groups] == ["reviews"]
    listed = http.get(V).json()
    assert [v["ModelPackageArn"] for v in listed] == ["reviews/1", "reviews/2"]
    reject(ws, "reviews/2", by="bob")
    assert [v["ModelPackageArn"] for v in http.get(V, params={"status": "rejected"}).json()
            ] == ["reviews/2"]
    one = http.get(f"{V}/2").json()
    assert one["ModelApprovalStatus"] == "Rejected" and one["ModelName"] == "m-2"
    assert [h["By"] for h in one["ApprovalHistory"]] == ["ann", "bob"]
    assert http.get(V, params={"status": "maybe"}).status_code == 400
    for path in (f"{V}/9", f"{V}/x", f"{V}/0", f"{V}/\u00b2", f"{V}/1234567890",
                 "/api/registry/groups/ghost/versions",
                 "/api/registry/groups/ghost/versions/1", "/api/registry/groups/a_b/versions"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["ErrorCode"] == "ResourceNotFound"
    assert "reviews/9" in http.get(f"{V}/9").json()["Message"]


def test_approval(ws: Workspace, two: None) -> None:
    http = client(ws)
    answer = http.post(f"{V}/1/approval", json={"ModelApprovalStatus": "Approved",
                                                "ApprovalDescription": "good", "By": "cy"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["ModelApprovalStatus"] == "Approved"
    assert "Deployment" not in answer.json()
    history = RegistryStore.of(ws.store).get_version("reviews", 1).history
    assert [(e.status.value, e.by, e.note) for e in history][-1] == ("Approved", "cy", "good")
    bad = [{}, {"ModelApprovalStatus": "Maybe"}, {"ModelApprovalStatus": 1},
           {"ModelApprovalStatus": "Rejected", "Extra": 1},
           {"ModelApprovalStatus": "Rejected", "By": ""},
           {"ModelApprovalStatus": "Rejected", "By": "a\x00b"},
           {"ModelApprovalStatus": "Rejected", "ApprovalDescription": "x" * 2000}]
    for body in bad:
        answer = http.post(f"{V}/2/approval", json=body)
        assert answer.status_code == 400, body
    assert http.post(f"{V}/2/approval", content=b"[1]").status_code == 400
    assert http.post(f"{V}/2/approval", content=b"{nope").status_code == 400
    assert len(RegistryStore.of(ws.store).get_version("reviews", 2).history) == 1
    missing = http.post(f"{V}/9/approval", json={"ModelApprovalStatus": "Approved"})
    assert missing.status_code == 404 and "versions are 1, 2" in missing.json()["Message"]


def test_approval_deploys_through_the_manager(ws: Workspace, two: None) -> None:
    manager = FakeManager(existing={"busy"})
    http = client(ws, manager)
    RegistryStore.of(ws.store).set_deploy_on_approval(
        "reviews", {"EndpointName": "rev-ep", "InstanceCount": 1})
    first = http.post(f"{V}/1/approval", json={"ModelApprovalStatus": "Approved"}).json()
    assert first["Deployment"]["Action"] == "Create"
    assert first["Deployment"]["EndpointName"] == "rev-ep"
    second = http.post(f"{V}/2/approval", json={"ModelApprovalStatus": "Approved"}).json()
    assert second["Deployment"]["Action"] == "Update"
    assert manager.calls == [("config", "m-1"), ("create", "rev-ep"), ("config", "m-2"),
                             ("update", "rev-ep")]
    rejected = http.post(f"{V}/2/approval", json={"ModelApprovalStatus": "Rejected"}).json()
    assert "Deployment" not in rejected and len(manager.calls) == 4
    RegistryStore.of(ws.store).set_deploy_on_approval(
        "reviews", {"EndpointName": "busy", "InstanceCount": 1})
    answer = http.post(f"{V}/2/approval", json={"ModelApprovalStatus": "Approved"})
    assert answer.status_code == 200
    assert "is Updating" in answer.json()["Deployment"]["Error"]
    assert answer.json()["ModelApprovalStatus"] == "Approved"
