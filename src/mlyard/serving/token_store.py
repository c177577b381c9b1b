"""The API tokens of a workspace's server (store domain ``tokens``), and how a token is made
and checked.

A token is shown once, when ``mlyard tokens create NAME`` makes it; the store keeps only
its SHA-256 digest, so a copy of the database does not let anyone call the server. A token
is a ``secrets.token_urlsafe(32)`` string (256 random bits) with the prefix ``mly_`` (so
that secret scanners and people recognise it); with that much entropy an unsalted digest is
enough (nothing to brute-force). Presented tokens are compared digest against digest with
:func:`hmac.compare_digest`.

Reach the domain with ``TokenStore.of(ws.store)``; the SQL implementation is
:class:`mlyard.serving.token_store_sql.SqlTokenStore`. The server checks tokens through
:class:`mlyard.server.guard.TokenVerifier`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from mlyard.core.stores.domain import StoreDomain
from mlyard.errors import ValidationError

#: What a token's name may be: a short identifier of who or what uses it.
TOKEN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: Every token starts with this.
TOKEN_PREFIX = "mly_"


@dataclass(frozen=True)
class TokenRecord:
    """A stored API token: its name, the SHA-256 hex digest of the token, when made."""

    name: str
    digest: str
    created_at: float


def check_token_name(name: str) -> str:
    """``name`` if it is a valid token name; ValidationError naming the rule otherwise."""
    if not TOKEN_NAME.fullmatch(name):
        raise ValidationError(f"token name {name[:80]!r} must be 1-64 letters, digits, '_', "
                              "'.' or '-', starting with a letter or digit")
    return name


def new_token() -> str:
    """A fresh high-entropy token (``mly_`` + 43 URL-safe characters)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest a token is stored as."""
    return hashlib.sha256(token.encode("utf-8", errors="surrogateescape")).hexdigest()


def match_token(token: str, records: Iterable[TokenRecord]) -> str | None:
    """The name of the record whose digest is ``token``'s (constant-time per comparison),
    or None."""
    digest = token_digest(token)
    found = None
    for record in records:  # compare with every record: the time does not say which matched
        if hmac.compare_digest(record.digest, digest):
            found = record.name
    return found


class TokenStore(StoreDomain):
    """API tokens by name (digests only)."""

    @abstractmethod
    def create_token(self, name: str, digest: str) -> TokenRecord:
        """Store a token's digest under ``name``; ConflictError if the name exists."""

    @abstractmethod
    def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first."""

    @abstractmethod
    def revoke_token(self, name: str) -> None:
        """Delete the token ``name``; NotFoundError if there is none."""
