"""``mlyard endpoints ...`` against stand-in clients (these are the CLI's own checks): the
wording (SageMaker's "instance count" for replicas, ``replicas`` still accepted), Ctrl-C while
a command waits on an endpoint (the change goes on in the server), and ``endpoints update``:
the bake's progress is shown while it waits, and an update that does not complete exits 1."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mlyard.cli import commands_endpoints
from mlyard.cli.commands_endpoints import parse_variant, update_progress
from mlyard.cli.main import cli
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


class _Client:
    """Answers ``describe_endpoint`` with the next of ``descriptions`` (the last repeats)."""

    url = "http://127.0.0.1:1"

    def __init__(self, descriptions: list[dict[str, Any]]) -> None:
        self.descriptions = descriptions
        self.configs: list[dict[str, Any]] = []
        self.updates: list[tuple[str, str, dict[str, Any]]] = []

    def create_endpoint_config(self, spec: dict[str, Any]) -> dict[str, Any]:
        self.configs.append(spec)
        return spec

    def update_endpoint(self, name: str, config: str, deployment: dict[str, Any]
                        ) -> dict[str, Any]:
        self.updates.append((name, config, deployment))
        return self.descriptions[0]

    def describe_endpoint(self, name: str) -> dict[str, Any]:
        return self.descriptions.pop(0) if len(self.descriptions) > 1 else self.descriptions[0]


def _progress(phase: str, step: int, left: float, calls: int, errors: int) -> dict[str, Any]:
    return {"Phase": phase, "Step": step, "Steps": 2, "TrafficFraction": 0.5,
            "BakeSecondsLeft": left, "Invocations": calls, "Invocation4XXErrors": 1,
            "Invocation5XXErrors": errors, "InFlight": 3}


def _desc(status: str, deployment: dict[str, Any] | None = None,
          progress: dict[str, Any] | None = None, config: str = "ep-old") -> dict[str, Any]:
    out: dict[str, Any] = {"EndpointName": "ep", "EndpointStatus": status,
                           "EndpointConfigName": config, "LastDeployment": deployment}
    if progress is not None:
        out["DeploymentProgress"] = progress
    return out


def _run_update(monkeypatch: pytest.MonkeyPatch, client: _Client, *extra: str) -> Any:
    monkeypatch.setattr(commands_endpoints, "_client", lambda ctx: client)
    monkeypatch.setattr(commands_endpoints, "_POLL_SECONDS", 0.0)
    return CliRunner().invoke(cli, ["endpoints", "update", "ep", "--variant", "A=m2",
                                    "--traffic", "canary:50", "--wait-seconds", "2",
                                    "--max-error-rate", "0.1", *extra])


def test_rolled_back_update_exits_1_and_shows_the_bake(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client([
        _desc("Updating", {"status": "InProgress"}, {**_progress("StartingNewFleet", 0, 0, 0,
                                                                 0)}),
        _desc("Updating", {"status": "InProgress"}, _progress("Baking", 1, 1.6, 4, 0)),
        _desc("Updating", {"status": "InProgress"},
              _progress("WaitingForOutcomes", 1, 0, 9, 6)),
        _desc("RollingBack", {"status": "InProgress"}, _progress("RollingBack", 1, 0, 9, 6)),
        _desc("InService", {"status": "RolledBack",
                            "reason": "error rate 0.667 of the new fleet is above 0.1"}),
    ])
    result = _run_update(monkeypatch, client)
    assert result.exit_code == 1, result.output
    out = result.stdout
    err = result.stderr
    assert "endpoint ep InService; deployment RolledBack: error rate 0.667" in out
    assert "error: the update of endpoint ep was rolled back; it still serves config " \
           "ep-old" in err
    assert "ep: starting the new fleet" in err
    assert ("ep: step 1/2 (50% of traffic to the new fleet): baking, 2 s left; new fleet so "
            "far: 4 invocations, 0 5xx, 1 4xx, 3 in flight") in err
    assert "waiting for the outcome of requests sent to the new fleet" in err
    assert "rolling back" in err
    assert client.updates[0][2]["AutoRollbackConfiguration"] == {"MaxErrorRate": 0.1}


@pytest.mark.parametrize(("status", "words"), [("Failed", "failed"),
                                               ("Interrupted", "was interrupted")])
def test_failed_update_exits_1(monkeypatch: pytest.MonkeyPatch, status: str,
                               words: str) -> None:
    client = _Client([_desc("Updating", {"status": "InProgress"}),
                      _desc("InService", {"status": status, "reason": "new fleet did not "
                                                                      "start"})])
    result = _run_update(monkeypatch, client)
    assert result.exit_code == 1
    assert f"error: the update of endpoint ep {words}" in result.stderr


def test_completed_update_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client([_desc("Updating", {"status": "InProgress"},
                            _progress("Baking", 2, 0.4, 30, 0)),
                      _desc("InService", {"status": "Completed"}, config="ep-new")])
    result = _run_update(monkeypatch, client)
    assert result.exit_code == 0, result.output
    assert "endpoint ep InService; deployment Completed" in result.stdout
    assert "error" not in result.stderr


def test_no_wait_returns_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client([_desc("Updating", {"status": "InProgress"})])
    result = _run_update(monkeypatch, client, "--no-wait")
    assert result.exit_code == 0
    assert "endpoint ep Updating; deployment InProgress" in result.stdout


def test_progress_line_without_progress() -> None:
    assert update_progress(_desc("RollingBack")) == ("RollingBack", "RollingBack...")
