"""The autoscale loop and the deployment helpers split out of the endpoint manager, driven
without replica processes (a stand-in pool and host)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from mlyard.core.workspace import Workspace
from mlyard.serving.autoscaler import Autoscaler
from mlyard.serving.deployment import alarm_reason, green_key, interrupted, started_record
from mlyard.serving.endpoint_specs import DeploymentConfig, EndpointConfig
from mlyard.serving.endpoint_state import runtime_state
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.runtime import EndpointRuntime, Fleet, VariantRuntime
from mlyard.serving.store import EndpointStatus, EndpointStore


@dataclass
class _Pool:
    replicas: int


@dataclass
class _Host:
    runtimes: list[tuple[str, EndpointRuntime]]
    scaled: list[tuple[str, str, int, str]] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)

    def live_runtimes(self) -> list[tuple[str, EndpointRuntime]]:
        return self.runtimes

    async def scale_variant(self, name: str, variant: VariantRuntime, count: int,
                            cause: str) -> None:
        self.scaled.append((name, variant.name, count, cause))
        variant.pool.replicas = count

    def save_runtime_state(self, name: str, rt: EndpointRuntime) -> None:
        self.saved.append(name)


def _runtime(name: str, replicas: int = 1) -> EndpointRuntime:
    config = EndpointConfig.model_validate({
        "EndpointConfigName": f"{name}-cfg",
        "ProductionVariants": [{"VariantName": "A", "ModelName": "m"}]})
    variant = VariantRuntime("A", "m", 1.0, _Pool(replicas))  # type: ignore[arg-type]
    return EndpointRuntime(name, Fleet(config, {"A": variant}))


def _store_endpoint(ws: Workspace, name: str, status: EndpointStatus) -> None:
    endpoints = EndpointStore.of(ws.store)
    endpoints.create_endpoint_config(f"{name}-cfg", {})
    endpoints.create_endpoint(name, f"{name}-cfg", {})
    policy = {"TargetValue": 10.0, "MinCapacity": 1, "MaxCapacity": 3,
              "ScaleOutCooldown": 0, "ScaleInCooldown": 300, "EvaluationSeconds": 60}
    endpoints.update_endpoint(name, status=status, state={"autoscaling": {"A": policy}})


def test_autoscaler_scales_busy_in_service_endpoints_only(ws: Workspace) -> None:
    metrics = MetricsRecorder()
    busy, updating = _runtime("busy"), _runtime("updating")
    _store_endpoint(ws, "busy", EndpointStatus.IN_SERVICE)
    _store_endpoint(ws, "updating", EndpointStatus.UPDATING)
    for name in ("busy", "updating"):
        for _ in range(25):  # 25 invocations a minute on 1 replica, target 10 -> 3 replicas
            metrics.record(name, "A", "Invocations", 1.0)
    host = _Host([("busy", busy), ("updating", updating)])
    scaler = Autoscaler(host, EndpointStore.of(ws.store), metrics)
    asyncio.run(scaler.run_once())
    assert [(n, v, c) for n, v, c, _ in host.scaled] == [("busy", "A", 3)]
    assert "target tracking: InvocationsPerReplica 25.000" in host.scaled[0][3]
    assert host.saved == ["busy"]
    # at 3 replicas the load is on target: nothing more to do
    asyncio.run(scaler.run_once())
    assert len(host.scaled) == 1
    # a fresh policy forgets its cooldowns; forget() drops an endpoint's state
    scaler.reset("busy", "A")
    scaler.forget("busy")
    assert not scaler._states


def test_runtime_state_keeps_other_keys() -> None:
    rt = _runtime("e", replicas=2)
    state = runtime_state(rt, {"autoscaling": {"A": {}}, "weights": {"old": 1}})
    assert state == {"autoscaling": {"A": {}}, "weights": {"A": 1.0}, "replicas": {"A": 2}}


def test_deployment_records() -> None:
    plan = DeploymentConfig.model_validate({})
    record = started_record("new", "old", plan)
    assert record["status"] == "InProgress" and record["steps"] == []
    assert record["target_config"] == "new" and record["from_config"] == "old"
    state = interrupted({"deployment": record, "weights": {"A": 1.0}})
    assert state["deployment"]["status"] == "Interrupted" and state["weights"] == {"A": 1.0}
    done = {"deployment": {**record, "status": "Completed"}}
    assert interrupted(done) == done
    assert interrupted({}) == {}


def test_alarm_reason_reads_the_green_fleet() -> None:
    metrics = MetricsRecorder()
    plan = DeploymentConfig.model_validate({"AutoRollbackConfiguration": {
        "MaxErrorRate": 0.1, "MinInvocations": 5, "MaxP99LatencyMs": 100}})
    since = time.time() - 5
    key = green_key("ep")
    assert key == "ep/green"
    for _ in range(4):
        metrics.record(key, "A", "Invocations", 1.0)
        metrics.record(key, "A", "Invocation5XXErrors", 1.0)
    assert alarm_reason(metrics, "ep", plan, since) is None  # too few calls to judge
    metrics.record(key, "A", "Invocations", 1.0)
    assert "error rate 0.800" in (alarm_reason(metrics, "ep", plan, since) or "")
    slow = MetricsRecorder()
    for _ in range(5):
        slow.record(key, "A", "Invocations", 1.0)
        slow.record(key, "A", "ModelLatency", 150_000.0)  # microseconds
    assert "p99 latency 150.0 ms" in (alarm_reason(slow, "ep", plan, since) or "")
    # the blue fleet's own series is not the green one's
    calm = MetricsRecorder()
    for _ in range(10):
        calm.record("ep", "A", "Invocation5XXErrors", 1.0)
    assert alarm_reason(calm, "ep", plan, since) is None
