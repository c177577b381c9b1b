"""The registry's approval flow against a real ``mlyard server`` on 127.0.0.1: a rejected
version is refused deployment, approving a version of a group that deploys on approval
serves it on the endpoint (SDK), and ``mlyard registry deploy --force`` moves the endpoint
to another version blue/green (CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mlyard.cli.commands_registry import registry
from mlyard.cli.main import cli
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError
from mlyard.sdk.registry import ModelPackageGroup
from mlyard.serving.client import EndpointsClient
from mlyard.testing.models import save_test_model
from tests.integration.server.serverproc import running_server


def _models(ws: Workspace, tmp: Path) -> None:
    for name in ("echo-1", "echo-2"):
        model_dir = save_test_model(tmp / name, "echo")
        ws.store.create_model(name, ws.artifacts.upload(
            model_dir, ws.artifacts.uri("models", name)), "test")


def _serving(client: EndpointsClient, endpoint: str) -> list[str]:
    desc = client.describe_endpoint(endpoint)
    assert desc["EndpointStatus"] == "InService", desc
    return [v["ModelName"] for v in desc["ProductionVariants"]]


def test_only_approved_versions_deploy(ws: Workspace, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _models(ws, tmp_path)
    group = ModelPackageGroup.create("reviews", description="review classifiers")
    v1, v2 = group.register("echo-1"), group.register("echo-2")
    v1.reject(note="accuracy below the bar", by="qa")
    with running_server(ws.settings, tmp_path) as server:
        client = EndpointsClient(server.url)
        with pytest.raises(ConflictError, match="reviews/1 is Rejected; only Approved"):
            v1.deploy("reviews-ep")
        assert client.list_endpoints() == []

        group.set_deploy_on_approval("reviews-ep")
        predictor = v2.approve(note="good enough", by="lead")
        assert predictor is not None
        answer = predictor.predict(["great dress", "awful top"])
        assert [p["label"] for p in answer] == [["echo"], ["echo"]]
        assert _serving(client, "reviews-ep") == ["echo-2"]
        history = v2.describe()["ApprovalHistory"]
        assert [(h["Status"], h["By"]) for h in history] == [
            ("PendingManualApproval", history[0]["By"]), ("Approved", "lead")]

        monkeypatch.setitem(cli.commands, "registry", registry)
        home = ["--home", str(ws.settings.home), "registry"]
        refused = CliRunner().invoke(cli, [*home, "deploy", "reviews/1", "--endpoint",
                                           "reviews-ep"])
        assert isinstance(refused.exception, ConflictError)
        forced = CliRunner().invoke(cli, [*home, "deploy", "reviews/1", "--endpoint",
                                          "reviews-ep", "--force", "--bake-seconds", "0"])
        assert forced.exit_code == 0, forced.output
        assert _serving(client, "reviews-ep") == ["echo-1"]
        assert predictor.predict("fine")[0]["label"] == ["echo"]
        predictor.delete_endpoint()
        predictor.close()
        client.close()
