"""The server's analysis routes in-process (Starlette's test client): the index, one
analysis with its JSON report, the HTML report under a strict Content-Security-Policy,
404s for unknown or malformed names and the access guard's token rule."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mlyard.analysis.store import AnalysisRecord, AnalysisStore
from mlyard.core.workspace import Workspace
from mlyard.server.app import build_app
from mlyard.server.guard import AccessPolicy
from mlyard.server.routes.analysis import REPORT_CSP
from mlyard.serving.manager import EndpointManager, ServerOptions
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.token_store import TokenStore, new_token, token_digest


def _app(ws: Workspace, policy: AccessPolicy | None = None) -> TestClient:
    app = build_app(EndpointManager(ws, MetricsRecorder(), ServerOptions()), policy=policy)
    return TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1")


@pytest.fixture
def seeded(ws: Workspace, tmp_path: Path) -> Workspace:
    store = AnalysisStore.of(ws.store)
    out = tmp_path / "bias-out"
    out.mkdir()
    (out / "analysis.json").write_text(json.dumps(
        {"pre_training_bias_metrics": {"facets": {"cat": [{"value_or_threshold": "A"}]}},
         "nan": float("nan")}))
    (out / "report.html").write_text("<html><body><p>&lt;script&gt;</p></body></html>")
    for name, analysis, uri in (("bias-1", "bias", out.as_uri()),
                                ("bal-1", "balance", (tmp_path / "b.csv").as_uri())):
        ws.store.create_job(name, "analysis", {"kind": "analysis", "analysis": analysis})
        store.put_analysis(AnalysisRecord(name, analysis, time.time(), uri,
                                          {"data": "/d.csv"}, None, {"rows": 3}))
        time.sleep(0.01)
    return ws


@pytest.fixture
def client(seeded: Workspace) -> Iterator[TestClient]:
    yield _app(seeded)


def test_list_and_describe(client: TestClient) -> None:
    listed = client.get("/api/analyses").json()
    assert [a["JobName"] for a in listed] == ["bal-1", "bias-1"]
    assert [a["JobName"] for a in client.get("/api/analyses?type=bias").json()] == ["bias-1"]
    assert [a["JobName"] for a in client.get("/api/analyses?limit=1").json()] == ["bal-1"]
    for query in ("type=robot", "limit=0", "limit=x"):
        assert client.get(f"/api/analyses?{query}").status_code == 400
    one = client.get("/api/analyses/bias-1").json()
    assert one["ReportFile"] == "analysis.json" and one["HasHtmlReport"] is True
    assert one["Report"]["pre_training_bias_metrics"]["facets"]["cat"][0] == \
        {"value_or_threshold": "A"}
    assert one["Report"]["nan"] is None and one["Summary"] == {"rows": 3}
    single = client.get("/api/analyses/bal-1").json()
    assert single["Report"] is None and single["HasHtmlReport"] is False


def test_report_is_html_under_a_strict_policy(client: TestClient) -> None:
    page = client.get("/api/analyses/bias-1/report")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == REPORT_CSP
    assert "script-src" not in REPORT_CSP and "default-src 'none'" in REPORT_CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "&lt;script&gt;" in page.text


@pytest.mark.parametrize("path", [
    "/api/analyses/nope", "/api/analyses/nope/report", "/api/analyses/bal-1/report",
    "/api/analyses/..%2F..%2Fetc", "/api/analyses/%2E%2E/report", "/api/analyses/a_b",
])
def test_unknown_names_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert response.json()["ErrorCode"] in ("ResourceNotFound", "UnknownOperation")


def test_same_token_rule_as_the_job_routes(seeded: Workspace) -> None:
    token = new_token()
    TokenStore.of(seeded.store).create_token("reader", token_digest(token))
    client = _app(seeded, AccessPolicy.for_bind("127.0.0.1", require_token=True))
    for path in ("/api/jobs", "/api/analyses", "/api/analyses/bias-1/report"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers={"Authorization": f"Bearer {token}"}
                          ).status_code == 200


def test_openapi_documents_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/analyses/{name}/report"]["get"]["responses"]["200"]["content"]) \
        == {"text/html"}
    assert "/api/analyses" in paths and "/api/analyses/{name}" in paths
