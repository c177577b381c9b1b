"""The access guard's decisions (:mod:`mlyard.server.guard`), request by request, and a
property test: whatever the headers, the guard either lets a request through or refuses it
with one of its documented statuses, and never lets a foreign Host, a foreign Origin or a
non-JSON control body through."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlyard.server.guard import (
    AccessPolicy,
    Refusal,
    TokenVerifier,
    check_request,
    is_loopback,
    split_host,
)
from mlyard.serving.token_store import TokenRecord, token_digest

LOOPBACK = AccessPolicy.for_bind("127.0.0.1")
TOKEN = "mly_" + "a" * 43
RECORDS = [TokenRecord("ci", token_digest(TOKEN), 0.0)]


def _verifier(records: list[TokenRecord] | None = None) -> TokenVerifier:
    return TokenVerifier(lambda: list(RECORDS if records is None else records))


def _check(headers: Mapping[str, str], method: str = "GET", path: str = "/api/endpoints",
           policy: AccessPolicy = LOOPBACK) -> str | None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return check_request(policy, _verifier(), method, path, raw)


def _status(headers: Mapping[str, str], method: str = "GET", path: str = "/api/endpoints",
            policy: AccessPolicy = LOOPBACK) -> int:
    try:
        _check(headers, method, path, policy)
    except Refusal as refusal:
        return refusal.status
    return 200


def test_host_allow_list() -> None:
    for host in ("localhost", "localhost:8080", "127.0.0.1:1", "[::1]:8080", "LOCALHOST"):
        assert _status({"Host": host}) == 200, host
    assert _status({"Host": "evil.example"}) == 421
    assert _status({"Host": "evil.example:8080"}) == 421
    assert _status({"Host": "127.0.0.2"}) == 421  # only the names, not the whole /8
    assert _status({}) == 400
    assert _status({"Host": "a b"}) == 400
    assert _status({"Host": "[::1"}) == 400
    assert _status({"Host": "localhost:http"}) == 400
    custom = AccessPolicy.for_bind("127.0.0.1", extra_hosts=["mlyard.internal"])
    assert _status({"Host": "mlyard.internal:80"}, policy=custom) == 200
    anything = AccessPolicy.for_bind("127.0.0.1", extra_hosts=["*"])
    assert _status({"Host": "whatever.example"}, policy=anything) == 200
    bound = AccessPolicy.for_bind("10.1.2.3")
    assert _status({"Host": "10.1.2.3:8080", "Authorization": f"Bearer {TOKEN}"},
                   policy=bound) == 200


def test_cross_origin_requests_are_refused() -> None:
    host = {"Host": "127.0.0.1:8080"}
    assert _status({**host, "Origin": "http://evil.example"}) == 403
    assert _status({**host, "Origin": "null"}) == 403
    assert _status({**host, "Origin": "http://127.0.0.1:9999"}) == 403
    assert _status({**host, "Origin": "http://127.0.0.1:8080"}) == 200
    assert _status({**host, "Sec-Fetch-Site": "cross-site"}) == 403
    assert _status({**host, "Sec-Fetch-Site": "same-site"}) == 403
    assert _status({**host, "Sec-Fetch-Site": "same-origin"}) == 200
    assert _status({**host, "Sec-Fetch-Site": "none"}) == 200  # typed in the address bar
    allowed = AccessPolicy.for_bind("127.0.0.1", extra_origins=["http://localhost:3000/"])
    assert _status({**host, "Origin": "http://localhost:3000", "Sec-Fetch-Site": "same-site"},
                   policy=allowed) == 200


def test_control_bodies_must_be_json() -> None:
    host = {"Host": "localhost"}
    json_ct = {**host, "Content-Type": "application/json; charset=utf-8"}
    for method in ("POST", "PUT", "PATCH"):
        assert _status(json_ct, method) == 200
        assert _status({**host, "Content-Type": "text/plain"}, method) == 415
        assert _status(host, method) == 415
    assert _status({**host, "Content-Type": "multipart/form-data; boundary=x"}, "POST") == 415
    assert _status(host, "DELETE") == 200  # no body, no type needed
    assert _status({**host, "Content-Length": "2", "Content-Type": "text/plain"},
                   "DELETE") == 415
    assert _status({**host, "Content-Type": "text/csv"}, "POST",
                   "/endpoints/e/invocations") == 200
    assert _status(host, "POST", "/endpoints/e/invocations") == 200


def test_tokens() -> None:
    host = {"Host": "localhost"}
    required = AccessPolicy.for_bind("127.0.0.1", require_token=True)
    assert _status(host, policy=required) == 401
    assert _status(host, path="/ping", policy=required) == 200
    assert _check({**host, "Authorization": f"Bearer {TOKEN}"}, policy=required) == "ci"
    assert _check({**host, "Authorization": f"bearer  {TOKEN} "}, policy=required) == "ci"
    assert _status({**host, "Authorization": f"Bearer {TOKEN}x"}, policy=required) == 401
    assert _status({**host, "Authorization": "Basic dTpw"}, policy=required) == 401
    assert _status({**host, "Authorization": "Bearer"}, policy=required) == 401
    # optional on loopback, but a token sent must be valid; other schemes (AWS SigV4 of
    # boto3's sagemaker-runtime client) are no token at all
    assert _check(host) is None
    assert _check({**host, "Authorization": "AWS4-HMAC-SHA256 Credential=x/y"}) is None
    assert _status({**host, "Authorization": "Bearer nope"}) == 401
    # beyond loopback tokens are always required
    assert AccessPolicy.for_bind("0.0.0.0").require_token
    assert AccessPolicy.for_bind("192.168.1.5").require_token
    assert not AccessPolicy.for_bind("::1").require_token
    assert AccessPolicy.from_env("127.0.0.1", {"MLYARD_REQUIRE_TOKEN": "1"}).require_token
    assert not AccessPolicy.from_env("127.0.0.1", {}).require_token


def test_verifier_rereads_the_store() -> None:
    now = [0.0]
    records: list[TokenRecord] = []
    loads = []

    def load() -> list[TokenRecord]:
        loads.append(now[0])
        return list(records)

    verifier = TokenVerifier(load, ttl=1.0, miss_ttl=0.2, clock=lambda: now[0])
    assert verifier.verify(TOKEN) is None
    records.append(RECORDS[0])
    assert verifier.verify(TOKEN) is None  # the miss re-read is rate limited
    now[0] = 0.25
    assert verifier.verify(TOKEN) == "ci"  # a new token: found on a miss
    count = len(loads)
    for _ in range(100):
        assert verifier.verify("mly_bad") is None  # bad tokens do not hammer the store
    assert len(loads) == count
    records.clear()
    now[0] = 1.0
    assert verifier.verify(TOKEN) == "ci"  # revoked, but cached for up to ttl
    now[0] = 1.3
    assert verifier.verify(TOKEN) is None


def test_helpers() -> None:
    assert split_host("[::1]:80") == ("::1", "80")
    assert split_host("Example.COM") == ("example.com", None)
    assert split_host("[zz]:80") is None and split_host("a:1:2") is None
    assert is_loopback("127.0.0.5") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")


_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
_HEADERS = st.dictionaries(
    st.sampled_from(["host", "origin", "sec-fetch-site", "content-type", "authorization",
                     "content-length", "transfer-encoding", "x-other"]),
    st.one_of(_TEXT, st.sampled_from(["localhost", "127.0.0.1:8080", "[::1]:1", "evil.example",
                                      "http://evil.example", "http://127.0.0.1:8080",
                                      "application/json", "text/plain", "cross-site",
                                      f"Bearer {TOKEN}", "Bearer x", "0", "12", "chunked"])))


@settings(max_examples=400, deadline=None)
@given(headers=_HEADERS, method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
       path=st.sampled_from(["/ping", "/api/endpoints", "/api/endpoints/x/weights",
                             "/endpoints/x/invocations", "/api/jobs"]),
       required=st.booleans())
def test_guard_decisions_hold_for_any_headers(headers: dict[str, str], method: str,
                                              path: str, required: bool) -> None:
    policy = AccessPolicy.for_bind("127.0.0.1", require_token=required)
    try:
        _check(headers, method, path, policy)
    except Refusal as refusal:
        assert refusal.status in (400, 401, 403, 415, 421) and refusal.message
        return
    host = split_host(headers["host"])
    assert host is not None and host[0] in policy.allowed_hosts
    origin = headers.get("origin")
    own = headers["host"].strip().lower()
    assert origin is None or origin.strip().rstrip("/").lower() in (f"http://{own}",
                                                                    f"https://{own}")
    assert headers.get("sec-fetch-site", "").strip().lower() not in ("cross-site",
                                                                      "same-site")
    if required and path != "/ping":
        auth = headers.get("authorization", "").split()
        assert auth[0].lower() == "bearer" and auth[-1] == TOKEN
    if method in ("POST", "PUT", "PATCH") and "invocations" not in path:
        assert headers["content-type"].split(";")[0].strip().lower() == "application/json"


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8080", "HTTP://127.0.0.1:8080/"])
def test_own_origin_in_any_case(origin: str) -> None:
    assert _status({"Host": "127.0.0.1:8080", "Origin": origin}) == 200
