"""Real-time endpoints against a real `mlyard server` on a free port of 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from mlyard.algorithms import TrainingContext, get_algorithm
from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.serving.client import EndpointsClient
from mlyard.testing.algorithms import make_text_dataset

HPS = {"epochs": 5, "vector_dim": 16, "buckets": 10000, "min_count": 1,
       "learning_rate": 0.5, "backend": "cpu", "threads": 1}
REVIEW = {"instances": ["love perfect beautiful dress", "awful ripped cheap top"]}


def _register_model(ws: Workspace, tmp: Path, name: str, seed: int) -> None:
    algo = get_algorithm("blazingtext")
    data = make_text_dataset(tmp / f"{name}.csv", 300, seed=seed)
    ctx = TrainingContext(channels={"train": data}, model_dir=tmp / name / "model",
                          output_dir=tmp / name / "out", log=lambda _m: None)
    algo.train(ctx, algo.resolve_hyperparameters({**HPS, "seed": seed}))
    uri = ws.artifacts.upload(ctx.model_dir, ws.artifacts.uri("models", name))
    ws.store.create_model(name, uri, "blazingtext")


class Server:
    """A `mlyard server` subprocess for one workspace."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> EndpointsClient:
        env = {**os.environ, **self.settings.child_env(), "MLYARD_AUTOSCALE_INTERVAL": "0.3",
               "MLYARD_MONITOR_INTERVAL": "0.3", "MLYARD_ALARM_INTERVAL": "0.1",
               "MLYARD_MAX_BODY_BYTES": "200000"}
        info = self.settings.home / "server.json"
        info.unlink(missing_ok=True)
        with open(self.settings.home / "server-test.log", "ab") as log:  # the child keeps it
            self.proc = subprocess.Popen([sys.executable, "-m", "mlyard", "server", "--port",
                                          "0"], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not info.exists():
            assert self.proc.poll() is None, "server exited at start"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        self.url = json.loads(info.read_text())["url"]
        assert self.url.startswith("http://127.0.0.1:")
        return EndpointsClient(self.url)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def replica_pids(self) -> list[int]:
        assert self.proc is not None
        return [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)
                if "mlyard.serving.replica" in " ".join(p.cmdline())]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, EndpointsClient]]:
    tmp = tmp_path_factory.mktemp("endpoints")
    settings = Settings.from_env(tmp / "ws")
    ws = Workspace(settings)
    for name, seed in (("bt-a", 1), ("bt-b", 2), ("bt-c", 3)):
        _register_model(ws, tmp, name, seed)
    from mlyard.testing.models import save_test_model

    failing = save_test_model(tmp / "failing", "failing")
    ws.store.create_model("bad-model", ws.artifacts.upload(failing, ws.artifacts.uri(
        "models", "bad-model")), "test")
    ws.close()
    server = Server(settings)
    client = server.start()
    yield server, client
    client.close()
    server.stop()


def _create(client: EndpointsClient, name: str, variants: list[dict[str, Any]],
            **extra: Any) -> dict[str, Any]:
    from mlyard.sdk.endpoints import wait_for_endpoint

    client.create_endpoint_config({"EndpointConfigName": f"{name}-cfg",
                                   "ProductionVariants": variants, **extra})
    client.create_endpoint(name, f"{name}-cfg")
    return wait_for_endpoint(client, name, timeout=120)


def _variant(name: str, model: str, weight: float = 1.0, replicas: int = 1) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InitialVariantWeight": weight,
            "InitialInstanceCount": replicas}


def _load(url: str, endpoint: str, seconds: float, results: list[int],
          stop: threading.Event | None = None) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (stop and stop.is_set()):
            r = http.post(f"/endpoints/{endpoint}/invocations", json=REVIEW)
            results.append(r.status_code)


def test_ab_endpoint_invoke_and_shift_weights(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    desc = _create(client, "reviews", [_variant("A", "bt-a", 50), _variant("B", "bt-b", 50)])
    assert desc["EndpointStatus"] == "InService"
    body, headers = client.invoke("reviews", REVIEW)
    assert [p["label"][0] for p in json.loads(body)] == ["pos", "neg"]
    assert headers["x-amzn-invoked-production-variant"] in {"A", "B"}
    seen = Counter(client.invoke("reviews", REVIEW)[1]["x-amzn-invoked-production-variant"]
                   for _ in range(200))
    assert seen["A"] > 60 and seen["B"] > 60
    pinned = client.invoke("reviews", REVIEW, target_variant="B")[1]
    assert pinned["x-amzn-invoked-production-variant"] == "B"
    for ctype, accept, payload in (("text/csv", "text/csv", "love it\nawful\n"),
                                   ("application/jsonlines", "application/jsonlines",
                                    '"love it"\n"awful"\n'),
                                   ("text/plain", "application/json", "love it\n")):
        out, _ = client.invoke("reviews", payload, content_type=ctype, accept=accept)
        assert out.strip()

    # shift all traffic to B under load: no failed request
    results: list[int] = []
    workers = [threading.Thread(target=_load, args=(server.url, "reviews", 3.0, results))
               for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    client.update_weights_and_capacities("reviews", [
        {"VariantName": "A", "DesiredWeight": 0}, {"VariantName": "B", "DesiredWeight": 100}])
    for w in workers:
        w.join()
    assert results and set(results) == {200}
    after = {client.invoke("reviews", REVIEW)[1]["x-amzn-invoked-production-variant"]
             for _ in range(50)}
    assert after == {"B"}
    points = client.metrics("reviews", "Invocations", variant="A", period=3600, stat="Sum",
                            start=time.time() - 600)
    assert sum(p["Value"] for p in points) > 60
    text = httpx.get(f"{server.url}/metrics").text
    assert "mlyard_endpoint_invocations_total" in text
    time.sleep(1.0)  # the monitor samples replica CPU and memory every 0.3 s
    for gauge in ("CPUUtilization", "MemoryUtilization"):
        assert client.metrics("reviews", gauge, variant="B", period=60, stat="Maximum",
                              start=time.time() - 600), gauge


def test_bad_requests_change_nothing(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "guarded", [_variant("A", "bt-a", 1), _variant("B", "bt-b", 1)])
    url = "/endpoints/guarded/invocations"
    with httpx.Client(base_url=server.url) as http:
        cases = [
            (http.post(url, content=b"{not json",
                       headers={"content-type": "application/json"}), 400),
            (http.post(url, content=b"x", headers={"content-type": "image/png"}), 415),
            (http.post(url, content=b"x" * 300_000, headers={"content-type": "text/plain"}),
             413),
            (http.post("/endpoints/nope/invocations", json=REVIEW), 404),
            (http.post(url, json=REVIEW, headers={"X-Amzn-SageMaker-Target-Variant": "Z"}),
             400),
        ]
    for response, status in cases:
        assert response.status_code == status, response.text
        assert "ErrorCode" in response.json() and response.json()["Message"]
    before = client.describe_endpoint("guarded")
    for desired, message in (
            ([{"VariantName": "A", "DesiredWeight": -1}], ">= 0"),
            ([{"VariantName": "A", "DesiredWeight": 0}, {"VariantName": "B", "DesiredWeight": 0}],
             "above 0"),
            ([{"VariantName": "Z", "DesiredWeight": 1}], "no variant"),
            ([{"VariantName": "A", "DesiredInstanceCount": 99}], "1..16"),
            ([{"VariantName": "A", "DesiredWeight": 5},
              {"VariantName": "B", "DesiredInstanceCount": 0}], "1..16")):
        with pytest.raises(ValidationError, match=message):
            client.update_weights_and_capacities("guarded", desired)
    assert client.describe_endpoint("guarded")["ProductionVariants"] == \
        before["ProductionVariants"]
    with pytest.raises(ValidationError, match="at least one production variant needs a weight"):
        client.create_endpoint_config({"EndpointConfigName": "x", "ProductionVariants": [
            _variant("A", "bt-a", 0)]})
    with pytest.raises(NotFoundError, match="no model named 'no-such-model'"):
        client.create_endpoint_config({"EndpointConfigName": "x", "ProductionVariants": [
            _variant("A", "no-such-model")]})
    with pytest.raises(ConflictError, match="an endpoint named 'guarded' already exists"):
        client.create_endpoint("guarded", "guarded-cfg")
    client.delete_endpoint("guarded")
    with pytest.raises(NotFoundError, match="no endpoint named 'guarded'"):
        client.describe_endpoint("guarded")


def test_killed_replica_loses_no_request(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "sturdy", [_variant("A", "bt-a", 1, replicas=2)])
    before = {r["pid"] for r in
              client.describe_endpoint("sturdy")["ProductionVariants"][0]["Replicas"]}
    assert len(before) == 2 and before <= set(server.replica_pids())
    results: list[int] = []
    workers = [threading.Thread(target=_load, args=(server.url, "sturdy", 3.0, results))
               for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    for w in workers:
        w.join()
    assert results and set(results) == {200}, Counter(results)
    deadline = time.monotonic() + 30
    while client.describe_endpoint("sturdy")["ProductionVariants"][0][
            "HealthyInstanceCount"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert victim not in server.replica_pids()
    replicas = client.describe_endpoint("sturdy")["ProductionVariants"][0]["Replicas"]
    assert len(replicas) == 2 and sum(r["restarts"] for r in replicas) == 1
    assert all(r["rss_bytes"] > 0 for r in replicas)
    client.delete_endpoint("sturdy")


def test_autoscaling_scales_out_under_light_load(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "scaled", [_variant("A", "bt-a", 1)])
    client.put_scaling_policy("scaled", "A", {
        "TargetValue": 2.0, "MinCapacity": 1, "MaxCapacity": 2, "ScaleOutCooldown": 0,
        "ScaleInCooldown": 300, "EvaluationSeconds": 2})
    stop = threading.Event()
    results: list[int] = []
    loader = threading.Thread(target=_load, args=(server.url, "scaled", 20.0, results, stop))
    loader.start()
    try:
        deadline = time.monotonic() + 20
        while not (activities := client.scaling_activities("scaled")):
            assert time.monotonic() < deadline, "did not scale out"
            time.sleep(0.2)
    finally:
        stop.set()
        loader.join()
    variant = client.describe_endpoint("scaled")["ProductionVariants"][0]
    assert variant["CurrentInstanceCount"] == variant["HealthyInstanceCount"] == 2
    assert activities[0]["from_replicas"] == 1 and activities[0]["to_replicas"] == 2
    assert "target tracking" in activities[0]["cause"]
    assert set(results) == {200}
    client.delete_endpoint("scaled")


def test_shadow_capture_and_ab_report(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "shadowed", [_variant("A", "bt-a", 1), _variant("B", "bt-b", 1)],
            ShadowProductionVariant={"VariantName": "S", "ModelName": "bt-c",
                                     "SamplingPercentage": 100},
            DataCaptureConfig={"enabled": True, "sampling_percentage": 100})
    truth: dict[str, str] = {}
    for i in range(60):
        text = ["love perfect beautiful", "awful ripped cheap"][i % 2]
        _, headers = client.invoke("shadowed", {"instances": [text]})
        assert headers["x-amzn-invoked-production-variant"] in {"A", "B"}
        truth[headers["x-mlyard-event-id"]] = ["pos", "neg"][i % 2]
    time.sleep(1.5)  # shadow calls and capture flushes run in the background
    shadow_calls = client.metrics("shadowed", "Invocations", variant="S", period=3600,
                                  start=time.time() - 600)
    assert sum(p["Value"] for p in shadow_calls) >= 50
    agreement = client.metrics("shadowed", "ShadowAgreement", variant="S", period=3600,
                               stat="Average", start=time.time() - 600)
    assert agreement and agreement[0]["Value"] > 0.9
    files = list((server.settings.home / "datacapture" / "shadowed").rglob("*.jsonl"))
    record = json.loads(files[0].read_text().splitlines()[0])
    assert record["captureData"]["endpointInput"]["mode"] == "INPUT"
    assert record["eventMetadata"]["eventId"] in truth
    report = client.ab_report("shadowed", truth)
    text = json.dumps(report)
    assert "A" in text and "B" in text and "accuracy" in text.lower()
    assert "<html" in client.ab_report("shadowed", truth, html=True).lower()
    client.delete_endpoint("shadowed")


def test_blue_green_canary_and_rollback(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "bluegreen", [_variant("A", "bt-a", 1)])
    client.create_endpoint_config({"EndpointConfigName": "bg-good",
                                   "ProductionVariants": [_variant("A", "bt-b", 1)]})
    client.update_endpoint("bluegreen", "bg-good", {
        "TrafficRoutingConfiguration": {"Type": "Canary", "CanarySize": 50,
                                        "WaitIntervalInSeconds": 1.0},
        "AutoRollbackConfiguration": {"MaxErrorRate": 0.1}})
    results: list[int] = []
    _load(server.url, "bluegreen", 1.5, results)
    deadline = time.monotonic() + 30
    while (desc := client.describe_endpoint("bluegreen"))["EndpointStatus"] != "InService":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert desc["EndpointConfigName"] == "bg-good"
    assert desc["LastDeployment"]["status"] == "Completed"
    assert [s["fraction"] for s in desc["LastDeployment"]["steps"]] == [0.5, 1.0]
    assert desc["ProductionVariants"][0]["ModelName"] == "bt-b"
    assert set(results) == {200}

    client.create_endpoint_config({"EndpointConfigName": "bg-bad",
                                   "ProductionVariants": [_variant("A", "bad-model", 1)]})
    client.update_endpoint("bluegreen", "bg-bad", {
        "TrafficRoutingConfiguration": {"Type": "Linear", "LinearStepSize": 50,
                                        "WaitIntervalInSeconds": 5.0},
        "AutoRollbackConfiguration": {"MaxErrorRate": 0.05, "MinInvocations": 3}})
    results = []
    _load(server.url, "bluegreen", 2.0, results)
    deadline = time.monotonic() + 30
    while (desc := client.describe_endpoint("bluegreen"))["EndpointStatus"] != "InService":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert desc["EndpointConfigName"] == "bg-good"
    assert desc["LastDeployment"]["status"] == "RolledBack"
    assert "error rate" in desc["FailureReason"]
    assert all(client.invoke("bluegreen", REVIEW)[0] for _ in range(5))


def test_server_restart_restores_endpoints(env: tuple[Server, EndpointsClient]) -> None:
    server, client = env
    _create(client, "durable", [_variant("A", "bt-a", 1), _variant("B", "bt-b", 3)])
    client.update_weights_and_capacities("durable", [{"VariantName": "A", "DesiredWeight": 7}])
    client.create_endpoint_config({"EndpointConfigName": "durable-next",
                                   "ProductionVariants": [_variant("A", "bt-c", 1)]})
    client.update_endpoint("durable", "durable-next", {  # still baking when the server stops
        "TrafficRoutingConfiguration": {"Type": "Canary", "CanarySize": 10,
                                        "WaitIntervalInSeconds": 600}})
    replicas = server.replica_pids()
    assert len(replicas) >= 2
    server.stop()
    time.sleep(0.5)
    assert not [p for p in replicas if psutil.pid_exists(p)
                and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    client2 = server.start()
    from mlyard.sdk.endpoints import wait_for_endpoint

    desc = wait_for_endpoint(client2, "durable", timeout=120)
    weights = {v["VariantName"]: v["CurrentWeight"] for v in desc["ProductionVariants"]}
    assert weights == {"A": 7.0, "B": 3.0}
    assert desc["EndpointConfigName"] == "durable-cfg"
    assert desc["LastDeployment"]["status"] == "Interrupted"
    assert json.loads(client2.invoke("durable", REVIEW)[0])[0]["label"] == ["pos"]
    env_client = env[1]
    env_client.close()  # its connections went to the stopped server
    env_client.__init__(client2.url)  # type: ignore[misc]  # later tests share env's client
    client2.close()


def test_boto3_sagemaker_runtime_client_works_unchanged(
        env: tuple[Server, EndpointsClient]) -> None:
    """SageMaker Runtime client code with only the endpoint URL changed."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed")
    from botocore.exceptions import ClientError

    server, client = env
    _create(client, "boto", [_variant("A", "bt-a", 1), _variant("B", "bt-b", 1)])
    runtime = boto3.client("sagemaker-runtime", endpoint_url=server.url,
                           region_name="us-east-1", aws_access_key_id="local",
                           aws_secret_access_key="local")
    response = runtime.invoke_endpoint(EndpointName="boto", ContentType="application/json",
                                       Accept="application/json", TargetVariant="B",
                                       Body=json.dumps(REVIEW))
    assert response["InvokedProductionVariant"] == "B"
    assert [p["label"][0] for p in json.loads(response["Body"].read())] == ["pos", "neg"]
    with pytest.raises(ClientError, match="malformed JSON") as err:
        runtime.invoke_endpoint(EndpointName="boto", ContentType="application/json",
                                Body=b"{broken")
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    client.delete_endpoint("boto")
