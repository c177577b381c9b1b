"""The server's OpenAPI 3.1 document, built from the routes themselves.

Each HTTP operation is an :class:`ApiRoute`: a Starlette ``Route`` for one method that also
carries its :class:`Operation` (summary, query and header parameters, request body, success
and error responses). :func:`openapi_document` walks the app's routes and writes the
document from them, so a route cannot be served without being documented (a test checks
every served method and path against the document), and path parameters come from the
route's path. Request body schemas of endpoint configs, deployment plans and scaling
policies are the pydantic models' own JSON schemas, so they follow the validation.

Every error response uses the ``Error`` schema (``{"ErrorCode", "Message"}``, see
:mod:`mlyard.server.errors`); each operation lists the error statuses it can answer, and 500
(an internal failure) is listed for all of them, as are the refusals of the access guard
(:mod:`mlyard.server.guard`: 400, 401, 403, 421, and 413/415 for control-plane bodies).
The bearer token is declared as the optional security scheme ``bearer``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.routing import BaseRoute, Route

import mlyard
from mlyard.server.guard import BODY_METHODS, GUARD_STATUSES, INVOCATION_PATH

JSON = "application/json"
#: Reasons of the statuses the server answers, for response descriptions.
STATUS_TEXT: dict[int, str] = {
    200: "OK", 201: "Created", 204: "No Content", 400: "Invalid request (ValidationError)",
    401: "No valid bearer token (MissingAuthenticationToken, InvalidToken)",
    403: "Cross-origin browser request (AccessDenied)",
    421: "Host not allowed (MisdirectedRequest)",
    404: "Unknown name (ResourceNotFound)", 406: "No acceptable response type (NotAcceptable)",
    409: "The resource's state forbids this (ResourceInUse)",
    413: "Request body too large (PayloadTooLarge)",
    415: "Unsupported request content type (UnsupportedMediaType)",
    424: "The model failed on the request (ModelError)",
    500: "Internal failure (InternalFailure)",
    503: "No replica can take the request now (ServiceUnavailable)",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ErrorCode", "Message"],
    "properties": {
        "ErrorCode": {"type": "string", "description": "The error's class, e.g. "
                      "ValidationError, ResourceNotFound, ResourceInUse, InternalFailure"},
        "Message": {"type": "string", "description": "What went wrong, for people"},
    },
}
#: What a ``{name}`` segment of a path matches (Starlette's default convertor).
PATH_SEGMENT: dict[str, Any] = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


@dataclass(frozen=True)
class Param:
    """A query or header parameter (path parameters come from the route's path)."""

    name: str
    location: Literal["query", "header", "path"]
    schema: Mapping[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Body:
    """A request body: a schema per media type."""

    content: Mapping[str, Mapping[str, Any]]
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """A success response: a description, a schema per media type, headers it sets."""

    description: str = ""
    content: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What the document says about one method of one path."""

    operation_id: str
    summary: str
    tag: str
    params: Sequence[Param] = ()
    body: Body | None = None
    replies: Mapping[int, Reply] = field(default_factory=lambda: {200: Reply()})
    errors: Sequence[int] = ()
    description: str = ""


class ApiRoute(Route):
    """A Starlette route for one method, documented by its :class:`Operation`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], *, method: str,
                 operation: Operation) -> None:
        super().__init__(path, endpoint, methods=[method], name=operation.operation_id)
        self.method = method.upper()
        self.operation = operation


def json_body(schema: Mapping[str, Any], description: str = "",
              required: bool = True) -> Body:
    """A JSON request body of ``schema``."""
    return Body({JSON: schema}, description, required)


def json_reply(schema: Mapping[str, Any], description: str = "",
               headers: Mapping[str, str] | None = None) -> Reply:
    """A JSON response of ``schema``."""
    return Reply(description, {JSON: schema}, headers or {})


def _parameter(param: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": param.name, "in": param.location,
                           "schema": dict(param.schema)}
    if param.description:
        out["description"] = param.description
    if param.required or param.location == "path":
        out["required"] = True
    return out


def _content(content: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {media: {"schema": dict(schema)} for media, schema in content.items()}


def _operation(route: ApiRoute) -> dict[str, Any]:
    op = route.operation
    declared = {(p.location, p.name) for p in op.params}
    params = [_parameter(Param(name, "path", PATH_SEGMENT))
              for name in route.param_convertors if ("path", name) not in declared]
    params += [_parameter(p) for p in op.params]
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary,
                           "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": op.body.required,
                              "content": _content(op.body.content)}
        if op.body.description:
            out["requestBody"]["description"] = op.body.description
    responses: dict[str, Any] = {}
    for status, reply in sorted(op.replies.items()):
        entry: dict[str, Any] = {"description": reply.description or STATUS_TEXT[status]}
        if reply.content:
            entry["content"] = _content(reply.content)
        if reply.headers:
            entry["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                for name, text in reply.headers.items()}
        responses[str(status)] = entry
    for status in sorted(_error_statuses(route)):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    out["responses"] = responses
    return out


def _error_statuses(route: ApiRoute) -> set[int]:
    """The operation's own error statuses, 500, and what the guard may answer."""
    out = {*route.operation.errors, 500, *GUARD_STATUSES}
    if route.method in BODY_METHODS and not INVOCATION_PATH.match(route.path):
        out.update((413, 415))
    return out


def _hoist_defs(node: Any, defs: dict[str, Any]) -> Any:
    """Copy pydantic's ``$defs`` into ``defs`` (components) and point ``$ref`` there; the
    routes' schemas are left as they are, so the document can be built again."""
    if isinstance(node, dict):
        for name, schema in node.get("$defs", {}).items():
            defs[name] = _hoist_defs(schema, defs)
        return {k: (v.replace("#/$defs/", "#/components/schemas/")
                    if k == "$ref" and isinstance(v, str) else _hoist_defs(v, defs))
                for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_hoist_defs(v, defs) for v in node]
    return node


def openapi_document(routes: Sequence[BaseRoute], title: str = "mlyard server") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every :class:`ApiRoute` in ``routes``."""
    paths: dict[str, dict[str, Any]] = {}
    statuses: set[int] = {500}
    for route in routes:
        if isinstance(route, ApiRoute):
            paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
            statuses.update(_error_statuses(route))
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths = _hoist_defs(paths, schemas)
    responses = {f"Error{status}": {
        "description": STATUS_TEXT.get(status, "Error"),
        "headers": {"x-amzn-ErrorType": {"description": "The ErrorCode",
                                         "schema": {"type": "string"}}},
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for status in sorted(statuses)}
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": mlyard.__version__,
                 "description": "Endpoints (SageMaker Runtime wire format and a SageMaker-"
                 "like control plane), and read-only jobs and models of one workspace."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "responses": responses,
                       "securitySchemes": {"bearer": {
                           "type": "http", "scheme": "bearer",
                           "description": "A token from `mlyard tokens create`; required "
                           "when the server listens beyond loopback or "
                           "MLYARD_REQUIRE_TOKEN=1"}}},
        "security": [{"bearer": []}, {}],
    }
