"""``mlyard endpoints ...`` wording: SageMaker's "instance count" for replicas (``replicas``
still accepted), and Ctrl-C while a command waits on an endpoint (the change goes on in the
server). The server is replaced by a recording stand-in: these are the CLI's own checks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlyard.cli import commands_endpoints
from mlyard.cli.commands_endpoints import parse_variant
from mlyard.errors import ValidationError
from tests.unit.cli.test_commands_jobs import _run


@pytest.mark.parametrize("key", ["instance-count", "instances", "replicas"])
def test_variant_instance_count_and_its_aliases(key: str) -> None:
    assert parse_variant(f"A=bt-1:weight=50:{key}=2") == {
        "VariantName": "A",
        "ModelName": "bt-1",
        "InitialVariantWeight": 50.0,
        "InitialInstanceCount": 2,
    }
    assert parse_variant(f"S=bt-2:sampling=10:{key}=3", shadow=True)["InitialInstanceCount"] == 3


def test_variant_errors_name_the_instance_count() -> None:
    with pytest.raises(ValidationError, match="instance-count=N"):
        parse_variant("A")
    with pytest.raises(ValidationError, match=r"instance-count=\.\.\."):
        parse_variant("A=bt-1:size=2")


@given(st.text(max_size=40))
def test_parse_variant_raises_only_validation_errors(text: str) -> None:
    try:
        out = parse_variant(text)
    except ValidationError:
        return
    assert out["VariantName"] and out["ModelName"]


class FakeClient:
    """Records the calls a command makes; ``describe_endpoint`` may raise Ctrl-C."""

    url = "http://127.0.0.1:1"

    def __init__(self, interrupt: bool = False) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.interrupt = interrupt

    def create_endpoint_config(self, spec: dict[str, Any]) -> None:
        self.calls.append(("config", spec))

    def create_endpoint(self, name: str, config: str) -> None:
        self.calls.append(("create", name))

    def update_endpoint(self, name: str, config: str, options: dict[str, Any]) -> None:
        self.calls.append(("update", name))

    def describe_endpoint(self, name: str) -> dict[str, Any]:
        if self.interrupt:
            raise KeyboardInterrupt
        return {"EndpointStatus": "InService", "EndpointName": name}

    def update_weights_and_capacities(
        self, name: str, desired: list[dict[str, Any]]
    ) -> dict[str, Any]:
        self.calls.append(("weights", desired))
        return {
            "ProductionVariants": [
                {
                    "VariantName": d["VariantName"],
                    "CurrentWeight": d.get("DesiredWeight", 1.0),
                    "CurrentInstanceCount": d.get("DesiredInstanceCount", 1),
                }
                for d in desired
            ]
        }


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient()
    monkeypatch.setattr(commands_endpoints, "_client", lambda ctx: fake)
    return fake


@pytest.mark.parametrize("option", ["--instance-count", "--replicas"])
def test_update_weights_takes_instance_count(client: FakeClient, option: str) -> None:
    out = _run("endpoints", "update-weights", "ep", "A=30", option, "A=3")
    assert out.exit_code == 0, out.output
    assert client.calls == [
        ("weights", [{"VariantName": "A", "DesiredWeight": 30.0, "DesiredInstanceCount": 3}])
    ]
    assert "instances" in out.output.splitlines()[0]


def test_update_weights_help_shows_instance_count_only() -> None:
    out = _run("endpoints", "update-weights", "--help")
    assert "--instance-count" in out.output and "--replicas" not in out.output


@pytest.mark.parametrize(
    "args",
    [
        ["endpoints", "create", "ep", "--variant", "A=bt-1"],
        ["endpoints", "update", "ep", "--variant", "A=bt-2"],
    ],
)
def test_ctrl_c_while_waiting_on_an_endpoint(client: FakeClient, args: list[str]) -> None:
    client.interrupt = True
    out = _run(*args)
    assert out.exit_code == 130, out.output
    assert "endpoint ep's change goes on in the server" in out.output
    assert "mlyard endpoints describe ep" in out.output
    assert "Traceback" not in out.output


def test_endpoint_config_spec_uses_instance_count(client: FakeClient) -> None:
    out = _run("endpoints", "create", "ep", "--variant", "A=bt-1:instance-count=2")
    assert out.exit_code == 0, out.output
    spec = client.calls[0][1]
    assert json.loads(json.dumps(spec))["ProductionVariants"][0]["InitialInstanceCount"] == 2


def test_endpoints_list_json(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [{"EndpointName": "ep", "EndpointStatus": "InService", "EndpointConfigName": "c",
             "CreationTime": 1.0}]

    class Lister:
        def list_endpoints(self) -> list[dict[str, Any]]:
            return rows

    monkeypatch.setattr(commands_endpoints, "_client", lambda ctx: Lister())
    out = _run("endpoints", "list", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == rows
