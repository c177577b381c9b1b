"""Read-only lineage route::

    GET /api/lineage?entity=REF&direction=upstream|downstream|both&depth=N

``entity`` is what ``mlyard lineage`` takes (a registry version ``reviews/3``, a job,
model or pipeline execution name, ``endpoint:NAME``, a URI, an entity id). The derived
graph is synced first, so the answer is current. An unknown entity is 404, a bad
direction or depth 400.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.workspace import Workspace
from mlyard.errors import ValidationError
from mlyard.lineage.query import DIRECTIONS, MAX_DEPTH, lineage
from mlyard.server.openapi import ApiRoute, Operation, Param, json_reply
from mlyard.server.wire import json_response, query_int, query_str

TAG = "lineage"
TEXT = {"type": "string"}
_ENTITY = {"type": "object", "required": ["Id", "Source", "Type", "LineageType"],
           "properties": {"Id": TEXT, "Source": TEXT, "Type": TEXT, "LineageType": TEXT,
                          "CreationTime": {"type": "number"},
                          "Properties": {"type": "object"}}}
_RESULT = {
    "type": "object", "required": ["Start", "Direction", "Entities", "Associations"],
    "properties": {
        "Start": _ENTITY, "Direction": {"type": "string", "enum": list(DIRECTIONS)},
        "MaxDepth": {"type": "integer"},
        "Entities": {"type": "array", "items": {
            "type": "object", "properties": {
                **_ENTITY["properties"],  # type: ignore[dict-item]
                "Direction": {"type": "string", "enum": ["Input", "Output"]},
                "AssociationType": TEXT, "Depth": {"type": "integer"}, "Via": TEXT}}},
        "Associations": {"type": "array", "items": {
            "type": "object", "properties": {"SourceId": TEXT, "DestinationId": TEXT,
                                             "AssociationType": TEXT}}},
    },
}


class LineageRoutes:
    """Handlers over one workspace's lineage."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def query(self, request: Request) -> Response:
        q = request.query_params
        entity = query_str(q, "entity", max_length=2048)
        if not entity or not entity.strip():
            raise ValidationError("query parameter 'entity' is required")
        direction = query_str(q, "direction", "upstream", max_length=16).lower()
        if direction not in DIRECTIONS:
            raise ValidationError(f"query parameter 'direction': {direction!r} is not one "
                                  f"of {list(DIRECTIONS)}")
        depth = query_int(q, "depth", 10, minimum=1, maximum=MAX_DEPTH)
        return json_response(lineage(self.ws, entity, direction, depth).to_json())


def routes(ws: Workspace) -> list[ApiRoute]:
    """The lineage route over ``ws``."""
    h = LineageRoutes(ws)
    return [
        ApiRoute("/api/lineage", h.query, method="GET", operation=Operation(
            "QueryLineage", "What an entity came from or led to", TAG, params=(
                Param("entity", "query", {"type": "string", "minLength": 1,
                                          "maxLength": 2048},
                      "A registry version (group/version), a job, model or pipeline "
                      "execution name, endpoint:NAME, a URI or an entity id", required=True),
                Param("direction", "query", {"type": "string", "enum": list(DIRECTIONS),
                                             "default": "upstream"},
                      "upstream (what it came from), downstream or both"),
                Param("depth", "query", {"type": "integer", "minimum": 1,
                                         "maximum": MAX_DEPTH, "default": 10},
                      "Follow at most this many associations")),
            replies={200: json_reply(_RESULT)}, errors=(400, 404))),
    ]
