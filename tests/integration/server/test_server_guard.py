"""The access guard on a real server (issue 10, item 4): a local web page's requests
(foreign Host, foreign Origin, text/plain bodies) are refused before anything changes, and
API tokens are required when the server listens beyond loopback or is told to."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.serving.client import EndpointsClient
from mlyard.serving.store import EndpointStore
from tests.integration.server.serverproc import running_server, server_env

CONFIG = {"EndpointConfigName": "evil-cfg",
          "ProductionVariants": [{"VariantName": "A", "ModelName": "m"}]}
EVIL = {"Host": "evil.example", "Origin": "http://evil.example", "Content-Type": "text/plain"}


def _stored_configs(settings: Settings) -> list[str]:
    with Workspace(settings) as ws:
        return [c.name for c in EndpointStore.of(ws.store).list_endpoint_configs()]


def _code(response: httpx.Response) -> str:
    return str(response.json()["ErrorCode"])


def test_local_web_page_requests_change_nothing(settings: Settings, tmp_path: Path) -> None:
    from mlyard.testing.models import save_test_model

    with Workspace(settings) as ws:
        model_dir = save_test_model(tmp_path / "echo", "echo")
        ws.store.create_model("m", ws.artifacts.upload(model_dir, ws.artifacts.uri(
            "models", "m")), "test")
    with running_server(settings, tmp_path) as server, httpx.Client(base_url=server.url,
                                                                    timeout=30) as http:
        body = json.dumps(CONFIG)
        # DNS rebinding: the page's own name resolved to 127.0.0.1
        r = http.post("/api/endpoint-configs", content=body, headers=EVIL)
        assert r.status_code == 421 and _code(r) == "MisdirectedRequest"
        assert http.post("/api/endpoints/x/weights", content="{}", headers=EVIL
                         ).status_code == 421
        assert http.delete("/api/endpoints/x", headers=EVIL).status_code == 421
        # CSRF: a form or fetch from another origin, Host right
        cross = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
        r = http.post("/api/endpoint-configs", content=body, headers=cross)
        assert r.status_code == 403 and _code(r) == "AccessDenied"
        r = http.post("/api/endpoint-configs", content=body,
                      headers={"Origin": "http://localhost:3000",
                               "Content-Type": "application/json"})
        assert r.status_code == 403  # another port of localhost is another origin
        r = http.get("/api/endpoints", headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        r = http.post("/endpoints/e/invocations", content=b"a,b",
                      headers={"Origin": "http://evil.example", "Content-Type": "text/csv"})
        assert r.status_code == 403
        # a simple (preflight-free) content type on the control plane
        r = http.post("/api/endpoint-configs", content=body,
                      headers={"Content-Type": "text/plain"})
        assert r.status_code == 415 and _code(r) == "UnsupportedMediaType"
        r = http.post("/api/endpoint-configs", content=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 415
        assert _stored_configs(settings) == []
        # the server's own origin, a JSON body: accepted
        r = http.post("/api/endpoint-configs", content=body,
                      headers={"Origin": server.url, "Content-Type": "application/json"})
        assert r.status_code == 201, r.text
        assert _stored_configs(settings) == ["evil-cfg"]
        # invocations keep their payload types (no such endpoint: 404, not 415)
        r = http.post("/endpoints/nope/invocations", content=b"a,b",
                      headers={"Content-Type": "text/csv"})
        assert r.status_code == 404
        assert http.get("/ping", headers={"Host": "localhost"}).status_code == 200
        assert http.get("/ping", headers={"Host": "[::1]:1"}).status_code == 200


def test_tokens_required_when_asked(settings: Settings, tmp_path: Path) -> None:
    from mlyard.serving.token_store import TokenStore, new_token, token_digest

    token = new_token()
    with Workspace(settings) as ws:
        TokenStore.of(ws.store).create_token("ci", token_digest(token))
    env = {"MLYARD_REQUIRE_TOKEN": "1"}
    with running_server(settings, tmp_path, extra_env=env) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        assert http.get("/ping").status_code == 200  # health stays open
        r = http.get("/api/endpoints")
        assert r.status_code == 401 and _code(r) == "MissingAuthenticationToken"
        assert r.headers["www-authenticate"].startswith("Bearer")
        r = http.get("/api/endpoints", headers={"Authorization": f"Bearer {token}x"})
        assert r.status_code == 401 and _code(r) == "InvalidToken"
        r = http.post("/endpoints/e/invocations", content=b"[1]",
                      headers={"Content-Type": "application/json"})
        assert r.status_code == 401
        r = http.get("/api/endpoints", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401
        with EndpointsClient(server.url, token=token) as client:
            assert client.list_endpoints() == []
        # a token made while the server runs works within 0.2 s; a revoked one within 1 s
        second = new_token()
        with Workspace(settings) as ws:
            TokenStore.of(ws.store).create_token("later", token_digest(second))
        auth = {"Authorization": f"Bearer {second}"}
        time.sleep(0.25)
        assert http.get("/api/endpoints", headers=auth).status_code == 200
        with Workspace(settings) as ws:
            TokenStore.of(ws.store).revoke_token("later")
        deadline = time.monotonic() + 5
        while http.get("/api/endpoints", headers=auth).status_code != 401:
            assert time.monotonic() < deadline, "a revoked token still works"
            time.sleep(0.1)


def test_client_sends_mlyard_token(settings: Settings, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from mlyard.serving.token_store import TokenStore, new_token, token_digest

    token = new_token()
    with Workspace(settings) as ws:
        TokenStore.of(ws.store).create_token("env", token_digest(token))
    with running_server(settings, tmp_path, extra_env={"MLYARD_REQUIRE_TOKEN": "true"}
                        ) as server:
        monkeypatch.setenv("MLYARD_TOKEN", token)
        with EndpointsClient(server.url) as client:
            assert client.list_endpoints() == []
        monkeypatch.setenv("MLYARD_TOKEN", "mly_wrong")
        with EndpointsClient(server.url) as client, pytest.raises(Exception,
                                                                   match="InvalidToken"):
            client.list_endpoints()


@pytest.mark.parametrize("extra", [{}, {"MLYARD_REQUIRE_TOKEN": "1"}])
def test_open_server_without_a_token_is_refused(settings: Settings, tmp_path: Path,
                                                extra: dict[str, str]) -> None:
    args = ["--port", "0"] if extra else ["--host", "0.0.0.0", "--port", "0"]
    done = subprocess.run([sys.executable, "-m", "mlyard", "server", *args],
                          env=server_env(settings, extra), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0
    assert "requires an API token" in done.stderr and "mlyard tokens create" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (settings.home / "server.json").exists()


def test_wildcard_server_with_a_token(settings: Settings, tmp_path: Path) -> None:
    from mlyard.serving.token_store import TokenStore, new_token, token_digest

    token = new_token()
    with Workspace(settings) as ws:
        TokenStore.of(ws.store).create_token("net", token_digest(token))
    with running_server(settings, tmp_path, args=("--host", "0.0.0.0", "--port", "0")
                        ) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        assert server.url.startswith("http://127.0.0.1:")  # clients here use loopback
        assert "tokens required" in server.log_text()
        assert http.get("/api/endpoints").status_code == 401
        assert http.get("/api/endpoints", headers={"Authorization": f"Bearer {token}"}
                        ).status_code == 200
