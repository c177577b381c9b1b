"""SQL implementation of the API tokens' store domain: table ``api_tokens`` (digests
only, never a token)."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.serving.token_store import TokenRecord, TokenStore, check_token_name

metadata = sa.MetaData()

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)


def _create_tables(conn: Connection) -> None:
    api_tokens.create(conn, checkfirst=True)


class SqlTokenStore(SqlDomain, TokenStore):
    """:class:`TokenStore` over SQLAlchemy Core."""

    migrations = (_create_tables,)

    def create_token(self, name: str, digest: str) -> TokenRecord:
        check_token_name(name)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValidationError("a token digest is 64 lower-case hex digits (SHA-256)")
        record = TokenRecord(name, digest, time.time())
        try:
            with self.db.transaction() as conn:
                conn.execute(api_tokens.insert().values(
                    name=name, digest=digest, created_at=record.created_at))
        except IntegrityError:
            raise ConflictError(f"a token named {name!r} exists; revoke it first or "
                                "choose another name") from None
        return record

    def list_tokens(self) -> list[TokenRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(sa.select(api_tokens).order_by(api_tokens.c.created_at,
                                                               api_tokens.c.name))
            return [TokenRecord(r.name, r.digest, r.created_at) for r in rows]

    def revoke_token(self, name: str) -> None:
        with self.db.transaction() as conn:
            deleted = conn.execute(api_tokens.delete().where(api_tokens.c.name == name))
        if deleted.rowcount == 0:
            raise NotFoundError(f"no token named {name!r}")
