"""``mlyard endpoints update`` against a stand-in client: the bake's progress is shown
while it waits, and an update that does not complete exits non-zero."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from mlyard.cli import commands_endpoints
from mlyard.cli.commands_endpoints import update_progress
from mlyard.cli.main import cli


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


def _run(monkeypatch: pytest.MonkeyPatch, client: _Client, *extra: str) -> Any:
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
    result = _run(monkeypatch, client)
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
    result = _run(monkeypatch, client)
    assert result.exit_code == 1
    assert f"error: the update of endpoint ep {words}" in result.stderr


def test_completed_update_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client([_desc("Updating", {"status": "InProgress"},
                            _progress("Baking", 2, 0.4, 30, 0)),
                      _desc("InService", {"status": "Completed"}, config="ep-new")])
    result = _run(monkeypatch, client)
    assert result.exit_code == 0, result.output
    assert "endpoint ep InService; deployment Completed" in result.stdout
    assert "error" not in result.stderr


def test_no_wait_returns_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    client = _Client([_desc("Updating", {"status": "InProgress"})])
    result = _run(monkeypatch, client, "--no-wait")
    assert result.exit_code == 0
    assert "endpoint ep Updating; deployment InProgress" in result.stdout


def test_progress_line_without_progress() -> None:
    assert update_progress(_desc("RollingBack")) == ("RollingBack", "RollingBack...")
