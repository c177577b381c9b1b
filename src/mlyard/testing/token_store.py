"""Conformance suite of the API tokens' store domain
(:class:`mlyard.serving.token_store.TokenStore`)."""

from __future__ import annotations

from functools import partial

import pytest

from mlyard.core.stores import MetadataStore
from mlyard.errors import ConflictError, NotFoundError, ValidationError
from mlyard.serving.token_store import TokenStore, match_token, new_token, token_digest
from mlyard.testing.stores import StoreSuite, run_together


class TokenStoreConformance(StoreSuite):
    """API tokens: digests by unique name, listed oldest first, revoked by name."""

    @pytest.fixture
    def tokens(self, store: MetadataStore) -> TokenStore:
        return TokenStore.of(store)

    def test_create_list_revoke(self, tokens: TokenStore) -> None:
        first, second = new_token(), new_token()
        made = tokens.create_token("a-1", token_digest(first))
        assert made.name == "a-1" and made.digest == token_digest(first)
        tokens.create_token("b.2", token_digest(second))
        listed = tokens.list_tokens()
        assert [t.name for t in listed] == ["a-1", "b.2"] and listed[0] == made
        assert match_token(second, listed) == "b.2" and match_token("x", listed) is None
        with pytest.raises(ConflictError):
            tokens.create_token("a-1", token_digest(new_token()))
        tokens.revoke_token("a-1")
        assert [t.name for t in tokens.list_tokens()] == ["b.2"]
        with pytest.raises(NotFoundError):
            tokens.revoke_token("a-1")

    def test_bad_input_stores_nothing(self, tokens: TokenStore) -> None:
        with pytest.raises(ValidationError):
            tokens.create_token("no spaces", token_digest("t"))
        with pytest.raises(ValidationError):
            tokens.create_token("ok", "A" * 64)
        assert tokens.list_tokens() == []

    def test_concurrent_creates_of_one_name(self, tokens: TokenStore) -> None:
        results = run_together([partial(tokens.create_token, "same",
                                        token_digest(new_token())) for _ in range(6)])
        assert sum(not isinstance(r, Exception) for r in results) == 1
        assert all(isinstance(r, ConflictError) for r in results if isinstance(r, Exception))
        assert [t.name for t in tokens.list_tokens()] == ["same"]
