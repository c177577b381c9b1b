"""HTTP client of the server's endpoint API; raises mlyard errors for error responses.

An error response carries ``{"ErrorCode": code, "Message": message}``; the client raises the
class of :mod:`mlyard.errors` whose ``code`` that is (:func:`mlyard.errors.error_class`), so
a subclass (``UnsupportedMediaType``, ``NotAcceptable``, ...) comes back as itself whatever
status it was sent with. A body that is not such JSON (a proxy's page, a server still
starting, anything without a string ``ErrorCode``) raises
:class:`~mlyard.errors.ServiceUnavailable` for 429/502/503/504 and
:class:`~mlyard.errors.MlyardError` otherwise.

The client sends an API token as ``Authorization: Bearer <token>`` when it has one: the
``token`` argument, else the ``MLYARD_TOKEN`` environment variable (how the CLI and the SDK
get it). A server bound beyond loopback, or run with ``MLYARD_REQUIRE_TOKEN=1``, refuses
requests without a valid one (401).
"""

from __future__ import annotations

import json
import os
import weakref
from typing import Any

import httpx

from mlyard.errors import MlyardError, ServiceUnavailable, error_class

#: The environment variable a client reads its API token from.
TOKEN_ENV = "MLYARD_TOKEN"

#: Statuses of a non-JSON error response that mean "try again later".
_UNAVAILABLE = frozenset({429, 502, 503, 504})


def error_from_response(response: httpx.Response) -> MlyardError | None:
    """The mlyard error an error response stands for (None below status 400)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("ErrorCode"), str):
        code = body["ErrorCode"]
        return error_class(code)(f"{code}: {body.get('Message', '')}")
    cls = ServiceUnavailable if response.status_code in _UNAVAILABLE else MlyardError
    return cls(response.text[:500])


def raise_for_error(response: httpx.Response) -> None:
    """Raise the mlyard error matching an error response."""
    error = error_from_response(response)
    if error is not None:
        raise error


class EndpointsClient:
    """The control and data plane of one server (``url`` like ``http://127.0.0.1:8080``)."""

    def __init__(self, url: str, timeout: float = 60.0, token: str | None = None) -> None:
        self.url = url.rstrip("/")
        token = token if token is not None else os.environ.get(TOKEN_ENV, "").strip()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
        # a client dropped without close() still returns its pooled sockets
        self._finalizer = weakref.finalize(self, self.http.close)

    def close(self) -> None:
        self._finalizer()

    def __enter__(self) -> EndpointsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, payload: Any = None,
              params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.http.request(method, path, json=payload, params=params)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"cannot reach mlyard server at {self.url}: {exc}") \
                from None
        raise_for_error(response)
        return response.json() if response.content else None

    def create_endpoint_config(self, spec: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/api/endpoint-configs", spec)  # type: ignore[no-any-return]

    def create_endpoint(self, name: str, config_name: str) -> dict[str, Any]:
        return self._call("POST", "/api/endpoints",  # type: ignore[no-any-return]
                          {"EndpointName": name, "EndpointConfigName": config_name})

    def describe_endpoint(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/api/endpoints/{name}")  # type: ignore[no-any-return]

    def list_endpoints(self) -> list[dict[str, Any]]:
        return self._call("GET", "/api/endpoints")  # type: ignore[no-any-return]

    def update_endpoint(self, name: str, config_name: str,
                        deployment: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("PUT", f"/api/endpoints/{name}",  # type: ignore[no-any-return]
                          {"EndpointConfigName": config_name, "DeploymentConfig": deployment})

    def delete_endpoint(self, name: str) -> None:
        self._call("DELETE", f"/api/endpoints/{name}")

    def update_weights_and_capacities(self, name: str,
                                      desired: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("POST", f"/api/endpoints/{name}/weights",  # type: ignore[no-any-return]
                          {"DesiredWeightsAndCapacities": desired})

    def metrics(self, name: str, metric: str, *, variant: str | None = None,
                period: float = 60, stat: str = "Sum", start: float | None = None,
                end: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"metric": metric, "period": period, "stat": stat}
        for key, value in (("variant", variant), ("start", start), ("end", end)):
            if value is not None:
                params[key] = value
        return self._call("GET", f"/api/endpoints/{name}/metrics",  # type: ignore[no-any-return]
                          params=params)["Datapoints"]

    def put_scaling_policy(self, name: str, variant: str,
                           policy: dict[str, Any]) -> dict[str, Any]:
        return self._call(  # type: ignore[no-any-return]
            "PUT", f"/api/endpoints/{name}/variants/{variant}/scaling-policy", policy)

    def delete_scaling_policy(self, name: str, variant: str) -> None:
        self._call("DELETE", f"/api/endpoints/{name}/variants/{variant}/scaling-policy")

    def scaling_activities(self, name: str) -> list[dict[str, Any]]:
        return self._call(  # type: ignore[no-any-return]
            "GET", f"/api/endpoints/{name}/scaling-activities")

    def ab_report(self, name: str, ground_truth: dict[str, str] | None = None,
                  html: bool = False) -> Any:
        params = {"format": "html"} if html else None
        response = self.http.post(f"/api/endpoints/{name}/ab-report",
                                  json={"GroundTruth": ground_truth}, params=params)
        raise_for_error(response)
        return response.text if html else response.json()

    def invoke(self, name: str, body: bytes | str | Any, *,
               content_type: str = "application/json", accept: str = "application/json",
               target_variant: str | None = None,
               inference_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        """InvokeEndpoint: the response body and headers."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type, "Accept": accept}
        if target_variant:
            headers["X-Amzn-SageMaker-Target-Variant"] = target_variant
        if inference_id:
            headers["X-Amzn-SageMaker-Inference-Id"] = inference_id
        try:
            response = self.http.post(f"/endpoints/{name}/invocations", content=data,
                                      headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"cannot reach mlyard server at {self.url}: {exc}") \
                from None
        raise_for_error(response)
        return response.content, dict(response.headers)
