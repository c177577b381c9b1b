"""Read-only experiment routes::

    GET /api/experiments                        experiments with their number of runs
    GET /api/experiments/{name}/runs            an experiment's runs, oldest first
    GET /api/runs/{experiment}/{run}            one run: params, metric series, artifacts

Runs derived from jobs and pipeline executions are synced first. An unknown experiment
or run is 404.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.workspace import Workspace
from mlyard.experiments.collect import sync
from mlyard.experiments.store import ExperimentStore, RunRecord
from mlyard.server.openapi import ApiRoute, Operation, json_reply
from mlyard.server.wire import json_response

TAG = "experiments"
TEXT = {"type": "string"}
NUMBER = {"type": "number"}
_RUN_FIELDS = {"Experiment": TEXT, "Run": TEXT, "Status": TEXT, "CreationTime": NUMBER,
               "EndTime": {"type": ["number", "null"]}, "Source": {"type": "object"}}
_RUN = {"type": "object", "required": ["Experiment", "Run", "Status"],
        "properties": _RUN_FIELDS}
_EXPERIMENT = {"type": "object", "required": ["ExperimentName", "Runs"], "properties": {
    "ExperimentName": TEXT, "CreationTime": NUMBER,
    "Description": {"type": ["string", "null"]}, "Runs": {"type": "integer"}}}
_RUN_DETAIL = {"type": "object", "required": ["Experiment", "Run", "Params", "Metrics"],
               "properties": {
                   **_RUN_FIELDS, "Params": {"type": "object"},
                   "Artifacts": {"type": "object", "additionalProperties": TEXT},
                   "Metrics": {"type": "array", "items": {"type": "object", "properties": {
                       "Key": TEXT, "Value": NUMBER, "Step": {"type": ["integer", "null"]},
                       "Timestamp": NUMBER}}}}}


def run_json(run: RunRecord) -> dict[str, Any]:
    """A run's list entry."""
    return {"Experiment": run.experiment, "Run": run.name, "Status": run.status,
            "CreationTime": run.created_at, "EndTime": run.ended_at, "Source": run.source}


class ExperimentRoutes:
    """Handlers over one workspace's experiments."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _store(self) -> ExperimentStore:
        sync(self.ws)
        return ExperimentStore.of(self.ws.store)

    def list_experiments(self, request: Request) -> Response:
        store = self._store()
        return json_response([
            {"ExperimentName": e.name, "CreationTime": e.created_at,
             "Description": e.description, "Runs": len(store.list_runs(e.name))}
            for e in store.list_experiments()])

    def list_runs(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        return json_response([run_json(r) for r in self._store().list_runs(name)])

    def describe_run(self, request: Request) -> Response:
        experiment = str(request.path_params["experiment"])
        name = str(request.path_params["run"])
        store = self._store()
        run = store.get_run(experiment, name)
        return json_response({
            **run_json(run), "Params": store.get_params(experiment, name),
            "Artifacts": store.get_artifacts(experiment, name),
            "Metrics": [{"Key": p.key, "Value": p.value, "Step": p.step,
                         "Timestamp": p.timestamp}
                        for p in store.get_metrics(experiment, name)]})


def routes(ws: Workspace) -> list[ApiRoute]:
    """The read-only experiment routes over ``ws``."""
    h = ExperimentRoutes(ws)
    return [
        ApiRoute("/api/experiments", h.list_experiments, method="GET", operation=Operation(
            "ListExperiments", "List experiments with their number of runs", TAG,
            replies={200: json_reply({"type": "array", "items": _EXPERIMENT})})),
        ApiRoute("/api/experiments/{name}/runs", h.list_runs, method="GET",
                 operation=Operation(
                     "ListRuns", "An experiment's runs, oldest first", TAG,
                     replies={200: json_reply({"type": "array", "items": _RUN})},
                     errors=(404,))),
        ApiRoute("/api/runs/{experiment}/{run}", h.describe_run, method="GET",
                 operation=Operation(
                     "DescribeRun", "A run's parameters, metric series and artifacts", TAG,
                     replies={200: json_reply(_RUN_DETAIL)}, errors=(404,))),
    ]
