"""Conformance suite of the model registry's store domain
(:class:`mlyard.registry.store.RegistryStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import ConflictError, NotFoundError
from mlyard.registry.store import (
    ApprovalStatus,
    ModelPackageRecord,
    RegistryStore,
)
from mlyard.testing.stores import StoreSuite, run_together

PENDING, APPROVED, REJECTED = (ApprovalStatus.PENDING, ApprovalStatus.APPROVED,
                               ApprovalStatus.REJECTED)


class RegistryStoreConformance(StoreSuite):
    """Groups, numbered versions (distinct under concurrency), approval histories."""

    @pytest.fixture
    def registry(self, store: MetadataStore) -> RegistryStore:
        return RegistryStore.of(store)

    def test_groups(self, registry: RegistryStore) -> None:
        made = registry.create_group("reviews", description="text models",
                                     tags={"team": "nlp"})
        assert made.name == "reviews" and made.description == "text models"
        assert made.tags == {"team": "nlp"} and made.deploy_on_approval is None
        assert registry.get_group("reviews") == made
        with pytest.raises(ConflictError, match="'reviews' already exists"):
            registry.create_group("reviews")
        registry.create_group("alpha")
        assert [g.name for g in registry.list_groups()] == ["alpha", "reviews"]
        target = {"EndpointName": "reviews", "InstanceCount": 2}
        assert registry.set_deploy_on_approval("reviews", target).deploy_on_approval == target
        assert registry.get_group("reviews").deploy_on_approval == target
        assert registry.set_deploy_on_approval("reviews", None).deploy_on_approval is None
        with pytest.raises(NotFoundError, match="'ghost'"):
            registry.get_group("ghost")
        with pytest.raises(NotFoundError, match="'ghost'"):
            registry.set_deploy_on_approval("ghost", target)
        registry.delete_group("alpha")
        with pytest.raises(NotFoundError):
            registry.delete_group("alpha")
        assert [g.name for g in registry.list_groups()] == ["reviews"]

    def test_versions_and_history(self, registry: RegistryStore) -> None:
        registry.create_group("reviews")
        metrics = {"ModelQuality": {"Statistics": {
            "ContentType": "application/json", "S3Uri": "file:///e/evaluation.json",
            "Content": {"metrics": {"accuracy": {"value": 0.91}}, "text": "café ✓"}}}}
        v1 = registry.create_version("reviews", model_name="bt-1", approval_status=PENDING,
                                     created_by="ann", description="first",
                                     inference_specification={"Containers": [
                                         {"ModelDataUrl": "file:///m/bt-1"}]},
                                     model_metrics=metrics,
                                     source={"PipelineExecutionId": "p-1",
                                             "StepName": "Register"})
        assert (v1.group, v1.version, v1.arn, v1.model_name) == ("reviews", 1, "reviews/1",
                                                                 "bt-1")
        assert v1.approval_status is PENDING and v1.created_by == "ann"
        assert v1.model_metrics == metrics and v1.description == "first"
        assert v1.source == {"PipelineExecutionId": "p-1", "StepName": "Register"}
        assert v1.inference_specification["Containers"][0]["ModelDataUrl"] == "file:///m/bt-1"
        assert [(e.status, e.by) for e in v1.history] == [(PENDING, "ann")]
        assert registry.get_version("reviews", 1) == v1
        v2 = registry.create_version("reviews", model_name="bt-2", approval_status=APPROVED,
                                     created_by="bob")
        assert v2.version == 2 and v2.model_metrics == {} and v2.source == {}

        approved = registry.set_approval("reviews", 1, APPROVED, by="cy", note="good")
        assert approved.approval_status is APPROVED
        rejected = registry.set_approval("reviews", 1, REJECTED, by="dee", note="regressed")
        again = registry.set_approval("reviews", 1, REJECTED, by="eve")
        assert rejected.approval_status is again.approval_status is REJECTED
        assert [(e.status, e.by, e.note) for e in again.history] == [
            (PENDING, "ann", None), (APPROVED, "cy", "good"), (REJECTED, "dee", "regressed"),
            (REJECTED, "eve", None)]
        times = [e.at for e in again.history]
        assert times == sorted(times)
        assert registry.get_version("reviews", 1) == again
        assert [v.version for v in registry.list_versions("reviews")] == [1, 2]
        assert [v.version for v in registry.list_versions("reviews", APPROVED)] == [2]
        assert [v.version for v in registry.list_versions("reviews", REJECTED)] == [1]
        assert registry.list_versions("reviews", PENDING) == []
        assert registry.list_versions("reviews")[0].history == again.history

    def test_missing_things_are_named(self, registry: RegistryStore) -> None:
        with pytest.raises(NotFoundError, match="'ghost'"):
            registry.create_version("ghost", model_name="m", approval_status=PENDING,
                                    created_by="x")
        with pytest.raises(NotFoundError, match="'ghost'"):
            registry.list_versions("ghost")
        registry.create_group("reviews")
        with pytest.raises(NotFoundError, match=r"reviews/9.*no versions"):
            registry.get_version("reviews", 9)
        for _ in range(2):
            registry.create_version("reviews", model_name="m", approval_status=PENDING,
                                    created_by="x")
        with pytest.raises(NotFoundError, match=r"reviews/9.*versions are 1, 2"):
            registry.set_approval("reviews", 9, APPROVED, by="x")
        with pytest.raises(NotFoundError, match="reviews/3"):
            registry.get_version("reviews", 3)
        assert [len(v.history) for v in registry.list_versions("reviews")] == [1, 1]

    def test_a_group_with_versions_is_kept(self, registry: RegistryStore) -> None:
        registry.create_group("reviews")
        registry.create_version("reviews", model_name="m", approval_status=PENDING,
                                created_by="x")
        with pytest.raises(ConflictError, match="has 1 version"):
            registry.delete_group("reviews")
        assert registry.get_group("reviews").name == "reviews"
        assert len(registry.list_versions("reviews")) == 1

    def test_concurrent_versions_get_distinct_numbers(self, registry: RegistryStore) -> None:
        registry.create_group("reviews")
        results = run_together([
            partial(registry.create_version, "reviews", model_name=f"m-{i}",
                    approval_status=PENDING, created_by="x")
            for i in range(8)])
        assert all(isinstance(r, ModelPackageRecord) for r in results), results
        assert sorted(r.version for r in results) == list(range(1, 9))
        listed = registry.list_versions("reviews")
        assert sorted(v.model_name for v in listed) == sorted(f"m-{i}" for i in range(8))
        assert {v.model_name: v.version for v in listed} == {
            r.model_name: r.version for r in results}

    def test_concurrent_approvals_are_all_recorded(self, registry: RegistryStore) -> None:
        registry.create_group("reviews")
        registry.create_version("reviews", model_name="m", approval_status=PENDING,
                                created_by="x")
        statuses = [APPROVED, REJECTED] * 3
        results = run_together([
            partial(registry.set_approval, "reviews", 1, s, by=f"u{i}")
            for i, s in enumerate(statuses)])
        assert all(isinstance(r, ModelPackageRecord) for r in results), results
        final = registry.get_version("reviews", 1)
        assert len(final.history) == 7
        assert final.approval_status is final.history[-1].status
