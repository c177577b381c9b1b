"""Conformance suite of the endpoints' store domain
(:class:`mlyard.serving.store.EndpointStore`)."""

from __future__ import annotations

import time

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import ConflictError, NotFoundError
from mlyard.serving.store import EndpointStatus, EndpointStore, ScalingActivity
from mlyard.testing.stores import StoreSuite


class EndpointStoreConformance(StoreSuite):
    """Endpoint configs, endpoints and their scaling history."""

    @pytest.fixture
    def endpoints(self, store: MetadataStore) -> EndpointStore:
        return EndpointStore.of(store)

    def test_endpoints(self, endpoints: EndpointStore) -> None:
        endpoints.create_endpoint_config("cfg", {"variants": [1]})
        with pytest.raises(ConflictError):
            endpoints.create_endpoint_config("cfg", {})
        assert endpoints.get_endpoint_config("cfg").spec == {"variants": [1]}
        rec = endpoints.create_endpoint("ep", "cfg", {"weights": {"A": 1.0}})
        assert rec.status is EndpointStatus.CREATING and rec.state == {"weights": {"A": 1.0}}
        with pytest.raises(ConflictError):
            endpoints.create_endpoint("ep", "cfg", {})
        rec = endpoints.update_endpoint("ep", status=EndpointStatus.FAILED, failure_reason="boom")
        assert rec.failure_reason == "boom"
        rec = endpoints.update_endpoint("ep", status=EndpointStatus.IN_SERVICE,
                                        clear_failure=True, state={"weights": {"A": 2.0}})
        assert rec.failure_reason is None and rec.state["weights"]["A"] == 2.0
        assert [e.name for e in endpoints.list_endpoints()] == ["ep"]
        endpoints.add_scaling_activity(ScalingActivity("ep", "A", 1.0, 1, 2, "target tracking"))
        assert [a.to_replicas for a in endpoints.list_scaling_activities("ep")] == [2]
        endpoints.delete_endpoint("ep")
        assert endpoints.list_scaling_activities("ep") == []
        with pytest.raises(NotFoundError):
            endpoints.get_endpoint("ep")
        with pytest.raises(NotFoundError):
            endpoints.update_endpoint("ep", status=EndpointStatus.IN_SERVICE)
        endpoints.delete_endpoint_config("cfg")
        with pytest.raises(NotFoundError):
            endpoints.get_endpoint_config("cfg")

    def test_lists_and_history_order(self, endpoints: EndpointStore) -> None:
        for name in ("c1", "c2"):
            endpoints.create_endpoint_config(name, {"name": name})
            time.sleep(0.01)
        assert [c.name for c in endpoints.list_endpoint_configs()] == ["c2", "c1"]
        endpoints.create_endpoint("e1", "c1", {})
        time.sleep(0.01)
        endpoints.create_endpoint("e2", "c1", {})
        assert [e.name for e in endpoints.list_endpoints()] == ["e2", "e1"]
        rec = endpoints.update_endpoint("e1", config_name="c2")
        assert rec.config_name == "c2" and rec.status is EndpointStatus.CREATING
        for n in (1, 2, 3):
            endpoints.add_scaling_activity(ScalingActivity("e1", "A", float(n), n, n + 1,
                                                           f"step {n}", "InProgress"))
        endpoints.add_scaling_activity(ScalingActivity("e2", "B", 9.0, 1, 0, "idle"))
        history = endpoints.list_scaling_activities("e1")
        assert [(a.from_replicas, a.cause, a.status) for a in history] == [
            (1, "step 1", "InProgress"), (2, "step 2", "InProgress"), (3, "step 3", "InProgress")]
        assert endpoints.list_scaling_activities("e2")[0].status == "Successful"
        with pytest.raises(NotFoundError):
            endpoints.delete_endpoint_config("nope")
        with pytest.raises(NotFoundError):
            endpoints.delete_endpoint("nope")
