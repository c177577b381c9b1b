"""Read-only routes of jobs (training, processing, transform, tuning)::

    GET /api/jobs                       ListTrainingJobs-like: ?type=&status=&limit=
    GET /api/jobs/{name}                DescribeTrainingJob-like (mlyard jobs describe)
    GET /api/jobs/{name}/logs           ?after=N&limit=M: log lines after sequence number N
    GET /api/jobs/{name}/metrics        ?metric=NAME: metric points in reported order

Query parameters are validated (400 naming the parameter); an unknown job is 404
``ResourceNotFound``. The handlers are plain functions, so Starlette runs them in its thread
pool: reading the database never stalls the event loop that serves invocations.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mlyard.core.kinds import get_job_kind
from mlyard.core.records import JobStatus
from mlyard.errors import ValidationError
from mlyard.server.openapi import ApiRoute, Operation, Param, json_reply
from mlyard.server.readers import JobReader
from mlyard.server.wire import MAX_INT, json_response, query_choice, query_int, query_str

TAG = "jobs"
NUMBER = {"type": "number"}
TEXT = {"type": "string"}
NULLABLE_NUMBER = {"type": ["number", "null"]}
#: Most jobs one list returns, log lines one page holds.
MAX_LIST, MAX_LOG_LINES = 1000, 10_000
_SUMMARY_FIELDS = {
    "JobName": TEXT,
    "JobType": {"type": "string", "description": "The job's kind (training, processing, "
                "transform, tuning, or a kind a package adds)"},
    "JobStatus": {"type": "string", "enum": [s.value for s in JobStatus]},
    "CreationTime": NUMBER, "LastModifiedTime": NUMBER, "EndTime": NULLABLE_NUMBER,
    "FailureReason": {"type": ["string", "null"]},
}
_SUMMARY = {"type": "object", "required": ["JobName", "JobType", "JobStatus", "CreationTime"],
            "properties": _SUMMARY_FIELDS}
_DESCRIPTION = {
    "type": "object",
    "required": ["JobName", "JobType", "JobStatus", "CreationTime", "Spec"],
    "properties": {
        **_SUMMARY_FIELDS,
        "StartTime": NULLABLE_NUMBER, "DurationSeconds": NULLABLE_NUMBER,
        "Executor": {"type": ["string", "null"]}, "ArtifactUri": {"type": ["string", "null"]},
        "Outputs": {"type": "object", "additionalProperties": TEXT},
        "FinalMetrics": {"type": "object", "additionalProperties": NULLABLE_NUMBER},
        "Spec": {"type": "object", "description": "The job's spec as submitted"},
    },
    "description": "Also TrainingTimeInSeconds, BillableTimeInSeconds, SpotInterruptions, "
                   "DebugRuleEvaluationStatuses, ProfilerRuleEvaluationStatuses when known",
}
_LOGS = {
    "type": "object", "required": ["JobName", "Events", "NextAfter"],
    "properties": {
        "JobName": TEXT,
        "Events": {"type": "array", "items": {"type": "object", "properties": {
            "Seq": {"type": "integer"}, "Timestamp": NUMBER, "Message": TEXT}}},
        "NextAfter": {"type": "integer", "description": "Pass as after= for the next page"},
    },
}
_METRICS = {
    "type": "object", "required": ["JobName", "Metrics"],
    "properties": {
        "JobName": TEXT,
        "Metrics": {"type": "array", "items": {"type": "object", "properties": {
            "MetricName": TEXT, "Value": NULLABLE_NUMBER,
            "Step": {"type": ["integer", "null"]}, "Timestamp": NUMBER}}},
    },
}


class JobRoutes:
    """Handlers over one :class:`~mlyard.server.readers.JobReader`."""

    def __init__(self, jobs: JobReader) -> None:
        self.jobs = jobs

    def list_jobs(self, request: Request) -> Response:
        q = request.query_params
        job_type = query_str(q, "type")
        if job_type is not None:
            try:
                get_job_kind(job_type)
            except ValidationError as exc:  # 400 listing the known kinds
                raise ValidationError(f"query parameter 'type': {exc.message}") from None
        records = self.jobs.list_jobs(job_type=job_type,
                                 status=query_choice(q, "status", JobStatus),
                                 limit=query_int(q, "limit", 100, minimum=1, maximum=MAX_LIST))
        return json_response([{"JobName": r.name, "JobType": r.job_type,
                               "JobStatus": r.status.value, "CreationTime": r.created_at,
                               "LastModifiedTime": r.updated_at, "EndTime": r.ended_at,
                               "FailureReason": r.failure_reason} for r in records])

    def describe(self, request: Request) -> Response:
        return json_response(self.jobs.describe(request.path_params["name"]))

    def logs(self, request: Request) -> Response:
        name = request.path_params["name"]
        q = request.query_params
        after = query_int(q, "after", 0, minimum=0)
        lines = self.jobs.logs(name, after=after,
                               limit=query_int(q, "limit", 1000, minimum=1,
                                               maximum=MAX_LOG_LINES))
        return json_response({"JobName": name, "Events": [
            {"Seq": line.seq, "Timestamp": line.timestamp, "Message": line.line}
            for line in lines], "NextAfter": lines[-1].seq if lines else after})

    def metrics(self, request: Request) -> Response:
        name = request.path_params["name"]
        points = self.jobs.metrics(name, query_str(request.query_params, "metric"))
        return json_response({"JobName": name, "Metrics": [
            {"MetricName": p.name, "Value": p.value, "Step": p.step, "Timestamp": p.timestamp}
            for p in points]})


def routes(jobs: JobReader) -> list[ApiRoute]:
    """The read-only job routes over ``jobs``."""
    h = JobRoutes(jobs)
    return [
        ApiRoute("/api/jobs", h.list_jobs, method="GET", operation=Operation(
            "ListJobs", "List jobs, newest first", TAG, params=(
                Param("type", "query", {"type": "string"},
                      "Only jobs of this kind (400 for an unknown kind)"),
                Param("status", "query",
                      {"type": "string", "enum": [s.value for s in JobStatus]},
                      "Only jobs with this status"),
                Param("limit", "query", {"type": "integer", "minimum": 1,
                                         "maximum": MAX_LIST, "default": 100},
                      "At most this many jobs")),
            replies={200: json_reply({"type": "array", "items": _SUMMARY})},
            errors=(400,))),
        ApiRoute("/api/jobs/{name}", h.describe, method="GET", operation=Operation(
            "DescribeJob", "A job's status, times, outputs, final metrics, rules and spec",
            TAG, replies={200: json_reply(_DESCRIPTION)}, errors=(404,))),
        ApiRoute("/api/jobs/{name}/logs", h.logs, method="GET", operation=Operation(
            "GetJobLogs", "A page of a job's captured log lines", TAG, params=(
                Param("after", "query", {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                                         "default": 0},
                      "Only lines with a sequence number above this"),
                Param("limit", "query", {"type": "integer", "minimum": 1,
                                         "maximum": MAX_LOG_LINES, "default": 1000},
                      "At most this many lines")),
            replies={200: json_reply(_LOGS)}, errors=(400, 404))),
        ApiRoute("/api/jobs/{name}/metrics", h.metrics, method="GET", operation=Operation(
            "GetJobMetrics", "A job's metric points (NaN values are null)", TAG, params=(
                Param("metric", "query", {"type": "string", "maxLength": 256},
                      "Only this metric"),),
            replies={200: json_reply(_METRICS)}, errors=(400, 404))),
    ]
