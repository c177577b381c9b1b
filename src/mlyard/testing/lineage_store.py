"""Conformance suite of the lineage store domain
(:class:`mlyard.lineage.store.LineageStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import NotFoundError
from mlyard.lineage.store import (
    AssociationType,
    LineageAssociation,
    LineageEntity,
    LineageStore,
    LineageType,
)
from mlyard.testing.stores import StoreSuite, run_together

DATA = LineageEntity("artifact:file:///d/train", LineageType.ARTIFACT, "DataSet",
                     "file:///d/train", 1.0, {"ChannelName": "train"})
JOB = LineageEntity("job:train-1", LineageType.TRIAL_COMPONENT, "TrainingJob", "train-1",
                    2.0, {"Status": "Completed", "nested": {"a": [1, None]}})
MODEL = LineageEntity("model:bt-1", LineageType.ARTIFACT, "Model", "bt-1", 3.0)


class LineageStoreConformance(StoreSuite):
    """Entities upserted by id, associations by (source, destination, type)."""

    @pytest.fixture
    def lineage(self, store: MetadataStore) -> LineageStore:
        return LineageStore.of(store)

    def test_entities_upsert_by_id(self, lineage: LineageStore) -> None:
        lineage.upsert_entities([DATA, JOB])
        assert lineage.get_entity(JOB.id) == JOB
        changed = LineageEntity(JOB.id, JOB.lineage_type, JOB.entity_type, JOB.source, 9.0,
                                {"Status": "Failed"})
        lineage.upsert_entities([changed])
        got = lineage.get_entity(JOB.id)
        assert got.properties == {"Status": "Failed"} and got.created_at == 2.0
        assert [e.id for e in lineage.list_entities()] == [DATA.id, JOB.id]
        assert [e.id for e in lineage.list_entities("TrainingJob")] == [JOB.id]
        assert [e.id for e in lineage.list_entities(source="file:///d/train")] == [DATA.id]
        assert set(lineage.get_entities([DATA.id, "job:ghost"])) == {DATA.id}
        with pytest.raises(NotFoundError, match="job:ghost"):
            lineage.get_entity("job:ghost")

    def test_associations_are_unique_and_need_both_ends(self, lineage: LineageStore) -> None:
        lineage.upsert_entities([DATA, JOB, MODEL])
        edges = [LineageAssociation(DATA.id, JOB.id, AssociationType.CONTRIBUTED_TO),
                 LineageAssociation(JOB.id, MODEL.id, AssociationType.PRODUCED)]
        lineage.upsert_associations(edges)
        lineage.upsert_associations(edges)
        lineage.upsert_associations([LineageAssociation(
            DATA.id, JOB.id, AssociationType.ASSOCIATED_WITH)])
        assert len(lineage.associations_of([JOB.id])) == 3
        assert [(a.source_id, a.association_type) for a in lineage.associations_of(
            [MODEL.id])] == [(JOB.id, AssociationType.PRODUCED)]
        with pytest.raises(NotFoundError, match="model:ghost"):
            lineage.upsert_associations([
                LineageAssociation(JOB.id, "model:ghost", AssociationType.PRODUCED),
                LineageAssociation(MODEL.id, JOB.id, AssociationType.DERIVED_FROM)])
        assert len(lineage.associations_of([MODEL.id])) == 1  # nothing half-written
        lineage.delete_entity(JOB.id)
        assert lineage.associations_of([DATA.id, MODEL.id]) == []
        with pytest.raises(NotFoundError):
            lineage.delete_entity(JOB.id)

    def test_derived_from_flows_backwards(self) -> None:
        edge = LineageAssociation("package:g/1", "model:m", AssociationType.DERIVED_FROM)
        assert edge.flow() == ("model:m", "package:g/1")
        edge = LineageAssociation("job:j", "model:m", AssociationType.PRODUCED)
        assert edge.flow() == ("job:j", "model:m")

    def test_concurrent_upserts_all_succeed(self, lineage: LineageStore) -> None:
        results = run_together([partial(lineage.upsert_entities, [DATA, JOB, MODEL])
                                for _ in range(4)])
        assert results == [None] * 4
        results = run_together([partial(lineage.upsert_associations, [LineageAssociation(
            DATA.id, JOB.id, AssociationType.CONTRIBUTED_TO)]) for _ in range(4)])
        assert results == [None] * 4
        assert len(lineage.associations_of([DATA.id])) == 1
