"""``mlyard registry ...`` (through click's CliRunner on the real root command) and the
SDK's ModelPackageGroup/ModelPackage, with the deployment itself replaced by a recorder
(the integration test deploys through a real server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from mlyard.cli.commands_registry import COMMANDS, registry
from mlyard.cli.main import cli
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.registry.service import register_model_version
from mlyard.registry.store import ApprovalStatus, ModelPackageRecord, RegistryStore
from mlyard.sdk import registry as sdk_registry
from mlyard.sdk.registry import ModelPackage, ModelPackageGroup


@pytest.fixture(autouse=True)
def wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry commands on the root command, as the lead wires them."""
    for command in COMMANDS:
        assert command.name is not None
        monkeypatch.setitem(cli.commands, command.name, command)


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Deployments asked for: (version, endpoint, instance count)."""
    calls: list[tuple[str, str, int]] = []

    class FakePredictor:
        def __init__(self, endpoint: str) -> None:
            self.endpoint_name = endpoint

        def close(self) -> None:
            pass

    def fake(ws: Workspace, record: ModelPackageRecord, endpoint: str, *,
             initial_instance_count: int = 1, wait: bool = True,
             deployment_config: dict[str, Any] | None = None) -> Any:
        calls.append((record.arn, endpoint, initial_instance_count))
        return FakePredictor(endpoint)

    monkeypatch.setattr(sdk_registry, "deploy_package", fake)
    return calls


def run(ws: Workspace, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(ws.settings.home), "registry", *args])


def _commands(group: click.Group, path: str) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path} {name}")


def test_the_commands_follow_the_cli_rules() -> None:
    commands = dict(_commands(registry, "registry"))
    assert {"registry groups", "registry groups create", "registry versions",
            "registry describe", "registry register", "registry approve", "registry reject",
            "registry deploy", "registry set-deploy-on-approval"} <= set(commands)
    for path, command in commands.items():
        assert (command.help or "").strip(), path
        options = [p for p in command.params if isinstance(p, click.Option)]
        for option in options:
            assert (option.help or "").strip(), f"{path} {option.opts[0]}"
            if isinstance(option.type, click.Choice):
                assert not option.type.case_sensitive, f"{path} {option.opts[0]}"
        if path.rsplit(" ", 1)[-1] in ("groups", "versions", "describe"):
            assert any("--json" in o.opts for o in options), path


def test_register_list_approve_reject_describe(ws: Workspace, models: list[str],
                                               evaluation: Path) -> None:
    result = run(ws, "groups", "create", "reviews", "--description", "text models")
    assert result.exit_code == 0, result.output
    result = run(ws, "register", "reviews", "--model", "m-1", "--metrics", str(evaluation),
                 "--by", "ann")
    assert result.exit_code == 0, result.output
    assert "registered reviews/1 (PendingManualApproval)" in result.output
    assert run(ws, "register", "reviews", "--model", "m-2", "--status", "approved"
               ).exit_code == 0
    listed = run(ws, "versions", "reviews")
    assert "reviews/1" in listed.output and "accuracy=0.87" in listed.output
    assert "Approved" in listed.output
    assert run(ws, "reject", "reviews/1", "--note", "too slow", "--by", "bob").exit_code == 0
    as_json = json.loads(run(ws, "versions", "reviews", "--status", "REJECTED", "--json"
                             ).output)
    assert [v["ModelPackageArn"] for v in as_json] == ["reviews/1"]
    desc = json.loads(run(ws, "describe", "reviews/1", "--json").output)
    assert [(h["Status"], h["By"], h["Note"]) for h in desc["ApprovalHistory"]] == [
        ("PendingManualApproval", "ann", None), ("Rejected", "bob", "too slow")]
    content = desc["ModelMetrics"]["ModelQuality"]["Statistics"]["Content"]
    assert content["metrics"]["accuracy"]["value"] == 0.87
    text = run(ws, "describe", "reviews/1").output
    assert "ApprovalHistory" in text and "too slow" in text
    groups = json.loads(run(ws, "groups", "--json").output)
    assert [g["ModelPackageGroupName"] for g in groups] == ["reviews"]
    assert "reviews/2" in run(ws, "groups").output


def test_errors_name_what_is_wrong(ws: Workspace, models: list[str]) -> None:
    run(ws, "register", "reviews", "--model", "m-1")
    result = run(ws, "approve", "reviews/9")
    assert isinstance(result.exception, NotFoundError)
    assert "reviews/9" in str(result.exception) and "versions are 1" in str(result.exception)
    result = run(ws, "register", "reviews", "--model", "ghost")
    assert isinstance(result.exception, NotFoundError) and "'ghost'" in str(result.exception)
    result = run(ws, "deploy", "reviews/1", "--endpoint", "reviews")
    assert isinstance(result.exception, ConflictError)
    assert "reviews/1 is PendingManualApproval" in str(result.exception)
    result = run(ws, "describe", "reviews")
    assert isinstance(result.exception, ValidationError)
    assert run(ws, "set-deploy-on-approval", "reviews").exit_code == 2


def test_cli_deploys_on_approval_and_by_hand(ws: Workspace, models: list[str],
                                            deployed: list[tuple[str, str, int]]) -> None:
    assert run(ws, "groups", "create", "reviews", "--deploy-on-approval", "rev-ep",
               "--instance-count", "2").exit_code == 0
    run(ws, "register", "reviews", "--model", "m-1")
    run(ws, "register", "reviews", "--model", "m-2")
    result = run(ws, "approve", "reviews/1", "--note", "ok")
    assert result.exit_code == 0, result.output
    assert deployed == [("reviews/1", "rev-ep", 2)]
    assert "deployed reviews/1 (model m-1) to endpoint rev-ep" in result.output
    assert run(ws, "approve", "reviews/2", "--no-deploy").exit_code == 0
    assert len(deployed) == 1
    assert run(ws, "deploy", "reviews/2", "--endpoint", "other").exit_code == 0
    assert run(ws, "reject", "reviews/2").exit_code == 0
    assert run(ws, "deploy", "reviews/2", "--endpoint", "other", "--force").exit_code == 0
    assert deployed[1:] == [("reviews/2", "other", 1), ("reviews/2", "other", 1)]
    assert run(ws, "set-deploy-on-approval", "reviews", "--clear").exit_code == 0
    assert RegistryStore.of(ws.store).get_group("reviews").deploy_on_approval is None


def test_sdk(ws: Workspace, models: list[str], evaluation: Path,
             deployed: list[tuple[str, str, int]]) -> None:
    group = ModelPackageGroup.create("reviews", description="d")
    v1 = group.register("m-1", model_metrics={"ModelQuality": {"Statistics": {
        "ContentType": "application/json", "S3Uri": str(evaluation)}}})
    v2 = group.register("m-2")
    assert [p.ref for p in group.versions()] == ["reviews/1", "reviews/2"]
    assert v1.reject(note="worse").approval_status is ApprovalStatus.REJECTED
    with pytest.raises(ConflictError, match="reviews/1 is Rejected"):
        v1.deploy("reviews")
    assert v2.approve(note="better", by="ann") is None   # the group deploys nowhere
    assert group.latest_approved() is not None
    assert ModelPackage("reviews/2").describe()["ApprovalHistory"][-1]["By"] == "ann"
    group.set_deploy_on_approval("rev-ep")
    predictor = v1.approve()
    assert predictor is not None and predictor.endpoint_name == "rev-ep"
    assert deployed == [("reviews/1", "rev-ep", 1)]
    assert v1.deploy("x", force=True, initial_instance_count=3) is not None
    assert deployed[-1] == ("reviews/1", "x", 3)
    assert group.describe()["DeployOnApproval"] == {"EndpointName": "rev-ep",
                                                    "InstanceCount": 1}
    assert v1.approval_status == "Approved"
    with pytest.raises(NotFoundError, match="reviews/7"):
        ModelPackage("reviews/7").approve()
    register_model_version(ws, "other", model_name="m-1")
    assert [p.ref for p in ModelPackageGroup("other").versions("pendingmanualapproval")] == [
        "other/1"]
