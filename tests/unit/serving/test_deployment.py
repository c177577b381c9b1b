"""Blue/green deployments judged on every outcome, driven without replica processes: a
stand-in host starts a stand-in green fleet and the test plays the requests routed to it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from mlyard.core.workspace import Workspace
from mlyard.serving.deployment import (
    BlueGreenDeployment,
    alarm_reason,
    green_key,
    started_record,
)
from mlyard.serving.endpoint_specs import DeploymentConfig, EndpointConfig
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.runtime import EndpointRuntime, Fleet, VariantRuntime
from mlyard.serving.store import EndpointStatus, EndpointStore


@dataclass
class _Pool:
    replicas: int = 1
    closed: bool = False

    async def close(self, drain: bool = True) -> None:
        self.closed = True


def _fleet(config_name: str, model: str) -> Fleet:
    config = EndpointConfig.model_validate({
        "EndpointConfigName": config_name,
        "ProductionVariants": [{"VariantName": "A", "ModelName": model}]})
    return Fleet(config, {"A": VariantRuntime("A", model, 1.0, _Pool())})  # type: ignore[arg-type]


class _Host:
    def __init__(self, rt: EndpointRuntime, green: Fleet) -> None:
        self.rt = rt
        self.green = green

    def live_runtime(self, name: str) -> EndpointRuntime:
        return self.rt

    async def start_fleet(self, name: str, config: EndpointConfig) -> Fleet:
        return self.green


def _setup(ws: Workspace, plan: dict[str, Any]) -> tuple[BlueGreenDeployment, EndpointRuntime,
                                                         Fleet, DeploymentConfig]:
    store = EndpointStore.of(ws.store)
    store.create_endpoint_config("old", {})
    store.create_endpoint("ep", "old", {})
    deployment = DeploymentConfig.model_validate(plan)
    store.update_endpoint("ep", status=EndpointStatus.UPDATING,
                          state={"deployment": started_record("new", "old", deployment)})
    rt = EndpointRuntime("ep", _fleet("old", "m-old"))
    green = _fleet("new", "m-new")
    bg = BlueGreenDeployment(_Host(rt, green), store, MetricsRecorder(), alarm_interval=0.02,
                             settle_timeout=5.0)
    return bg, rt, green, deployment


async def _slow_failing_request(bg: BlueGreenDeployment, variant: VariantRuntime,
                                seconds: float) -> None:
    """A request routed to the green fleet that fails (503) ``seconds`` later, as one to a
    replica that dies on every request does after the pool tried several replicas."""
    epoch = variant.outstanding.begin()
    try:
        await asyncio.sleep(seconds)
        bg.metrics.record(green_key("ep"), variant.name, "Invocations", 1.0)
        bg.metrics.record(green_key("ep"), variant.name, "Invocation5XXErrors", 1.0)
    finally:
        variant.outstanding.end(epoch)


def test_step_waits_for_the_outcome_of_slow_failures_and_rolls_back(ws: Workspace) -> None:
    """A canary whose requests fail only after the bake is over is rolled back, not
    promoted: the step waits for their outcome before it moves on."""
    bg, rt, green, plan = _setup(ws, {
        "TrafficRoutingConfiguration": {"Type": "Canary", "CanarySize": 50,
                                        "WaitIntervalInSeconds": 0.2},
        "AutoRollbackConfiguration": {"MaxErrorRate": 0.1, "MinInvocations": 3}})
    seen: list[dict[str, Any] | None] = []

    async def scenario() -> None:
        task = asyncio.create_task(bg.run("ep", green.config, plan))
        while rt.green is None:
            await asyncio.sleep(0.01)
        variant = green.variants["A"]
        requests = [asyncio.create_task(_slow_failing_request(bg, variant, 0.6))
                    for _ in range(4)]
        await asyncio.sleep(0.1)
        seen.append(bg.progress("ep"))
        await asyncio.sleep(0.3)  # the bake is over, the requests are not
        seen.append(bg.progress("ep"))
        await asyncio.gather(task, *requests)

    asyncio.run(scenario())
    rec = EndpointStore.of(ws.store).get_endpoint("ep")
    assert rec.status is EndpointStatus.IN_SERVICE
    assert rec.config_name == "old"  # the old fleet keeps serving
    deployment = rec.state["deployment"]
    assert deployment["status"] == "RolledBack"
    assert "error rate 1.000" in deployment["reason"]
    assert [s["fraction"] for s in deployment["steps"]] == [0.5]  # never went to 100 %
    assert rt.green is None and green.variants["A"].pool.closed  # type: ignore[attr-defined]
    assert not rt.blue.variants["A"].pool.closed  # type: ignore[attr-defined]
    baking, settling = seen
    assert baking is not None and baking["Phase"] == "Baking"
    assert (baking["Step"], baking["Steps"], baking["TrafficFraction"]) == (1, 2, 0.5)
    assert 0 < baking["BakeSecondsLeft"] <= 0.2 and baking["InFlight"] == 4
    assert settling is not None and settling["Phase"] == "WaitingForOutcomes"
    assert settling["Invocations"] == 0 and settling["InFlight"] == 4
    assert bg.progress("ep") is None  # gone once the deployment ended


def test_step_without_requests_in_flight_is_promoted(ws: Workspace) -> None:
    bg, rt, green, plan = _setup(ws, {
        "TrafficRoutingConfiguration": {"Type": "Canary", "CanarySize": 50,
                                        "WaitIntervalInSeconds": 0.05},
        "AutoRollbackConfiguration": {"MaxErrorRate": 0.1}})
    for _ in range(10):
        bg.metrics.record(green_key("ep"), "A", "Invocations", 1.0)
    asyncio.run(bg.run("ep", green.config, plan))
    rec = EndpointStore.of(ws.store).get_endpoint("ep")
    assert rec.state["deployment"]["status"] == "Completed" and rec.config_name == "new"
    assert rt.blue is green


def test_unanswered_requests_after_the_settle_timeout_roll_back(ws: Workspace) -> None:
    bg, _, green, plan = _setup(ws, {
        "TrafficRoutingConfiguration": {"Type": "AllAtOnce", "WaitIntervalInSeconds": 0.05}})
    bg.settle_timeout = 0.2
    green.variants["A"].outstanding.begin()  # a request that never gets an answer
    asyncio.run(bg.run("ep", green.config, plan))
    deployment = EndpointStore.of(ws.store).get_endpoint("ep").state["deployment"]
    assert deployment["status"] == "RolledBack"
    assert "1 requests sent to the new fleet were still unanswered" in deployment["reason"]


def test_client_errors_never_raise_the_alarm() -> None:
    metrics = MetricsRecorder()
    plan = DeploymentConfig.model_validate({"AutoRollbackConfiguration": {
        "MaxErrorRate": 0.05, "MinInvocations": 5}})
    key = green_key("ep")
    for _ in range(20):  # every request was the client's bad input
        metrics.record(key, "A", "Invocations", 1.0)
        metrics.record(key, "A", "Invocation4XXErrors", 1.0)
    assert alarm_reason(metrics, "ep", plan, time.time() - 5) is None


def test_a_fleet_failing_every_request_rolls_back_without_configured_alarms() -> None:
    metrics = MetricsRecorder()
    plan = DeploymentConfig.model_validate({})  # no MaxErrorRate, no MaxP99LatencyMs
    key = green_key("ep")
    for _ in range(4):
        metrics.record(key, "A", "Invocations", 1.0)
        metrics.record(key, "A", "Invocation5XXErrors", 1.0)
    since = time.time() - 5
    assert alarm_reason(metrics, "ep", plan, since) is None  # fewer than MinInvocations (5)
    metrics.record(key, "A", "Invocations", 1.0)
    metrics.record(key, "A", "Invocation5XXErrors", 1.0)
    assert "every one of the 5 requests" in (alarm_reason(metrics, "ep", plan, since) or "")
    metrics.record(key, "A", "Invocations", 1.0)  # one success: not every request failed
    assert alarm_reason(metrics, "ep", plan, since) is None
