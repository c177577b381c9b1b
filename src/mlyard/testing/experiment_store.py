"""Conformance suite of the experiments store domain
(:class:`mlyard.experiments.store.ExperimentStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import NotFoundError, ValidationError
from mlyard.experiments.store import ExperimentRecord, ExperimentStore, RunMetric, RunRecord
from mlyard.testing.stores import StoreSuite, run_together


class ExperimentStoreConformance(StoreSuite):
    """Experiments, runs, params, metric series, artifacts and idempotent imports."""

    @pytest.fixture
    def experiments(self, store: MetadataStore) -> ExperimentStore:
        return ExperimentStore.of(store)

    def test_experiments_and_runs(self, experiments: ExperimentStore) -> None:
        first = experiments.ensure_experiment("exp", "about")
        assert isinstance(first, ExperimentRecord) and first.description == "about"
        assert experiments.ensure_experiment("exp") == first
        run = experiments.ensure_run(RunRecord("other", "r1", 5.0, source={"JobName": "j"}))
        assert run == RunRecord("other", "r1", 5.0, "Running", None, {"JobName": "j"})
        assert experiments.ensure_run(RunRecord("other", "r1", 9.0)) == run
        experiments.ensure_run(RunRecord("exp", "r1", 1.0))
        experiments.ensure_run(RunRecord("exp", "r0", 2.0))
        assert [e.name for e in experiments.list_experiments()] == ["exp", "other"]
        assert [r.name for r in experiments.list_runs("exp")] == ["r1", "r0"]
        assert [r.experiment for r in experiments.find_runs("r1")] == ["exp", "other"]
        done = experiments.update_run("exp", "r1", status="Finished", ended_at=3.0)
        assert (done.status, done.ended_at) == ("Finished", 3.0)
        with pytest.raises(ValidationError, match="Done"):
            experiments.update_run("exp", "r1", status="Done")
        with pytest.raises(NotFoundError, match="'ghost'"):
            experiments.get_run("exp", "ghost")
        with pytest.raises(NotFoundError, match="no experiment named 'ghost'"):
            experiments.list_runs("ghost")

    def test_params_metrics_artifacts(self, experiments: ExperimentStore) -> None:
        experiments.ensure_run(RunRecord("exp", "r", 1.0))
        experiments.log_params("exp", "r", {"lr": 0.1, "epochs": 3, "name": "x"})
        experiments.log_params("exp", "r", {"lr": 0.2})
        assert experiments.get_params("exp", "r") == {"epochs": 3, "lr": 0.2, "name": "x"}
        experiments.log_metrics("exp", "r", [RunMetric("loss", 0.5, 1, 10.0),
                                             RunMetric("loss", 0.4, 2, 11.0),
                                             RunMetric("acc", 0.9, None, 12.0)])
        assert [m.value for m in experiments.get_metrics("exp", "r", "loss")] == [0.5, 0.4]
        assert len(experiments.get_metrics("exp", "r")) == 3
        experiments.log_artifacts("exp", "r", {"model": "file:///m"})
        experiments.log_artifacts("exp", "r", {"model": "file:///m2", "plot": "file:///p"})
        assert experiments.get_artifacts("exp", "r") == {"model": "file:///m2",
                                                         "plot": "file:///p"}
        with pytest.raises(NotFoundError):
            experiments.log_params("exp", "ghost", {"a": 1})
        with pytest.raises(NotFoundError):
            experiments.log_metrics("exp", "ghost", [RunMetric("a", 1.0, None, 1.0)])

    def test_import_replaces_only_imported_points(self, experiments: ExperimentStore) -> None:
        run = RunRecord("Default", "job-1", 1.0, "Running", None, {"JobName": "job-1"})
        experiments.import_run(run, {"lr": 0.1}, [RunMetric("loss", 1.0, 0, 1.0)], {})
        experiments.log_metrics("Default", "job-1", [RunMetric("mine", 7.0, None, 2.0)])
        finished = RunRecord("Default", "job-1", 1.0, "Finished", 5.0, {"JobName": "job-1"})
        points = [RunMetric("loss", 1.0, 0, 1.0), RunMetric("loss", 0.5, 1, 3.0)]
        experiments.import_run(finished, {"lr": 0.1}, points, {"model": "file:///m"})
        experiments.import_run(finished, {"lr": 0.1}, points, {"model": "file:///m"})
        got = experiments.get_metrics("Default", "job-1")
        assert sorted((m.key, m.value) for m in got) == [("loss", 0.5), ("loss", 1.0),
                                                         ("mine", 7.0)]
        assert experiments.get_run("Default", "job-1").status == "Finished"
        assert experiments.get_artifacts("Default", "job-1") == {"model": "file:///m"}

    def test_concurrent_ensures_agree(self, experiments: ExperimentStore) -> None:
        results = run_together([partial(experiments.ensure_run, RunRecord("e", "r", 1.0))
                                for _ in range(4)])
        assert all(isinstance(r, RunRecord) for r in results)
        assert len(experiments.list_runs("e")) == 1
