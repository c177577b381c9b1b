"""``mlyard tokens create/list/revoke``: the token is printed once and never stored."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mlyard.cli.main import cli
from mlyard.config import Settings
from mlyard.core.workspace import Workspace
from mlyard.serving.token_store import TokenStore, match_token


def test_create_list_revoke(settings: Settings) -> None:
    runner = CliRunner()
    home = ["--home", str(settings.home)]
    created = runner.invoke(cli, [*home, "tokens", "create", "laptop"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("mly_") and "not shown again" in created.stderr
    listed = runner.invoke(cli, [*home, "tokens", "list"])
    assert listed.exit_code == 0 and "laptop" in listed.stdout and token not in listed.stdout
    as_json = json.loads(runner.invoke(cli, [*home, "tokens", "list", "--json"]).stdout)
    assert [t["Name"] for t in as_json] == ["laptop"] and token not in json.dumps(as_json)
    with Workspace(settings) as ws:
        records = TokenStore.of(ws.store).list_tokens()
        assert match_token(token, records) == "laptop" and records[0].digest != token
    again = runner.invoke(cli, [*home, "tokens", "create", "laptop"])
    assert again.exit_code != 0 and "exists" in str(again.exception or again.output)
    revoked = runner.invoke(cli, [*home, "tokens", "revoke", "laptop"])
    assert revoked.exit_code == 0 and "revoked laptop" in revoked.stdout
    missing = runner.invoke(cli, [*home, "tokens", "revoke", "laptop"])
    assert missing.exit_code != 0
    with Workspace(settings) as ws:
        assert TokenStore.of(ws.store).list_tokens() == []
