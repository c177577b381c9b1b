"""What users add to the lineage graph themselves: artifacts (a data set, an image, a
report anywhere) and associations between any two entities, e.g. that a labeling export
ContributedTo a training job. Both are idempotent upserts."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlyard.errors import ValidationError
from mlyard.lineage.collect import artifact_id, normalize_uri, sync
from mlyard.lineage.query import resolve
from mlyard.lineage.store import (
    AssociationType,
    LineageAssociation,
    LineageEntity,
    LineageStore,
    LineageType,
)

if TYPE_CHECKING:
    from mlyard.core.workspace import Workspace


def add_artifact(ws: Workspace, uri: str, entity_type: str = "DataSet",
                 properties: Mapping[str, Any] | None = None) -> LineageEntity:
    """Record the artifact at ``uri`` (a URI or absolute path) of type ``entity_type``
    (DataSet, Image, Report, Model, ...); its entity."""
    if not uri.strip() or not entity_type.strip():
        raise ValidationError("an artifact needs a URI and a type")
    store = LineageStore.of(ws.store)
    entity = LineageEntity(artifact_id(uri), LineageType.ARTIFACT, entity_type,
                           normalize_uri(uri), time.time(), dict(properties or {}))
    store.upsert_entities([entity])
    return store.get_entity(entity.id)


def add_association(ws: Workspace, source: str, destination: str,
                    association_type: str = "ContributedTo") -> LineageAssociation:
    """Associate two entities, each given as :func:`mlyard.lineage.query.resolve` takes it
    (a URI not recorded yet becomes a DataSet artifact); the association."""
    try:
        kind = AssociationType(association_type)
    except ValueError:
        raise ValidationError(
            f"association type {association_type!r} is not one of "
            f"{[t.value for t in AssociationType]}") from None
    sync(ws)
    store = LineageStore.of(ws.store)
    ends = []
    for ref in (source, destination):
        if ("://" in ref or ref.startswith("/")) and not store.get_entities([artifact_id(ref)]):
            add_artifact(ws, ref)
        ends.append(resolve(store, ref).id)
    association = LineageAssociation(ends[0], ends[1], kind, time.time())
    store.upsert_associations([association])
    return association
