"""A canary to a model whose replica dies on every request, against a real `mlyard server`
on a free port of 127.0.0.1 and the real CLI: the update is rolled back (the old fleet
keeps serving), the CLI shows the bake and exits 1, and the failures are in the metrics.
Metric queries for unknown names are refused with the known ones (HTTP 404, CLI exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.serving.client import EndpointsClient
from mlyard.testing.models import save_test_model
from tests.integration.serving.test_endpoints import Server

CRASH = {"instances": ["crash"]}  # the crashing test model exits on this; echo answers it


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, EndpointsClient]]:
    tmp = tmp_path_factory.mktemp("deployment")
    settings = Settings.from_env(tmp / "ws")
    ws = Workspace(settings)
    for name, kind in (("echo-model", "echo"), ("crash-model", "crashing")):
        model_dir = save_test_model(tmp / name, kind)
        ws.store.create_model(name, ws.artifacts.upload(model_dir, ws.artifacts.uri(
            "models", name)), "test")
    ws.close()
    server = Server(settings)
    client = server.start()
    yield server, client
    client.close()
    server.stop()


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.child_env()}
    return subprocess.run([sys.executable, "-m", "mlyard", *args], env=env, text=True,
                          capture_output=True, timeout=180)


def _load(url: str, stop: threading.Event, results: list[tuple[int, str]]) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        while not stop.is_set():
            r = http.post("/endpoints/canary/invocations", json=CRASH)
            results.append((r.status_code, r.headers.get("x-amzn-invoked-production-variant",
                                                         "")))


def _total(client: EndpointsClient, metric: str, variant: str) -> float:
    points = client.metrics("canary", metric, variant=variant, period=3600,
                            start=time.time() - 600)
    return sum(p["Value"] for p in points)


def test_crashing_canary_rolls_back_and_its_failures_count(
        env: tuple[Server, EndpointsClient]) -> None:
    from mlyard.sdk.endpoints import wait_for_endpoint

    server, client = env
    client.create_endpoint_config({"EndpointConfigName": "canary-cfg", "ProductionVariants": [
        {"VariantName": "A", "ModelName": "echo-model"}]})
    client.create_endpoint("canary", "canary-cfg")
    assert wait_for_endpoint(client, "canary", timeout=120)["EndpointStatus"] == "InService"

    stop = threading.Event()
    results: list[tuple[int, str]] = []
    workers = [threading.Thread(target=_load, args=(server.url, stop, results))
               for _ in range(8)]
    for w in workers:
        w.start()
    try:
        done = _cli(server.settings, "endpoints", "update", "canary", "--variant",
                    "B=crash-model", "--traffic", "canary:50", "--wait-seconds", "1",
                    "--max-error-rate", "0.1")
    finally:
        stop.set()
        for w in workers:
            w.join()

    # the CLI waited, showed the bake and said the update did not complete
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "deployment RolledBack: error rate" in done.stdout
    assert "error: the update of endpoint canary was rolled back; it still serves config " \
           "canary-cfg" in done.stderr
    assert "canary: step 1/2 (50% of traffic to the new fleet): baking" in done.stderr
    assert "new fleet so far:" in done.stderr
    assert "Traceback" not in done.stderr

    # the old fleet kept serving and serves on
    desc = client.describe_endpoint("canary")
    assert desc["EndpointStatus"] == "InService"
    assert desc["EndpointConfigName"] == "canary-cfg"
    assert desc["LastDeployment"]["status"] == "RolledBack"
    assert [s["fraction"] for s in desc["LastDeployment"]["steps"]] == [0.5]
    assert "rolled back: error rate" in desc["FailureReason"]
    assert [v["ModelName"] for v in desc["ProductionVariants"]] == ["echo-model"]
    for _ in range(5):
        body, headers = client.invoke("canary", CRASH)
        assert headers["x-amzn-invoked-production-variant"] == "A" and body

    # what clients saw is what the metrics say: every request to B failed with a 503
    seen = Counter(results)
    assert seen[(200, "A")] > 0
    failed = sum(n for (status, _), n in seen.items() if status == 503)
    assert failed >= 5 and set(seen) <= {(200, "A"), (503, "")}, seen
    invocations_b = _total(client, "Invocations", "B")
    assert invocations_b == _total(client, "Invocation5XXErrors", "B") == failed
    assert _total(client, "Invocation4XXErrors", "B") == 0
    assert _total(client, "Invocation5XXErrors", "A") == 0
    assert _total(client, "Invocations", "A") == seen[(200, "A")] + 5


def test_metrics_of_unknown_variants_and_metrics_are_refused(
        env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    client.create_endpoint_config({"EndpointConfigName": "named-cfg", "ProductionVariants": [
        {"VariantName": "A", "ModelName": "echo-model"},
        {"VariantName": "B", "ModelName": "echo-model"}]})
    client.create_endpoint("named", "named-cfg")
    with httpx.Client(base_url=server.url) as http:
        r = http.get("/api/endpoints/named/metrics", params={"metric": "Invocatons"})
        assert r.status_code == 404
        assert "unknown metric 'Invocatons'" in r.json()["Message"]
        assert "Invocation5XXErrors" in r.json()["Message"]
        r = http.get("/api/endpoints/named/metrics", params={"variant": "Z"})
        assert r.status_code == 404
        assert "no variant 'Z'; its variants: A, B" in r.json()["Message"]
        r = http.get("/api/endpoints/named/metrics", params={"variant": "B",
                                                              "metric": "ModelLatency"})
        assert r.status_code == 200 and r.json()["Datapoints"] == []
    done = _cli(server.settings, "endpoints", "metrics", "named", "--metric", "Latency")
    assert done.returncode == 2
    assert "error: " in done.stderr and "unknown metric 'Latency'" in done.stderr
    assert "ModelLatency" in done.stderr and "Traceback" not in done.stderr
    client.delete_endpoint("named")
