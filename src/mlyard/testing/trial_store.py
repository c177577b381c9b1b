"""Conformance suite of the tuning store domain (:class:`mlyard.tuning.store.TrialStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.records import JobStatus, JobType
from mlyard.core.stores import MetadataStore
from mlyard.errors import NotFoundError
from mlyard.testing.stores import StoreSuite, run_together
from mlyard.tuning.store import TrialRecord, TrialStore


class TrialStoreConformance(StoreSuite):
    """Tuning trials; a trial's tuning job must exist."""

    @pytest.fixture
    def trials(self, store: MetadataStore) -> TrialStore:
        return TrialStore.of(store)

    def test_tuning_trials(self, store: MetadataStore, trials: TrialStore) -> None:
        store.create_job("tune", JobType.TUNING, {})
        with pytest.raises(NotFoundError):
            trials.put_trial(TrialRecord("nope", 0, "nope-000", {}))
        trials.put_trial(TrialRecord("tune", 1, "tune-001", {"lr": 0.1}))
        trials.put_trial(TrialRecord("tune", 0, "tune-000", {"lr": 0.5, "k": "a"},
                                     JobStatus.COMPLETED, 0.8, [(1, 0.7), (2, 0.8)], 1.0, 2.0))
        trials.put_trial(TrialRecord("tune", 1, "tune-001", {"lr": 0.1}, JobStatus.STOPPED,
                                     None, [(1, 0.2)], 1.5, 3.0, "early stopping", "own"))
        listed = trials.list_trials("tune")
        assert [t.number for t in listed] == [0, 1]
        assert listed[0].hyperparameters == {"lr": 0.5, "k": "a"}
        assert listed[0].intermediate == [(1, 0.7), (2, 0.8)] and listed[0].objective == 0.8
        assert listed[1].status is JobStatus.STOPPED and listed[1].stop_reason == "early stopping"
        assert trials.list_trials("other") == []

    def test_record_round_trip(self, store: MetadataStore, trials: TrialStore) -> None:
        store.create_job("rt", JobType.TUNING, {})
        rec = TrialRecord("rt", 7, "rt-007", {"lr": 1 / 3, "opt": "adam", "layers": 4},
                          JobStatus.FAILED, -0.125, [(0, 1 / 3), (10, -2.5)], 1.25, 2.5,
                          "ValueError: diverged", "warm-start:parent")
        trials.put_trial(rec)
        assert trials.list_trials("rt") == [rec]
        trials.put_trial(TrialRecord("rt", 7, "rt-007", {}, stop_reason="x" * 5000))
        assert trials.list_trials("rt")[0].stop_reason == "x" * 4000

    def test_concurrent_puts_of_one_trial(self, store: MetadataStore,
                                          trials: TrialStore) -> None:
        store.create_job("hot", JobType.TUNING, {})
        results = run_together([
            partial(trials.put_trial, TrialRecord("hot", 0, "hot-000", {"i": i},
                                                  JobStatus.IN_PROGRESS, float(i)))
            for i in range(6)])
        assert results == [None] * 6
        (only,) = trials.list_trials("hot")
        assert only.objective == float(only.hyperparameters["i"])
