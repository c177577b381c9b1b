"""Read-only routes of pipelines and their executions::

    GET /api/pipelines                              every pipeline (DescribePipeline shape,
                                                    without the definition)
    GET /api/pipelines/{name}                       one pipeline, with its definition JSON
    GET /api/pipelines/{name}/executions            its executions, newest first
    GET /api/pipeline-executions/{id}               one execution (DescribePipelineExecution)
    GET /api/pipeline-executions/{id}/steps         its steps (ListPipelineExecutionSteps)

Names and ids are only looked up in the pipelines' store (and must match the job-name
rule); an unknown or malformed one is 404 ``ResourceNotFound``. Starting and stopping
executions is the CLI's and the SDK's (they run jobs in the workspace).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.specs import JOB_NAME_RE
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError
from mlyard.pipelines import client
from mlyard.server.openapi import ApiRoute, Operation, json_reply
from mlyard.server.wire import json_response

TAG = "pipelines"
_TEXT = {"type": "string"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_PIPELINE = {"type": "object", "required": ["PipelineName", "PipelineVersion"],
             "properties": {"PipelineName": _TEXT, "PipelineArn": _TEXT,
                            "PipelineVersion": {"type": "integer"},
                            "PipelineDescription": _TEXT_OR_NULL,
                            "PipelineDefinition": {"type": "object"},
                            "CreationTime": {"type": "number"},
                            "LastModifiedTime": {"type": "number"},
                            "LastExecution": {"type": ["object", "null"]}}}
_EXECUTION = {"type": "object", "required": ["PipelineExecutionArn",
                                             "PipelineExecutionStatus"],
              "properties": {"PipelineExecutionArn": _TEXT, "PipelineName": _TEXT,
                             "PipelineExecutionStatus": {"type": "string", "enum": [
                                 "Executing", "Stopping", "Stopped", "Failed",
                                 "Succeeded"]},
                             "FailureReason": _TEXT_OR_NULL, "StartTime": _NUM_OR_NULL,
                             "EndTime": _NUM_OR_NULL,
                             "PipelineParameters": {"type": "array"}}}
_STEP = {"type": "object", "required": ["StepName", "StepStatus"],
         "properties": {"StepName": _TEXT, "StepType": _TEXT, "StepStatus": _TEXT,
                        "AttemptCount": {"type": "integer"}, "JobName": _TEXT_OR_NULL,
                        "StartTime": _NUM_OR_NULL, "EndTime": _NUM_OR_NULL,
                        "FailureReason": _TEXT, "Metadata": {"type": "object"},
                        "CacheHitResult": {"type": "object"}}}


def _name(request: Request, key: str, what: str) -> str:
    value = str(request.path_params[key])
    if not JOB_NAME_RE.match(value):
        raise NotFoundError(f"no {what} {value[:100]!r}")
    return value


class PipelineRoutes:
    """Handlers over one workspace's pipelines."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _pipeline(self, name: str) -> dict[str, Any]:
        import json

        desc = client.describe_pipeline(self.ws, name)
        desc["PipelineDefinition"] = json.loads(desc["PipelineDefinition"])
        return desc

    def list_pipelines(self, request: Request) -> Response:
        rows = []
        for record in client.list_pipelines(self.ws):
            desc = self._pipeline(record.name)
            desc.pop("PipelineDefinition")
            rows.append(desc)
        return json_response(rows)

    def describe_pipeline(self, request: Request) -> Response:
        return json_response(self._pipeline(_name(request, "name", "pipeline named")))

    def list_executions(self, request: Request) -> Response:
        name = _name(request, "name", "pipeline named")
        return json_response([client.describe_execution(self.ws, r.execution_id)
                              for r in client.list_executions(self.ws, name)])

    def describe_execution(self, request: Request) -> Response:
        eid = _name(request, "id", "pipeline execution")
        return json_response(client.describe_execution(self.ws, eid))

    def list_steps(self, request: Request) -> Response:
        eid = _name(request, "id", "pipeline execution")
        return json_response(client.PipelineExecution(self.ws, eid).list_steps())


def routes(ws: Workspace) -> list[ApiRoute]:
    """The read-only pipeline routes over ``ws``."""
    h = PipelineRoutes(ws)
    return [
        ApiRoute("/api/pipelines", h.list_pipelines, method="GET", operation=Operation(
            "ListPipelines", "List pipelines with their version and latest execution", TAG,
            replies={200: json_reply({"type": "array", "items": _PIPELINE})})),
        ApiRoute("/api/pipelines/{name}", h.describe_pipeline, method="GET",
                 operation=Operation(
                     "DescribePipeline", "A pipeline with its definition JSON", TAG,
                     replies={200: json_reply(_PIPELINE)}, errors=(404,))),
        ApiRoute("/api/pipelines/{name}/executions", h.list_executions, method="GET",
                 operation=Operation(
                     "ListPipelineExecutions", "A pipeline's executions, newest first", TAG,
                     replies={200: json_reply({"type": "array", "items": _EXECUTION})},
                     errors=(404,))),
        ApiRoute("/api/pipeline-executions/{id}", h.describe_execution, method="GET",
                 operation=Operation(
                     "DescribePipelineExecution", "One pipeline execution", TAG,
                     replies={200: json_reply(_EXECUTION)}, errors=(404,))),
        ApiRoute("/api/pipeline-executions/{id}/steps", h.list_steps, method="GET",
                 operation=Operation(
                     "ListPipelineExecutionSteps",
                     "An execution's steps: status, attempt, job, cache hit, outcome", TAG,
                     replies={200: json_reply({"type": "array", "items": _STEP})},
                     errors=(404,))),
    ]
