"""Conformance suite of the analyses' store domain
(:class:`mlyard.analysis.store.AnalysisStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.analysis.store import AnalysisRecord, AnalysisStore
from mlyard.core.stores import MetadataStore
from mlyard.errors import ConflictError, NotFoundError
from mlyard.testing.stores import StoreSuite, run_together


class AnalysisStoreConformance(StoreSuite):
    """Completed analyses: one per existing job, listed newest first, filtered by type."""

    @pytest.fixture
    def analyses(self, store: MetadataStore) -> AnalysisStore:
        for name in ("a-1", "a-2", "a-3"):
            store.create_job(name, "analysis", {})
        return AnalysisStore.of(store)

    def test_put_get_list_delete(self, analyses: AnalysisStore) -> None:
        first = AnalysisRecord("a-1", "bias", 10.0, "file:///out/a-1", {"data": "/d.csv"},
                               None, {"facets": 2, "nested": {"CI": [0.5, None]}})
        assert analyses.put_analysis(first) == first
        assert analyses.get_analysis("a-1") == first
        with pytest.raises(ConflictError):
            analyses.put_analysis(first)
        analyses.put_analysis(AnalysisRecord("a-2", "profile", 20.0, "file:///out/a-2",
                                             {"data": "table:reviews"}, "m-1"))
        assert [a.job_name for a in analyses.list_analyses()] == ["a-2", "a-1"]
        assert [a.job_name for a in analyses.list_analyses("bias")] == ["a-1"]
        assert [a.job_name for a in analyses.list_analyses(limit=1)] == ["a-2"]
        assert analyses.get_analysis("a-2").model_name == "m-1"
        analyses.delete_analysis("a-1")
        with pytest.raises(NotFoundError):
            analyses.get_analysis("a-1")
        with pytest.raises(NotFoundError):
            analyses.delete_analysis("a-1")

    def test_an_analysis_needs_its_job(self, analyses: AnalysisStore) -> None:
        with pytest.raises(NotFoundError, match="no job named 'ghost'"):
            analyses.put_analysis(AnalysisRecord("ghost", "bias", 1.0, "file:///x"))
        assert analyses.list_analyses() == []

    def test_one_of_concurrent_puts_wins(self, analyses: AnalysisStore) -> None:
        results = run_together([
            partial(analyses.put_analysis,
                    AnalysisRecord("a-3", "flow", float(i), f"file:///v{i}"))
            for i in range(6)])
        assert sum(isinstance(r, AnalysisRecord) for r in results) == 1
        assert sum(isinstance(r, ConflictError) for r in results) == 5
