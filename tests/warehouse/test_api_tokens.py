"""Personal API tokens: shown once, stored as a hash, revocable by the owner or an administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from ringledger.cli import main
from tests.lock_data import staff
from warehouse import api_tokens
from warehouse.access import load_principal
from warehouse.appdb import audit_log, users, utcnow

pytestmark = pytest.mark.app_databases


def test_a_token_is_shown_once_and_only_its_hash_is_kept(settings):
    engine = staff(settings)
    anna = load_principal(engine, "anna")
    info, secret = api_tokens.create_token(settings, engine, anna, "billing export")
    assert secret.startswith("rl_")
    assert len(secret) > 40
    with engine.connect() as conn:
        stored = conn.execute(sa.select(api_tokens.api_token)).one()
    assert secret not in [str(v) for v in stored]
    assert stored.shown == secret[:10]
    assert info.shown.endswith("…")
    assert info.expires_at is not None
    assert (info.expires_at - info.created_at).days == settings.api.token_days
    principal, used = api_tokens.token_principal(engine, secret)
    assert principal.user_id == "anna"
    assert api_tokens.list_tokens(engine, "anna")[0].last_used_at is not None
    assert api_tokens.token_principal(engine, secret[:-1] + "x") is None
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(audit_log.c.action))]
    assert "api_token.created" in actions


def test_only_the_owner_or_an_administrator_revokes(settings):
    engine = staff(settings)
    anna, bruno, root = (load_principal(engine, u) for u in ("anna", "bruno", "root"))
    info, secret = api_tokens.create_token(settings, engine, anna, "script")
    with pytest.raises(PermissionError):
        api_tokens.revoke_token(engine, bruno, info.id)
    assert api_tokens.token_principal(engine, secret) is not None
    revoked = api_tokens.revoke_token(engine, root, info.id)
    assert revoked.revoked_by == "root"
    assert not revoked.active()
    assert api_tokens.token_principal(engine, secret) is None
    with pytest.raises(LookupError):
        api_tokens.revoke_token(engine, root, 999)


def test_expiry_names_and_switched_off_owners(settings):
    engine = staff(settings)
    anna = load_principal(engine, "anna")
    forever, secret = api_tokens.create_token(settings, engine, anna, "forever", 0)
    assert forever.expires_at is None
    with pytest.raises(ValueError, match="needs a name"):
        api_tokens.create_token(settings, engine, anna, "  ")
    with pytest.raises(ValueError, match="0 .until revoked. to 3650"):
        api_tokens.create_token(settings, engine, anna, "x", -1)
    short, short_secret = api_tokens.create_token(settings, engine, anna, "short", 1)
    with engine.begin() as conn:
        conn.execute(
            sa.update(api_tokens.api_token)
            .where(api_tokens.api_token.c.id == short.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert api_tokens.token_principal(engine, short_secret) is None
    with engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == "anna").values(active=False))
    assert api_tokens.token_principal(engine, secret) is None


def test_the_command_line_creates_lists_and_revokes(settings, capsys):
    engine = staff(settings)
    assert main(["tokens", "create", "anna", "--name", "nightly export", "--days", "30"]) == 0
    out = capsys.readouterr().out
    secret = out.splitlines()[0]
    assert api_tokens.token_principal(engine, secret)[0].user_id == "anna"
    assert main(["tokens", "list", "anna"]) == 0
    listing = capsys.readouterr().out
    assert "nightly export" in listing
    assert secret not in listing
    token_id = api_tokens.list_tokens(engine, "anna")[0].id
    assert main(["tokens", "revoke", str(token_id)]) == 0
    assert api_tokens.token_principal(engine, secret) is None
    assert main(["tokens", "create", "nobody", "--name", "x"]) == 2
    assert "no active user 'nobody'" in capsys.readouterr().err
