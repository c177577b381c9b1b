"""The lineage store domain: entities (artifacts, actions, contexts and trial components, as
SageMaker ML Lineage Tracking names them) and the typed associations between them.

Most of the graph is derived: :func:`mlyard.lineage.collect.sync` reads jobs, models,
endpoints, registry versions and pipeline executions and upserts what they imply, so every
write here is an idempotent upsert (an entity by its id, an association by
``(source, destination, type)``). Users add their own entities and associations through
:mod:`mlyard.lineage` (``add_artifact``, ``add_association``). Reach the domain with
``LineageStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.lineage.store_sql.SqlLineageStore` (store domain ``lineage``).

Entity ids are ``<prefix>:<name>``: ``job:train-1``, ``artifact:file:///data/train``,
``model:bt-1``, ``endpoint:reviews``, ``deployment:reviews/AllTraffic``,
``package:reviews/3``, ``group:reviews``, ``execution:<execution id>``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlyard.core.stores.domain import StoreDomain


class LineageType(StrEnum):
    """SageMaker's lineage entity kinds."""

    ARTIFACT = "Artifact"
    ACTION = "Action"
    CONTEXT = "Context"
    TRIAL_COMPONENT = "TrialComponent"


class AssociationType(StrEnum):
    """SageMaker's association types. ``ContributedTo``, ``AssociatedWith`` and
    ``Produced`` flow from source to destination; ``DerivedFrom`` means the source is a
    modification of the destination, so the destination is upstream of the source."""

    CONTRIBUTED_TO = "ContributedTo"
    ASSOCIATED_WITH = "AssociatedWith"
    DERIVED_FROM = "DerivedFrom"
    PRODUCED = "Produced"


@dataclass(frozen=True)
class LineageEntity:
    """One node of the lineage graph. ``entity_type`` is e.g. DataSet, Model, Image,
    Report, ModelDeployment, Endpoint, ModelPackage, ModelPackageGroup, PipelineExecution,
    ProcessingJob, TrainingJob, TuningJob, TransformJob; ``source`` is its name or URI."""

    id: str
    lineage_type: LineageType
    entity_type: str
    source: str
    created_at: float
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageAssociation:
    """A typed edge between two entities (ids)."""

    source_id: str
    destination_id: str
    association_type: AssociationType
    created_at: float = 0.0

    def flow(self) -> tuple[str, str]:
        """``(upstream id, downstream id)`` of this edge (DerivedFrom points backwards)."""
        if self.association_type is AssociationType.DERIVED_FROM:
            return self.destination_id, self.source_id
        return self.source_id, self.destination_id


class LineageStore(StoreDomain):
    """Lineage entities and associations (idempotent upserts)."""

    @abstractmethod
    def upsert_entities(self, entities: Sequence[LineageEntity]) -> None:
        """Insert or update entities by id (properties and source replaced, the first
        ``created_at`` kept), all in one transaction."""

    @abstractmethod
    def upsert_associations(self, associations: Sequence[LineageAssociation]) -> None:
        """Insert the associations that are not stored yet (one transaction); both ends
        must exist (NotFoundError naming the missing id, nothing stored)."""

    @abstractmethod
    def get_entity(self, entity_id: str) -> LineageEntity:
        """The entity ``entity_id``; NotFoundError if none."""

    @abstractmethod
    def list_entities(self, entity_type: str | None = None, *, source: str | None = None,
                      limit: int = 1000) -> list[LineageEntity]:
        """Entities by id, optionally of one type and/or with this source."""

    @abstractmethod
    def get_entities(self, ids: Iterable[str]) -> dict[str, LineageEntity]:
        """The stored entities among ``ids`` by id (unknown ids are left out)."""

    @abstractmethod
    def associations_of(self, ids: Iterable[str]) -> list[LineageAssociation]:
        """Every association whose source or destination is one of ``ids``."""

    @abstractmethod
    def delete_entity(self, entity_id: str) -> None:
        """Remove an entity and its associations; NotFoundError if none."""
