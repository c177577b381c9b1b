"""The API tokens' store domain (:mod:`mlyard.serving.token_store`): digests only, names
unique, revocation, and the constant-time match."""

from __future__ import annotations

import sqlite3

import pytest

from mlyard.core.workspace import Workspace
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.serving.token_store import (
    TokenStore,
    check_token_name,
    match_token,
    new_token,
    token_digest,
)


def test_tokens_are_stored_as_digests(ws: Workspace) -> None:
    store = TokenStore.of(ws.store)
    token = new_token()
    assert token.startswith("mly_") and len(token) >= 40 and new_token() != token
    record = store.create_token("ci", token_digest(token))
    assert record.digest == token_digest(token) != token
    assert [r.name for r in store.list_tokens()] == ["ci"]
    assert match_token(token, store.list_tokens()) == "ci"
    assert match_token(token + "x", store.list_tokens()) is None
    with pytest.raises(ConflictError, match="'ci' exists"):
        store.create_token("ci", token_digest(new_token()))
    db = ws.settings.home / "mlyard.db"
    with sqlite3.connect(db) as conn:  # the token itself is nowhere in the database
        rows = conn.execute("SELECT name, digest FROM api_tokens").fetchall()
    conn.close()
    assert rows == [("ci", token_digest(token))]
    for path in ws.settings.home.glob("mlyard.db*"):
        assert token.encode() not in path.read_bytes()
    store.revoke_token("ci")
    assert store.list_tokens() == []
    with pytest.raises(NotFoundError, match="no token named 'ci'"):
        store.revoke_token("ci")


def test_bad_names_and_digests_are_refused(ws: Workspace) -> None:
    store = TokenStore.of(ws.store)
    for name in ("", "a b", "-x", "x" * 65, "ü"):
        with pytest.raises(ValidationError, match="token name"):
            check_token_name(name)
        with pytest.raises(ValidationError, match="token name"):
            store.create_token(name, token_digest("t"))
    with pytest.raises(ValidationError, match="64 lower-case hex"):
        store.create_token("ok", "not-a-digest")
    assert store.list_tokens() == []
