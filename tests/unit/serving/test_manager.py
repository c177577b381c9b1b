"""The endpoint manager's invocation bookkeeping, driven without replica processes: every
outcome a client sees counts in the variant's metrics (answers by status class, the pool's
503s and unexpected errors as 5xx), the autoscaler and the A/B report read those counts,
and metric queries name unknown variants and metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ServiceUnavailable
from mlyard.serving.abreport import ab_report
from mlyard.serving.autoscaler import policy_metric
from mlyard.serving.deployment import green_key
from mlyard.serving.endpoint_specs import EndpointConfig, TargetTrackingPolicy
from mlyard.serving.manager import EndpointManager, _Managed
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.pool import InvokeResult, NoHealthyReplica, Overloaded
from mlyard.serving.runtime import EndpointRuntime, Fleet, VariantRuntime
from mlyard.serving.store import EndpointStatus, EndpointStore


@dataclass
class _Pool:
    """A stand-in replica pool: answers with the next status of ``outcomes`` (an int) or
    raises it (an exception)."""

    outcomes: list[int | BaseException]
    replicas: int = 1
    calls: int = field(default=0)

    async def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        outcome = self.outcomes[self.calls % len(self.outcomes)]
        self.calls += 1
        await asyncio.sleep(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return InvokeResult(outcome, b"[]", "application/json", 0.002, 1)


def _config(name: str, *variants: str) -> EndpointConfig:
    return EndpointConfig.model_validate({
        "EndpointConfigName": f"{name}-cfg",
        "ProductionVariants": [{"VariantName": v, "ModelName": "m"} for v in variants]})


def _manager(ws: Workspace, name: str, pools: dict[str, _Pool]) -> EndpointManager:
    """A manager with endpoint ``name`` stored InService and its variants on ``pools``."""
    manager = EndpointManager(ws, MetricsRecorder())
    config = _config(name, *pools)
    store = EndpointStore.of(ws.store)
    store.create_endpoint_config(config.name, config.model_dump(mode="json", by_alias=True))
    store.create_endpoint(name, config.name, {})
    store.update_endpoint(name, status=EndpointStatus.IN_SERVICE)
    variants = {v: VariantRuntime(v, "m", 1.0, pool)  # type: ignore[arg-type]
                for v, pool in pools.items()}
    manager._eps[name] = _Managed(runtime=EndpointRuntime(name, Fleet(config, variants)))
    return manager


def _invoke(manager: EndpointManager, name: str, target: str | None = None
            ) -> int | BaseException:
    try:
        result, _, _ = asyncio.run(manager.invoke(name, b"[]", "application/json",
                                                  "application/json", target, None))
    except Exception as exc:
        return exc
    return result.status


def _sum(metrics: MetricsRecorder, key: str, metric: str, variant: str = "A") -> float:
    return metrics.aggregate(key, metric, variant=variant, stat="Sum") or 0.0


def test_pool_errors_count_as_invocations_and_5xx(ws: Workspace) -> None:
    pool = _Pool([NoHealthyReplica("every replica tried died"), Overloaded("busy"),
                  NoHealthyReplica("no replica became ready within 60 s")])
    manager = _manager(ws, "ep", {"A": pool})
    outcomes = [_invoke(manager, "ep") for _ in range(3)]
    assert all(isinstance(o, ServiceUnavailable) for o in outcomes)  # the client gets 503
    m = manager.metrics
    assert _sum(m, "ep", "Invocations") == 3
    assert _sum(m, "ep", "Invocation5XXErrors") == 3
    assert _sum(m, "ep", "Invocation4XXErrors") == 0
    # no replica answered: no model latency, the time waited is overhead
    assert m.aggregate("ep", "ModelLatency", variant="A", stat="SampleCount") is None
    assert m.aggregate("ep", "OverheadLatency", variant="A", stat="SampleCount") == 3
    assert m.aggregate("ep", "InvocationsPerReplica", variant="A", stat="Sum") == 3


def test_unexpected_pool_error_counts_as_5xx(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([RuntimeError("socket gone")])})
    assert isinstance(_invoke(manager, "ep"), RuntimeError)
    assert _sum(manager.metrics, "ep", "Invocations") == 1
    assert _sum(manager.metrics, "ep", "Invocation5XXErrors") == 1


def test_answers_count_by_status_class(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([200, 400, 415, 406, 424, 500, 200])})
    assert [_invoke(manager, "ep") for _ in range(7)] == [200, 400, 415, 406, 424, 500, 200]
    m = manager.metrics
    assert _sum(m, "ep", "Invocations") == 7
    assert _sum(m, "ep", "Invocation4XXErrors") == 3  # the client's bad input
    assert _sum(m, "ep", "Invocation5XXErrors") == 2  # the model's failures (424, 500)
    assert m.aggregate("ep", "ModelLatency", variant="A", stat="SampleCount") == 7


def test_green_fleet_outcomes_count_in_its_own_series(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([200])})
    rt = manager.live_runtime("ep")
    green = VariantRuntime("A", "m2", 1.0,
                           _Pool([NoHealthyReplica("died")]))  # type: ignore[arg-type]
    rt.green, rt.green_fraction = Fleet(_config("ep2", "A"), {"A": green}), 1.0
    assert isinstance(_invoke(manager, "ep"), NoHealthyReplica)
    m = manager.metrics
    assert _sum(m, green_key("ep"), "Invocations") == 1
    assert _sum(m, green_key("ep"), "Invocation5XXErrors") == 1
    assert _sum(m, "ep", "Invocation5XXErrors") == 1
    assert green.outstanding.total == 0  # its outcome is in


def test_autoscaler_and_ab_report_see_failed_requests(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([200]),
                                  "B": _Pool([NoHealthyReplica("died")])})
    for _ in range(20):
        _invoke(manager, "ep", "A")
        _invoke(manager, "ep", "B")
    rt = manager.live_runtime("ep")
    policy = TargetTrackingPolicy.model_validate({"TargetValue": 1.0,
                                                  "EvaluationSeconds": 60})
    assert policy_metric(manager.metrics, "ep", rt.blue.variants["B"], policy) == 20.0
    report = ab_report(manager.metrics, "ep", ["A", "B"])
    b = report.variant("B")
    assert (b.invocations, b.errors_5xx, b.error_rate_5xx) == (20, 20, 1.0)
    assert report.recommendation.winner == "A"


def test_shadow_failures_count_as_invocations(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([200])})
    shadow = VariantRuntime("S", "m", 0.0, _Pool([NoHealthyReplica("died")]),  # type: ignore[arg-type]
                            shadow=True)
    live = InvokeResult(200, b"[]", "application/json", 0.001, 1)
    asyncio.run(manager._shadow("ep", shadow, b"[]", "application/json",
                                "application/json", live))
    assert _sum(manager.metrics, "ep", "Invocations", "S") == 1
    assert _sum(manager.metrics, "ep", "Invocation5XXErrors", "S") == 1


def test_metrics_query_names_unknown_variants_and_metrics(ws: Workspace) -> None:
    manager = _manager(ws, "ep", {"A": _Pool([200]), "B": _Pool([200])})
    with pytest.raises(NotFoundError, match=r"no variant 'Z'; its variants: A, B"):
        manager.endpoint_metrics("ep", "Invocations", variant="Z")
    with pytest.raises(NotFoundError, match=r"unknown metric 'Invocatons'.*Invocations"):
        manager.endpoint_metrics("ep", "Invocatons")
    # a known metric without data yet has no points; recorded custom names are known
    assert manager.endpoint_metrics("ep", "ModelLatency", variant="B") == []
    manager.metrics.record("ep", "A", "MyCustomMetric", 1.0)
    assert len(manager.endpoint_metrics("ep", "MyCustomMetric")) == 1
    with pytest.raises(NotFoundError, match="no endpoint named 'nope'"):
        manager.endpoint_metrics("nope", "Invocations")
