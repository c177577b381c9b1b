"""Conformance suite of the Debugger/Profiler rule-status store domain
(:class:`mlyard.training.rule_store.RuleStore`)."""

from __future__ import annotations

import pytest

from mlyard.core.records import JobType
from mlyard.core.stores import MetadataStore
from mlyard.errors import NotFoundError
from mlyard.testing.stores import StoreSuite
from mlyard.training.rule_store import RuleEvaluationStatus, RuleStatus, RuleStore


class RuleStoreConformance(StoreSuite):
    """Rule statuses of training jobs; a rule's job must exist."""

    @pytest.fixture
    def rules(self, store: MetadataStore) -> RuleStore:
        return RuleStore.of(store)

    def test_rule_statuses(self, store: MetadataStore, rules: RuleStore) -> None:
        store.create_job("r1", JobType.TRAINING, {})
        with pytest.raises(NotFoundError):
            rules.put_rule_status(RuleStatus("nope", "Overfit", "debugger",
                                             RuleEvaluationStatus.IN_PROGRESS))
        rules.put_rule_status(RuleStatus("r1", "Overfit", "debugger",
                                         RuleEvaluationStatus.IN_PROGRESS))
        rules.put_rule_status(RuleStatus("r1", "StepOutlier", "profiler",
                                         RuleEvaluationStatus.NO_ISSUES_FOUND, "ok"))
        rules.put_rule_status(RuleStatus("r1", "Overfit", "debugger",
                                         RuleEvaluationStatus.ISSUES_FOUND, "gap 0.4", step=30))
        found = rules.get_rule_statuses("r1")
        assert [(r.kind, r.rule_name, r.status) for r in found] == [
            ("debugger", "Overfit", RuleEvaluationStatus.ISSUES_FOUND),
            ("profiler", "StepOutlier", RuleEvaluationStatus.NO_ISSUES_FOUND),
        ]
        assert found[0].step == 30 and found[0].message == "gap 0.4" and found[0].updated_at > 0
        assert [r.rule_name for r in rules.get_rule_statuses("r1", "profiler")] == ["StepOutlier"]
        assert rules.get_rule_statuses("other") == []
