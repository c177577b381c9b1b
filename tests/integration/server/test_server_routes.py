"""The server's app in-process (Starlette's test client, no replicas): the error table, the
OpenAPI document against the registered routes, and the read routes of jobs and models."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from mlyard.core.jobs import describe_job
from mlyard.core.records import JobStatus, JobType, MetricPoint
from mlyard.core.workspace import Workspace
from mlyard.errors import HTTP_STATUS, MlyardError, http_status
from mlyard.server.app import build_app
from mlyard.server.errors import EXCEPTION_HANDLERS
from mlyard.server.openapi import ApiRoute
from mlyard.serving.manager import EndpointManager, ServerOptions
from mlyard.serving.metrics import MetricsRecorder
from mlyard.serving.store import EndpointStore

MAX_BODY = 2000


@pytest.fixture
def app(ws: Workspace) -> Starlette:
    return build_app(EndpointManager(ws, MetricsRecorder(),
                                     ServerOptions(max_body_bytes=MAX_BODY)))


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    # no lifespan: nothing to restore, no background loops; a loopback Host and JSON
    # bodies, as the access guard wants (tests/integration/server/test_server_guard.py)
    yield TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1",
                     headers={"Content-Type": "application/json"})


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ErrorCode", "Message"} and body["ErrorCode"] == code
    assert response.headers["x-amzn-ErrorType"] == code
    return str(body["Message"])


# -- the error table --------------------------------------------------------------------
def test_every_error_class_answers_its_code_and_status() -> None:
    async def boom(request: Any) -> Any:
        kind = request.path_params["kind"]
        if kind == "bug":
            raise KeyError("secret-internal-key")
        cls = next(c for c in HTTP_STATUS if c.code == kind)
        raise cls(f"a {kind} happened")

    app = Starlette(routes=[Route("/raise/{kind}", boom)],
                    exception_handlers=EXCEPTION_HANDLERS)
    client = TestClient(app, raise_server_exceptions=False)
    for cls in HTTP_STATUS:
        message = _error(client.get(f"/raise/{cls.code}"), http_status(cls("x")), cls.code)
        assert message == f"a {cls.code} happened"
    message = _error(client.get("/raise/bug"), 500, MlyardError.code)
    assert message.startswith("KeyError:") and "Traceback" not in message


def test_router_errors_are_json(client: TestClient) -> None:
    assert "GET /nowhere" in _error(client.get("/nowhere"), 404, "UnknownOperation")
    response = client.delete("/ping")
    _error(response, 405, "MethodNotAllowed")
    assert "GET" in response.headers["allow"]


def test_control_plane_bodies(client: TestClient) -> None:
    _error(client.post("/api/endpoint-configs", content=b"{not json"), 400, "ValidationError")
    _error(client.post("/api/endpoint-configs", content=b"[1]"), 400, "ValidationError")
    _error(client.post("/api/endpoint-configs", content=b'{"x": "' + b"a" * MAX_BODY + b'"}'),
           413, "PayloadTooLarge")
    _error(client.post("/api/endpoints", json={"EndpointName": 3}), 400, "ValidationError")
    _error(client.post("/api/endpoints", json={"EndpointName": "e", "EndpointConfigName": "c"}),
           404, "ResourceNotFound")
    _error(client.get("/api/endpoints/nope/scaling-activities"), 404, "ResourceNotFound")
    _error(client.get("/api/endpoints/nope/metrics"), 404, "ResourceNotFound")
    _error(client.get("/api/endpoints/nope/metrics?period=inf"), 400, "ValidationError")
    _error(client.post("/endpoints/nope/invocations", json={"instances": ["x"]}), 404,
           "ResourceNotFound")
    _error(client.post("/endpoints/nope/invocations", content=b"x" * (MAX_BODY + 1)), 413,
           "PayloadTooLarge")


def test_configs_and_endpoints_are_read_through_the_manager(ws: Workspace,
                                                            client: TestClient) -> None:
    spec = {"EndpointConfigName": "cfg-1",
            "ProductionVariants": [{"VariantName": "A", "ModelName": "m"}]}
    EndpointStore.of(ws.store).create_endpoint_config("cfg-1", spec)
    EndpointStore.of(ws.store).create_endpoint("ep-1", "cfg-1", {})
    assert [c["EndpointConfigName"] for c in client.get("/api/endpoint-configs").json()] == \
        ["cfg-1"]
    assert client.get("/api/endpoint-configs/cfg-1").json() == spec
    listed = client.get("/api/endpoints").json()
    assert [(e["EndpointName"], e["EndpointStatus"]) for e in listed] == [("ep-1", "Creating")]
    assert client.get("/api/endpoints/ep-1/scaling-activities").json() == []
    points = client.get("/api/endpoints/ep-1/metrics?start=-600").json()
    assert points == {"Label": "Invocations", "Datapoints": []}
    assert client.get("/ping").json() == {"status": "ok", "endpoints": 1}


# -- the OpenAPI document ----------------------------------------------------------------
def _inline_schemas(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                yield value
            else:
                yield from _inline_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _inline_schemas(value)


def test_openapi_documents_every_route(app: Starlette, client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    served = set()
    for route in app.routes:
        assert isinstance(route, ApiRoute), f"{route} is not documented"
        for method in route.methods or ():
            if method != "HEAD":  # Starlette answers HEAD for every GET
                served.add((method.lower(), route.path))
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented
    assert ("get", "/api/jobs/{name}/logs") in served and len(served) >= 24
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            in_path = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert in_path == {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
            assert "500" in op["responses"], (method, path)
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    ref = response["$ref"].rsplit("/", 1)[-1]
                    error = doc["components"]["responses"][ref]
                    assert error["content"]["application/json"]["schema"]["$ref"] == \
                        "#/components/schemas/Error"
            if method in ("post", "put") and "requestBody" in op:
                assert op["requestBody"]["content"]
    # every schema in the document is a valid JSON Schema, every $ref resolves
    for schema in [*doc["components"]["schemas"].values(), *_inline_schemas(doc["paths"])]:
        Draft202012Validator.check_schema(schema)
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "')[1:]}:
        node: Any = doc
        for key in ref.removeprefix("#/").split("/"):
            node = node[key]


# -- jobs and models -----------------------------------------------------------------------
def _seed_jobs(ws: Workspace) -> None:
    ws.store.create_job("train-1", JobType.TRAINING, {"kind": "training"})
    time.sleep(0.01)
    ws.store.create_job("proc-1", JobType.PROCESSING, {"kind": "processing"})
    time.sleep(0.01)
    ws.store.create_job("train-2", JobType.TRAINING, {"kind": "training"})
    ws.store.transition_job("train-1", JobStatus.FAILED, expected=[JobStatus.PENDING],
                            failure_reason="boom")
    ws.store.append_logs("train-1", [(time.time(), f"line {i}") for i in range(7)])
    ws.store.put_metrics("train-1", [MetricPoint("loss", 1.0 / (i + 1), i, time.time())
                                     for i in range(3)]
                         + [MetricPoint("acc", 0.9, 2, time.time())])


def test_list_jobs_filters_and_validates(ws: Workspace, client: TestClient) -> None:
    _seed_jobs(ws)
    names = [j["JobName"] for j in client.get("/api/jobs").json()]
    assert names == ["train-2", "proc-1", "train-1"]  # newest first
    first = client.get("/api/jobs").json()[-1]
    assert first["JobType"] == "training" and first["JobStatus"] == "Failed"
    assert first["FailureReason"] == "boom" and first["CreationTime"] > 0
    assert [j["JobName"] for j in client.get("/api/jobs?type=training").json()] == \
        ["train-2", "train-1"]
    assert [j["JobName"] for j in client.get("/api/jobs?status=Failed").json()] == ["train-1"]
    assert [j["JobName"] for j in client.get("/api/jobs?limit=1").json()] == ["train-2"]
    for query, name in (("type=robot", "type"), ("status=failed", "status"),
                        ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
                        ("limit=1&limit=2", "limit")):
        assert f"'{name}'" in _error(client.get(f"/api/jobs?{query}"), 400, "ValidationError")


def test_describe_logs_and_metrics_of_a_job(ws: Workspace, client: TestClient) -> None:
    _seed_jobs(ws)
    assert client.get("/api/jobs/train-1").json() == \
        json.loads(json.dumps(describe_job(ws, "train-1")))
    page = client.get("/api/jobs/train-1/logs?limit=3").json()
    assert [e["Message"] for e in page["Events"]] == ["line 0", "line 1", "line 2"]
    rest = client.get(f"/api/jobs/train-1/logs?after={page['NextAfter']}").json()
    assert [e["Message"] for e in rest["Events"]] == [f"line {i}" for i in range(3, 7)]
    empty = client.get(f"/api/jobs/train-1/logs?after={rest['NextAfter']}").json()
    assert empty["Events"] == [] and empty["NextAfter"] == rest["NextAfter"]
    _error(client.get("/api/jobs/train-1/logs?after=-1"), 400, "ValidationError")
    _error(client.get("/api/jobs/train-1/logs?limit=10001"), 400, "ValidationError")
    metrics = client.get("/api/jobs/train-1/metrics").json()["Metrics"]
    assert [(m["MetricName"], m["Step"]) for m in metrics] == \
        [("loss", 0), ("loss", 1), ("loss", 2), ("acc", 2)]
    loss = client.get("/api/jobs/train-1/metrics?metric=loss").json()["Metrics"]
    assert [m["Value"] for m in loss] == [1.0, 0.5, pytest.approx(1 / 3)]
    for path in ("/api/jobs/nope", "/api/jobs/nope/logs", "/api/jobs/nope/metrics"):
        _error(client.get(path), 404, "ResourceNotFound")


def test_models(ws: Workspace, client: TestClient) -> None:
    ws.store.create_model("m-1", "file:///tmp/m-1", "blazingtext", job_name="train-x",
                          metadata={"labels": ["neg", "pos"]})
    time.sleep(0.01)
    ws.store.create_model("m-2", "file:///tmp/m-2", "bert")
    assert [m["ModelName"] for m in client.get("/api/models").json()] == ["m-2", "m-1"]
    assert [m["ModelName"] for m in client.get("/api/models?limit=1").json()] == ["m-2"]
    one = client.get("/api/models/m-1").json()
    assert one["ModelDataUrl"] == "file:///tmp/m-1" and one["Flavor"] == "blazingtext"
    assert one["JobName"] == "train-x" and one["Metadata"] == {"labels": ["neg", "pos"]}
    _error(client.get("/api/models/nope"), 404, "ResourceNotFound")
    _error(client.get("/api/models?limit=-5"), 400, "ValidationError")


def test_chunked_upload_is_cut_at_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for _ in range(10):
            yield b"x" * (MAX_BODY // 4)

    _error(client.post("/endpoints/nope/invocations", content=chunks()), 413,
           "PayloadTooLarge")
    _error(client.post("/api/endpoint-configs", content=chunks()), 413, "PayloadTooLarge")
    small = iter([b'{"EndpointConfigName": ', b'"x"}'])
    _error(client.post("/api/endpoint-configs", content=small), 400, "ValidationError")
