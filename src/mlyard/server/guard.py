"""Who may call the server: the checks every HTTP request passes before any route runs.

The server listens on 127.0.0.1 by default, so any process of the machine can reach it,
and so can any web page a local browser shows (a form post or ``fetch`` to
``http://127.0.0.1:8080``, or a name the attacker's DNS resolves to 127.0.0.1). These
checks refuse such requests, in this order, before the body is read:

1. **Host** (DNS rebinding): the ``Host`` header must name an allowed host (421
   ``MisdirectedRequest``; 400 when missing, repeated or malformed). Allowed: the loopback
   names ``localhost``, ``127.0.0.1`` and ``[::1]`` (any port), the address the server is
   bound to, for a wildcard bind (``0.0.0.0``, ``::``) the machine's host name, and the names
   in ``MLYARD_ALLOWED_HOSTS`` (comma-separated; ``*`` allows any).
2. **Browser origin** (CSRF): a request carrying an ``Origin`` header is refused (403
   ``AccessDenied``) unless the origin is the server's own (``http://<the Host header>``)
   or listed in ``MLYARD_ALLOWED_ORIGINS``; a request a browser marks
   ``Sec-Fetch-Site: cross-site`` or ``same-site`` (another port of the same host is
   another origin) is refused unless its origin is listed there. Command-line clients,
   the SDK and ``curl`` send neither header.
3. **Token**: ``Authorization: Bearer <token>`` naming a token made with
   ``mlyard tokens create``. Required (401 without one or with a bad one) when the policy
   says so: the server listens on anything but loopback, or ``MLYARD_REQUIRE_TOKEN=1``;
   ``/ping`` stays open (a health check says only that the server is up and how many
   endpoints it has). Otherwise optional, but a bearer token that is sent must be valid
   (401). Other ``Authorization`` schemes (the SigV4 signature of boto3's
   ``sagemaker-runtime`` client) are ignored, as if absent.
4. **JSON only on the control plane**: ``POST``, ``PUT``, ``PATCH`` (and ``DELETE`` with a
   body) to any route but ``/endpoints/{name}/invocations`` must be
   ``Content-Type: application/json`` (415 ``UnsupportedMediaType``). A browser cannot send
   that type cross-origin without a CORS preflight, which the server never grants.
   Invocations keep their payload types (JSON, JSON Lines, CSV, text, NPY).

Refusals are the server's usual error JSON (``{"ErrorCode", "Message"}`` with
``x-amzn-ErrorType``) and close the connection, as does any 413 (a body cut at its limit
is not drained). The guard is a plain ASGI middleware: it reads only headers, never
the body, and for a loopback server without a token in the request it does no store
lookups, so invocations pay a few header comparisons.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlyard.serving.token_store import TokenRecord, match_token

#: Host names that always reach the server from this machine only.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: Bind addresses that listen on every interface.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
#: Methods whose requests carry a body on the control plane.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The data-plane route, whose payload types are the model's business.
INVOCATION_PATH = re.compile(r"^/endpoints/[^/]+/invocations$")
#: Routes open without a token even when tokens are required.
OPEN_PATHS = frozenset({"/ping"})
#: Statuses any route may answer because of the guard (documented in OpenAPI).
GUARD_STATUSES = (400, 401, 403, 421)
#: What a media type of a control-plane body must be.
JSON_MEDIA = "application/json"

_TRUE = frozenset({"1", "true", "yes", "on"})
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,252})$")


def is_loopback(host: str) -> bool:
    """Whether a bind host or host name reaches only this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, str | None] | None:
    """``(host, port)`` of a ``Host`` header or an origin's authority (IPv6 in brackets,
    host lower-cased); None when malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[1:end], text[end + 1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] if rest else None
    else:
        host, sep, port_text = text.partition(":")
        port = port_text if sep else None
        if not _HOST_NAME.fullmatch(host):
            return None
    if port is not None and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    return host, port


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


@dataclass(frozen=True)
class AccessPolicy:
    """What the guard allows (see the module docstring)."""

    #: Host names (lower-case, IPv6 without brackets, no port); ``*`` allows any.
    allowed_hosts: frozenset[str] = LOOPBACK_NAMES
    #: Browser origins allowed besides the server's own (``http://host:port``).
    allowed_origins: frozenset[str] = field(default_factory=frozenset)
    #: Whether every route but :data:`OPEN_PATHS` needs a valid bearer token.
    require_token: bool = False

    @classmethod
    def for_bind(cls, host: str, *, extra_hosts: Iterable[str] = (),
                 extra_origins: Iterable[str] = (), require_token: bool = False
                 ) -> AccessPolicy:
        """The policy of a server bound to ``host``: loopback names, the bind address
        (the machine's names for a wildcard bind) and ``extra_hosts``; tokens required
        when ``host`` is not loopback or ``require_token``."""
        hosts = set(LOOPBACK_NAMES)
        bind = host.strip("[]").lower()
        if bind in WILDCARD_HOSTS:
            # the host name only: getfqdn() may wait on DNS at start
            hosts.update(n.lower() for n in (socket.gethostname(),) if n)
        else:
            hosts.add(bind)
        hosts.update(h.strip("[]").lower() for h in extra_hosts)
        origins = frozenset(o.rstrip("/").lower() for o in extra_origins)
        return cls(frozenset(hosts), origins, require_token or not is_loopback(host))

    @classmethod
    def from_env(cls, host: str, env: Mapping[str, str] | None = None) -> AccessPolicy:
        """:meth:`for_bind` with ``MLYARD_ALLOWED_HOSTS``, ``MLYARD_ALLOWED_ORIGINS`` and
        ``MLYARD_REQUIRE_TOKEN`` from the environment."""
        env = os.environ if env is None else env
        return cls.for_bind(host, extra_hosts=_names(env.get("MLYARD_ALLOWED_HOSTS")),
                            extra_origins=_names(env.get("MLYARD_ALLOWED_ORIGINS")),
                            require_token=env.get("MLYARD_REQUIRE_TOKEN", "").strip().lower()
                            in _TRUE)

    def host_allowed(self, host: str) -> bool:
        return "*" in self.allowed_hosts or host in self.allowed_hosts


class TokenVerifier:
    """Checks bearer tokens against the stored digests, re-read at most every ``ttl``
    seconds (a revoked token stops working within ``ttl``), and at most every
    ``miss_ttl`` seconds when a token matches nothing (a new token works within
    ``miss_ttl``; bad tokens cannot make the server read the store more often)."""

    def __init__(self, load: Callable[[], list[TokenRecord]], ttl: float = 1.0,
                 miss_ttl: float = 0.2, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self._clock = clock
        self._records: list[TokenRecord] = []
        self._loaded_at = -float("inf")

    def _refresh(self, max_age: float) -> None:
        now = self._clock()
        if now - self._loaded_at >= max_age:
            self._records = self._load()
            self._loaded_at = now

    def verify(self, token: str) -> str | None:
        """The name of the token ``token`` is, or None."""
        self._refresh(self.ttl)
        name = match_token(token, self._records)
        if name is None:
            self._refresh(self.miss_ttl)
            name = match_token(token, self._records)
        return name


class Refusal(Exception):
    """A request the guard refuses: status, ErrorCode and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _has_body(headers: Mapping[str, str]) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


def check_request(policy: AccessPolicy, verifier: TokenVerifier | None, method: str,
                  path: str, raw_headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """Raise :class:`Refusal` for a request the policy refuses; else the name of the token
    it carried (None without one)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode("latin-1").lower()
        if name in headers and name in ("host", "authorization", "origin", "content-type"):
            raise Refusal(400, "ValidationError", f"header {name!r} is given more than once")
        headers[name] = raw_value.decode("latin-1")
    # 1. Host
    host_header = headers.get("host")
    if host_header is None:
        raise Refusal(400, "ValidationError", "the request has no Host header")
    parsed = split_host(host_header)
    if parsed is None:
        raise Refusal(400, "ValidationError", f"Host header {host_header[:100]!r} is malformed")
    if not policy.host_allowed(parsed[0]):
        raise Refusal(421, "MisdirectedRequest",
                      f"host {parsed[0][:100]!r} is not one this server answers for; allowed: "
                      f"{', '.join(sorted(policy.allowed_hosts))} (add names to "
                      "MLYARD_ALLOWED_HOSTS)")
    # 2. browser origin
    origin = headers.get("origin")
    if origin is not None:
        key = origin.strip().rstrip("/").lower()
        own = {f"http://{host_header.strip().lower()}", f"https://{host_header.strip().lower()}"}
        if key not in policy.allowed_origins and key not in own:
            raise Refusal(403, "AccessDenied",
                          f"cross-origin request from {origin[:100]!r} refused (allow an origin "
                          "with MLYARD_ALLOWED_ORIGINS)")
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in ("cross-site", "same-site") and (
            origin is None or origin.strip().rstrip("/").lower() not in policy.allowed_origins):
        raise Refusal(403, "AccessDenied",
                      f"{site} browser request refused (allow an origin with "
                      "MLYARD_ALLOWED_ORIGINS)")
    # 3. token
    token_name = None
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        if not token.strip():
            raise Refusal(401, "MissingAuthenticationToken",
                          "the Authorization header must be 'Bearer <token>'")
        token_name = verifier.verify(token.strip()) if verifier is not None else None
        if token_name is None:
            raise Refusal(401, "InvalidToken", "the bearer token is not valid (unknown or "
                          "revoked; see `mlyard tokens list`)")
    # other schemes (an AWS SDK's SigV4 signature) carry no mlyard token: as if absent
    elif policy.require_token and path not in OPEN_PATHS:
        raise Refusal(401, "MissingAuthenticationToken",
                      "this server requires a token: send 'Authorization: Bearer <token>' "
                      "(the CLI and SDK read MLYARD_TOKEN; make one with `mlyard tokens "
                      "create NAME`)")
    # 4. JSON on the control plane
    if method in BODY_METHODS and not INVOCATION_PATH.match(path) and (
            method != "DELETE" or _has_body(headers)):
        media = _media_type(headers.get("content-type"))
        if media != JSON_MEDIA:
            raise Refusal(415, "UnsupportedMediaType",
                          f"{method} {path[:100]} takes Content-Type: application/json, got "
                          f"{media[:100] or 'none'!r}")
    return token_name


async def _refuse(send: Callable[[dict[str, Any]], Any], refusal: Refusal) -> None:
    body = json.dumps({"ErrorCode": refusal.code, "Message": refusal.message}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode()),
               (b"x-amzn-errortype", refusal.code.encode())]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="mlyard"'))
    headers.append((b"connection", b"close"))  # do not drain a body nobody will read
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessGuard:
    """ASGI middleware applying :func:`check_request` to every HTTP request; the token's
    name (if any) goes into ``scope["state"]["token"]``."""

    def __init__(self, app: Any, policy: AccessPolicy,
                 verifier: TokenVerifier | None = None) -> None:
        self.app = app
        self.policy = policy
        self.verifier = verifier

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            token = check_request(self.policy, self.verifier, scope["method"], scope["path"],
                                  scope["headers"])
        except Refusal as refusal:
            await _refuse(send, refusal)
            return
        if token is not None:
            scope.setdefault("state", {})["token"] = token
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_closing(message: dict[str, Any]) -> None:
            # a body refused as too large is not read to its end: close the connection
            # instead of receiving (and discarding) the rest of the upload
            if message["type"] == "http.response.start" and message["status"] == 413:
                message = {**message, "headers": [*message.get("headers", ()),
                                                  (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, send_closing)
