"""Schema-driven fuzzing of a real `mlyard server`: schemathesis reads the served
``/openapi.json`` and sends generated requests (valid and invalid) to every operation.

Every answer must be below 500, carry no traceback, and conform to the document: its status
is one the operation lists, its content type and JSON body match the documented schema (so
every error is ``{"ErrorCode", "Message"}``).

The workspace holds a model, a job with log lines and metric points, and an
endpoint config with an endpoint in state Failed (no replicas run, so the fuzzer cannot
start processes). Random path names mostly miss, so each operation with a ``{name}`` also
gets valid requests naming the seeded resource (endpoint ``fuzzed``, variant ``A``, job
``fuzz-job``, model ``fuzz-model``), which reach the handlers' validation of real
resources; the seeded endpoint's DELETE is only sent with random names. Each operation gets
:data:`EXAMPLES` cases, drawn from valid requests, invalid ones (schemathesis' negative
mode: wrong types, out-of-range numbers, missing fields) and the seeded ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlyard.config import Settings
from mlyard.core.records import JobType, MetricPoint
from mlyard.core.workspace import Workspace
from mlyard.serving.store import EndpointStatus, EndpointStore

#: Generated examples per operation; the whole test takes about 30 s. Derandomized: every
#: run sends the same requests, so a failure is reproducible and the run time stable.
EXAMPLES = 25
SEEDED = {"endpoint": "fuzzed", "variant": "A", "job": "fuzz-job", "model": "fuzz-model"}
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/')


def _seed(ws: Workspace, tmp: Path) -> None:
    from mlyard.testing.models import save_test_model

    model_dir = save_test_model(tmp / "echo", "echo")
    ws.store.create_model(SEEDED["model"], ws.artifacts.upload(
        model_dir, ws.artifacts.uri("models", SEEDED["model"])), "test")
    ws.store.create_job(SEEDED["job"], JobType.TRAINING, {"kind": "training"})
    ws.store.append_logs(SEEDED["job"], [(time.time(), f"epoch {i}") for i in range(5)])
    ws.store.put_metrics(SEEDED["job"], [
        MetricPoint("train:loss", 0.5, 1, time.time()),
        MetricPoint("train:loss", 0.25, 2, time.time())])
    EndpointStore.of(ws.store).create_endpoint_config("fuzz-cfg", {
        "EndpointConfigName": "fuzz-cfg", "ProductionVariants": [
            {"VariantName": SEEDED["variant"], "ModelName": SEEDED["model"]}]})
    EndpointStore.of(ws.store).create_endpoint(SEEDED["endpoint"], "fuzz-cfg", {})
    EndpointStore.of(ws.store).update_endpoint(SEEDED["endpoint"], status=EndpointStatus.FAILED,
                                               failure_reason="seeded for the fuzz test")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `mlyard server` on a free port of 127.0.0.1 over a seeded workspace."""
    tmp = tmp_path_factory.mktemp("fuzz")
    settings_ = Settings.from_env(tmp / "ws")
    with Workspace(settings_) as ws:
        _seed(ws, tmp)
    env = {**os.environ, **settings_.child_env(), "MLYARD_MAX_BODY_BYTES": "20000",
           "MLYARD_AUTOSCALE_INTERVAL": "0.5", "MLYARD_MONITOR_INTERVAL": "0.5"}
    info = settings_.home / "server.json"
    with open(tmp / "server.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "mlyard", "server", "--port", "0"],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not info.exists():
            assert proc.poll() is None, "server exited at start"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        url = json.loads(info.read_text())["url"]
        assert url.startswith("http://127.0.0.1:")
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    log_text = (tmp / "server.log").read_text(errors="replace")
    # Starlette logs the traceback of an unexpected exception: there must be none
    assert "Traceback" not in log_text, log_text[-3000:]


CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance,
          schemathesis.checks.response_schema_conformance]


def _seeded_path(operation: Any) -> dict[str, str] | None:
    """Path parameters naming the seeded resources for ``operation``; None when it has no
    ``{name}`` (or would delete the seeded endpoint)."""
    path = operation.path
    if "{name}" not in path or (operation.method.upper() == "DELETE"
                                and path == "/api/endpoints/{name}"):
        return None
    kind = ("job" if path.startswith("/api/jobs") else
            "model" if path.startswith("/api/models") else "endpoint")
    params = {"name": SEEDED[kind]}
    if "{variant}" in path:
        params["variant"] = SEEDED["variant"]
    return params


def _send(session: requests.Session, case: Any) -> None:
    response = case.call(session=session, timeout=30)
    text = response.text
    assert response.status_code < 500, text[:2000]
    assert not any(marker in text for marker in TRACEBACK_MARKERS), text[:2000]
    case.validate_response(response, checks=CHECKS)


def _strategy(operation: Any) -> Any:
    """Valid and invalid requests with generated names, and valid ones naming the seeded
    resources."""
    modes = [operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
             operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)]
    seeded = _seeded_path(operation)
    if seeded is not None:
        modes.append(operation.as_strategy(path_parameters=seeded))
    return st.one_of(modes)


def test_no_server_error_and_documented_answers(server_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    served = {(op.method.upper(), op.path) for op in operations}
    assert ("GET", "/api/jobs/{name}/logs") in served and len(served) == len(operations) >= 20
    with requests.Session() as session:  # one connection pool, closed at the end
        for operation in operations:
            def send(case: Any) -> None:
                _send(session, case)

            run = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                           database=None, suppress_health_check=list(HealthCheck))(
                given(case=_strategy(operation))(send))
            run()
