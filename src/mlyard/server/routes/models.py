"""Read-only routes of registered models::

    GET /api/models                     ListModels-like: ?limit=
    GET /api/models/{name}              DescribeModel-like

An unknown model is 404 ``ResourceNotFound``. Plain-function handlers run in Starlette's
thread pool (the database may block).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.records import ModelRecord
from mlyard.server.openapi import ApiRoute, Operation, Param, json_reply
from mlyard.server.readers import ModelReader
from mlyard.server.wire import json_response, query_int

TAG = "models"
TEXT = {"type": "string"}
MAX_LIST = 1000
_SUMMARY_FIELDS = {"ModelName": TEXT, "CreationTime": {"type": "number"}, "Flavor": TEXT,
                   "JobName": {"type": ["string", "null"]}}
_SUMMARY = {"type": "object", "required": ["ModelName", "CreationTime"],
            "properties": _SUMMARY_FIELDS}
_DESCRIPTION = {
    "type": "object", "required": ["ModelName", "CreationTime", "ModelDataUrl"],
    "properties": {**_SUMMARY_FIELDS,
                   "ModelDataUrl": {"type": "string", "description": "Artifact URI"},
                   "Metadata": {"type": "object"}},
}


def summary(rec: ModelRecord) -> dict[str, Any]:
    """A model's list entry."""
    return {"ModelName": rec.name, "CreationTime": rec.created_at, "Flavor": rec.flavor,
            "JobName": rec.job_name}


class ModelRoutes:
    """Handlers over one :class:`~mlyard.server.readers.ModelReader`."""

    def __init__(self, models: ModelReader) -> None:
        self.models = models

    def list_models(self, request: Request) -> Response:
        limit = query_int(request.query_params, "limit", 100, minimum=1, maximum=MAX_LIST)
        return json_response([summary(r) for r in self.models.list_models(limit=limit)])

    def describe(self, request: Request) -> Response:
        rec = self.models.get(request.path_params["name"])
        return json_response({**summary(rec), "ModelDataUrl": rec.uri,
                              "Metadata": rec.metadata})


def routes(models: ModelReader) -> list[ApiRoute]:
    """The read-only model routes over ``models``."""
    h = ModelRoutes(models)
    return [
        ApiRoute("/api/models", h.list_models, method="GET", operation=Operation(
            "ListModels", "List registered models, newest first", TAG, params=(
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIST,
                                         "default": 100}, "At most this many models"),),
            replies={200: json_reply({"type": "array", "items": _SUMMARY})},
            errors=(400,))),
        ApiRoute("/api/models/{name}", h.describe, method="GET", operation=Operation(
            "DescribeModel", "A registered model: artifact URI, flavor, producing job, "
            "metadata", TAG, replies={200: json_reply(_DESCRIPTION)}, errors=(404,))),
    ]
