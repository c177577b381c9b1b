"""Lineage queries: walk the graph upstream (what an entity came from), downstream (what
it led to) or both, breadth first, from any entity.

``lineage(ws, "reviews/3", "upstream")`` syncs the derived graph first
(:func:`mlyard.lineage.collect.sync`), so the answer is current. A reference is an entity id
(``job:train-1``, ``model:bt-1``, ``endpoint:reviews``, ``artifact:file:///...``), a
registry version (``reviews/3``), a URI or absolute path, or a bare name looked up as a
job, model, pipeline execution, endpoint, package group and pipeline, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mlyard.errors import NotFoundError, ValidationError
from mlyard.lineage.collect import artifact_id, sync
from mlyard.lineage.store import LineageAssociation, LineageEntity, LineageStore

if TYPE_CHECKING:
    import pandas as pd

    from mlyard.core.workspace import Workspace

Direction = Literal["upstream", "downstream", "both"]
DIRECTIONS: tuple[str, ...] = ("upstream", "downstream", "both")
#: Entity id prefixes (``prefix:name``).
PREFIXES = ("job", "artifact", "model", "endpoint", "deployment", "package", "group",
            "execution", "pipeline")
#: Prefixes tried, in order, for a bare name.
NAME_PREFIXES = ("job", "model", "execution", "endpoint", "group", "pipeline")
MAX_DEPTH = 100
#: The columns of :meth:`LineageResult.table` (SageMaker's lineage table).
TABLE_COLUMNS = ("Name/Source", "Direction", "Type", "Association Type", "Lineage Type")
_PACKAGE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/\d+$")


@dataclass(frozen=True)
class LineageStep:
    """One entity reached: ``direction`` Input (upstream) or Output (downstream), the
    association type of the edge it was reached by, how many edges away it is and the
    id of the entity it was reached from."""

    entity: LineageEntity
    direction: str
    association_type: str
    depth: int
    via: str


@dataclass
class LineageResult:
    """What a query reached from ``start``."""

    start: LineageEntity
    direction: str
    max_depth: int
    steps: list[LineageStep] = field(default_factory=list)
    associations: list[LineageAssociation] = field(default_factory=list)

    @property
    def entities(self) -> dict[str, LineageEntity]:
        """Every entity of the result by id, the start included."""
        return {self.start.id: self.start, **{s.entity.id: s.entity for s in self.steps}}

    def rows(self) -> list[dict[str, Any]]:
        """The lineage table as dicts (:data:`TABLE_COLUMNS`), upstream first."""
        ordered = sorted(self.steps, key=lambda s: (s.direction != "Input", s.depth))
        return [{"Name/Source": s.entity.source, "Direction": s.direction,
                 "Type": s.entity.entity_type, "Association Type": s.association_type,
                 "Lineage Type": s.entity.lineage_type.value} for s in ordered]

    def table(self) -> pd.DataFrame:
        """The course's lineage table: Name/Source, Direction (Input/Output), Type,
        Association Type, Lineage Type; one row per entity reached."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(TABLE_COLUMNS))

    def to_json(self) -> dict[str, Any]:
        """The result as JSON: the start, each reached entity and the edges walked."""
        return {
            "Start": _entity_json(self.start), "Direction": self.direction,
            "MaxDepth": self.max_depth,
            "Entities": [{**_entity_json(s.entity), "Direction": s.direction,
                          "AssociationType": s.association_type, "Depth": s.depth,
                          "Via": s.via} for s in self.steps],
            "Associations": [{"SourceId": a.source_id, "DestinationId": a.destination_id,
                              "AssociationType": a.association_type.value}
                             for a in self.associations],
        }


def _entity_json(entity: LineageEntity) -> dict[str, Any]:
    return {"Id": entity.id, "Source": entity.source, "Type": entity.entity_type,
            "LineageType": entity.lineage_type.value, "CreationTime": entity.created_at,
            "Properties": entity.properties}


def resolve(store: LineageStore, ref: str) -> LineageEntity:
    """The entity ``ref`` names (see the module notes); NotFoundError saying what was
    tried."""
    text = ref.strip()
    if not text:
        raise ValidationError("a lineage reference must not be empty")
    candidates: list[str] = []
    prefix = text.split(":", 1)[0]
    if prefix in PREFIXES and ":" in text:
        candidates.append(text)
    if "://" in text or text.startswith("/"):
        candidates.append(artifact_id(text))
    if _PACKAGE_REF.match(text):
        candidates.append(f"package:{text}")
    candidates += [f"{p}:{text}" for p in NAME_PREFIXES]
    found = store.get_entities(candidates)
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    raise NotFoundError(
        f"no lineage entity {text!r} (looked for a registry version, a URI, a job, model, "
        f"pipeline execution, endpoint, package group or pipeline of that name)")


def _walk(store: LineageStore, start: str, upstream: bool, max_depth: int
          ) -> tuple[list[tuple[str, str, int, str]], list[LineageAssociation]]:
    """Breadth-first ``(id, association type, depth, via)`` reached one way, and the
    edges walked."""
    seen, frontier = {start}, [start]
    reached: list[tuple[str, str, int, str]] = []
    edges: list[LineageAssociation] = []
    for depth in range(1, max_depth + 1):
        if not frontier:
            break
        current, nxt = set(frontier), []
        for assoc in store.associations_of(frontier):
            up, down = assoc.flow()
            here, there = (down, up) if upstream else (up, down)
            if here not in current:
                continue
            edges.append(assoc)
            if there not in seen:
                seen.add(there)
                nxt.append(there)
                reached.append((there, assoc.association_type.value, depth, here))
        frontier = nxt
    return reached, edges


def walk(store: LineageStore, start: LineageEntity, direction: str = "upstream",
         max_depth: int = 10) -> LineageResult:
    """Query the stored graph (no sync) from ``start``."""
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction {direction!r} is not one of {list(DIRECTIONS)}")
    if not 1 <= max_depth <= MAX_DEPTH:
        raise ValidationError(f"max_depth must be 1 to {MAX_DEPTH}, got {max_depth}")
    result = LineageResult(start, direction, max_depth)
    edges: dict[tuple[str, str, str], LineageAssociation] = {}
    for upstream in (True, False):
        if direction == ("downstream" if upstream else "upstream"):
            continue
        reached, walked = _walk(store, start.id, upstream, max_depth)
        entities = store.get_entities(r[0] for r in reached)
        result.steps += [LineageStep(entities[i], "Input" if upstream else "Output", kind,
                                     depth, via)
                         for i, kind, depth, via in reached if i in entities]
        edges.update({(a.source_id, a.destination_id, a.association_type.value): a
                      for a in walked})
    result.associations = [edges[k] for k in sorted(edges)]
    return result


def lineage(ws: Workspace, entity_ref: str, direction: str = "upstream",
            max_depth: int = 10, *, refresh: bool = True) -> LineageResult:
    """The lineage of ``entity_ref`` in ``ws`` (synced first unless ``refresh`` is
    False)."""
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction {direction!r} is not one of {list(DIRECTIONS)}")
    if refresh:
        sync(ws)
    store = LineageStore.of(ws.store)
    return walk(store, resolve(store, entity_ref), direction, max_depth)

