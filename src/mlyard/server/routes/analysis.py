"""Read-only routes of completed analyses (profiles, bias reports, explanations, flows)::

    GET /api/analyses                      ?type=&limit=: the index, newest first
    GET /api/analyses/{name}               one analysis (its job's name): the index row and
                                           its JSON report (analysis.json, profile.json, ...)
    GET /api/analyses/{name}/report        its report.html

The analyses come from the index the ``analysis`` job kind writes
(:class:`~mlyard.analysis.store.AnalysisStore`), and the files from the URI recorded there:
a name is only ever looked up in the index (it must also match the job-name rule), never
joined into a path, so no request reaches another file. An unknown name, or an analysis
without that file, is 404 ``ResourceNotFound``. Who may call them is what the access guard
says for every route (:mod:`mlyard.server.guard`: the same as the job routes).

The HTML report holds text from the data (reviews, column names), escaped by the
analyzers; it is served under a Content-Security-Policy that allows no script, no
external resource, no form and no framing (inline styles and ``data:`` images only, which
is all a self-contained report uses), and sandboxes the page, so a report cannot run
anything in the browser even if some data text got through unescaped.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlyard.analysis.base import available_analyzers
from mlyard.analysis.kind import REPORT_HTML, REPORT_JSON_FILES
from mlyard.analysis.store import AnalysisRecord, AnalysisStore
from mlyard.core.specs import JOB_NAME_RE
from mlyard.core.workspace import Workspace
from mlyard.errors import NotFoundError, ValidationError
from mlyard.server.openapi import ApiRoute, Operation, Param, Reply, json_reply
from mlyard.server.wire import json_response, query_int, query_str

TAG = "analyses"
TEXT = {"type": "string"}
MAX_LIST = 1000
#: The policy of a served report: nothing but its own inline styles and data: images.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox")
REPORT_HEADERS = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff",
                  "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
_SUMMARY_FIELDS = {
    "JobName": TEXT, "AnalysisType": TEXT, "CreationTime": {"type": "number"},
    "OutputUri": {"type": "string", "description": "Where the analysis' files are"},
    "Inputs": {"type": "object", "additionalProperties": TEXT},
    "ModelName": {"type": ["string", "null"]},
    "Summary": {"type": "object", "description": "The analyzer's short summary"},
}
_SUMMARY = {"type": "object", "required": ["JobName", "AnalysisType", "CreationTime",
                                           "OutputUri"], "properties": _SUMMARY_FIELDS}
_DESCRIPTION = {
    "type": "object", "required": [*_SUMMARY["required"], "Report", "ReportFile"],
    "properties": {
        **_SUMMARY_FIELDS,
        "Report": {"type": ["object", "null"], "description": "The analysis' JSON report "
                   "(analysis.json in SageMaker Clarify's schema, profile.json, "
                   "flow_summary.json or summary.json), null when it wrote none"},
        "ReportFile": {"type": ["string", "null"]},
        "HasHtmlReport": {"type": "boolean"},
    },
}


def summary(record: AnalysisRecord) -> dict[str, Any]:
    """An analysis' list entry."""
    return {"JobName": record.job_name, "AnalysisType": record.analysis,
            "CreationTime": record.created_at, "OutputUri": record.output_uri,
            "Inputs": record.inputs, "ModelName": record.model_name,
            "Summary": record.summary}


class AnalysisRoutes:
    """Handlers over one workspace's analyses."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def _store(self) -> AnalysisStore:
        return AnalysisStore.of(self.ws.store)

    def _record(self, request: Request) -> AnalysisRecord:
        name = str(request.path_params["name"])
        if not JOB_NAME_RE.match(name):
            raise NotFoundError(f"no analysis named {name[:100]!r}")
        return self._store().get_analysis(name)

    def _file(self, record: AnalysisRecord, name: str) -> str | None:
        uri = f"{record.output_uri.rstrip('/')}/{name}"
        return uri if self.ws.artifacts.exists(uri) else None

    def list_analyses(self, request: Request) -> Response:
        q = request.query_params
        analysis = query_str(q, "type", max_length=64)
        if analysis is not None and analysis not in available_analyzers():
            raise ValidationError(f"query parameter 'type': unknown analysis {analysis!r}; "
                                  f"known: {sorted(available_analyzers())}")
        records = self._store().list_analyses(
            analysis, limit=query_int(q, "limit", 100, minimum=1, maximum=MAX_LIST))
        return json_response([summary(r) for r in records])

    def describe(self, request: Request) -> Response:
        record = self._record(request)
        report: Any = None
        found = None
        for name in REPORT_JSON_FILES:
            uri = self._file(record, name)
            if uri is not None:
                report, found = json.loads(self.ws.artifacts.read_bytes(uri)), name
                break
        if report is not None and not isinstance(report, dict):
            report = {"value": report}
        return json_response({**summary(record), "Report": report, "ReportFile": found,
                              "HasHtmlReport": self._file(record, REPORT_HTML) is not None})

    def report(self, request: Request) -> Response:
        record = self._record(request)
        uri = self._file(record, REPORT_HTML)
        if uri is None:
            raise NotFoundError(f"analysis {record.job_name!r} has no HTML report")
        return Response(self.ws.artifacts.read_bytes(uri), media_type="text/html",
                        headers=REPORT_HEADERS)


def routes(ws: Workspace) -> list[ApiRoute]:
    """The read-only analysis routes over ``ws``."""
    h = AnalysisRoutes(ws)
    return [
        ApiRoute("/api/analyses", h.list_analyses, method="GET", operation=Operation(
            "ListAnalyses", "List completed analyses, newest first", TAG, params=(
                Param("type", "query", {"type": "string", "maxLength": 64},
                      "Only analyses of this kind (profile, bias, explain, flow, balance; "
                      "400 for an unknown one)"),
                Param("limit", "query", {"type": "integer", "minimum": 1,
                                         "maximum": MAX_LIST, "default": 100},
                      "At most this many analyses")),
            replies={200: json_reply({"type": "array", "items": _SUMMARY})},
            errors=(400,))),
        ApiRoute("/api/analyses/{name}", h.describe, method="GET", operation=Operation(
            "DescribeAnalysis", "An analysis' inputs, output, summary and JSON report", TAG,
            replies={200: json_reply(_DESCRIPTION)}, errors=(404,))),
        ApiRoute("/api/analyses/{name}/report", h.report, method="GET", operation=Operation(
            "GetAnalysisReport", "An analysis' self-contained HTML report", TAG,
            replies={200: Reply("The report page, under a Content-Security-Policy that "
                                "allows no script", {"text/html": TEXT},
                                {"Content-Security-Policy": REPORT_CSP})},
            errors=(404,))),
    ]
