"""The data plane: ``POST /endpoints/{name}/invocations`` (SageMaker Runtime's
InvokeEndpoint wire format).

The body goes to a replica as raw bytes with its ``Content-Type`` and ``Accept``; the
replica decodes and encodes (:mod:`mlyard.serving.codec`), so this route only checks the
body's size (``MLYARD_MAX_BODY_BYTES``, 413 above it). Request headers
``X-Amzn-SageMaker-Target-Variant`` (pin a variant) and ``X-Amzn-SageMaker-Inference-Id``
(recorded by data capture); response headers ``X-Amzn-Invoked-Production-Variant`` and
``X-Mlyard-Event-Id`` (the captured event's id, to join ground truth for an A/B report).
A replica's error answer (400/406/415/424/500 with SageMaker's error JSON) is passed through
with ``x-amzn-ErrorType`` set from its ``ErrorCode``.
"""

from __future__ import annotations

import contextlib
import json

from starlette.requests import Request
from starlette.responses import Response

from mlyard.server.openapi import ApiRoute, Body, Operation, Param, Reply
from mlyard.server.wire import read_body
from mlyard.serving.manager import EndpointManager

TARGET_VARIANT = "x-amzn-sagemaker-target-variant"
INFERENCE_ID = "x-amzn-sagemaker-inference-id"
INVOKED_VARIANT = "X-Amzn-Invoked-Production-Variant"
EVENT_ID = "X-Mlyard-Event-Id"

_PAYLOAD = {"type": "string", "description": "The request as the content type encodes it"}
INVOKE = Operation(
    "InvokeEndpoint", "Invoke an endpoint (SageMaker Runtime wire format)", "runtime",
    params=(Param("X-Amzn-SageMaker-Target-Variant", "header", {"type": "string"},
                  "Send the request to this production variant"),
            Param("X-Amzn-SageMaker-Inference-Id", "header", {"type": "string"},
                  "An id recorded with the request by data capture")),
    body=Body({"application/json": {"description": "{\"instances\": [...]} or a list"},
               "application/jsonlines": _PAYLOAD, "text/csv": _PAYLOAD,
               "text/plain": _PAYLOAD},
              "The payload; decoded by the replica (415 for a type it cannot decode)"),
    replies={200: Reply("The model's answer in the type ``Accept`` asked for",
                        {"application/json": {}, "application/jsonlines": _PAYLOAD,
                         "text/csv": _PAYLOAD},
                        {INVOKED_VARIANT: "The variant that answered",
                         EVENT_ID: "The captured event's id (join ground truth by it)"})},
    errors=(400, 404, 406, 409, 413, 415, 424, 503))


class InvocationRoutes:
    """InvokeEndpoint over one manager, with the server's body limit."""

    def __init__(self, manager: EndpointManager, max_body: int) -> None:
        self.manager = manager
        self.max_body = max_body

    async def invoke(self, request: Request) -> Response:
        """Route one request to a replica of the endpoint and answer what it answered."""
        name = request.path_params["name"]
        body = await read_body(request, self.max_body)
        given = request.headers
        result, variant, event_id = await self.manager.invoke(
            name, body, given.get("content-type", "application/json"),
            given.get("accept", "application/json"), given.get(TARGET_VARIANT),
            given.get(INFERENCE_ID))
        headers = {"content-type": result.content_type, INVOKED_VARIANT: variant,
                   EVENT_ID: event_id}
        if result.status >= 400:  # a replica's error JSON; name it for AWS SDKs too
            with contextlib.suppress(ValueError, TypeError, KeyError):
                headers["x-amzn-ErrorType"] = str(json.loads(result.body)["ErrorCode"])
        return Response(result.body, status_code=result.status, headers=headers)


def routes(manager: EndpointManager, max_body: int) -> list[ApiRoute]:
    """The data-plane route of ``manager``'s endpoints."""
    handlers = InvocationRoutes(manager, max_body)
    return [ApiRoute("/endpoints/{name}/invocations", handlers.invoke, method="POST",
                     operation=INVOKE)]
