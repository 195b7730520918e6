"""`ringledger tokens ...`: personal API tokens (create, list, revoke) from the command line."""

from __future__ import annotations

import json

from ringledger.cli import CommandError
from warehouse import api_tokens, appdb
from warehouse.access import load_principal
from warehouse.audit import cli_actor
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("tokens", help="personal tokens for the JSON API")
    tokens_sub = p.add_subparsers(dest="tokens_command", metavar="ACTION")
    tokens_sub.required = True

    c = tokens_sub.add_parser("create", help="make a token for a person and print it (shown only this once)")
    c.add_argument("username")
    c.add_argument("--name", required=True, help="what the token is for, e.g. 'billing export'")
    c.add_argument("--days", type=int, help="lifetime in days (0: until revoked; default: [api] token_days)")
    c.set_defaults(func=run_create)

    ls = tokens_sub.add_parser("list", help="list tokens (never the secrets)")
    ls.add_argument("username", nargs="?", help="only this person's tokens")
    ls.add_argument("--format", choices=["table", "json"], default="table")
    ls.set_defaults(func=run_list)

    r = tokens_sub.add_parser("revoke", help="revoke a token by its id (it stops working at once)")
    r.add_argument("id", type=int)
    r.set_defaults(func=run_revoke)


def run_create(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    owner = load_principal(engine, args.username)
    if owner is None:
        raise CommandError(f"tokens create: no active user {args.username!r} in the directory")
    try:
        info, secret = api_tokens.create_token(settings, engine, owner, args.name, args.days, actor=cli_actor())
    except ValueError as exc:
        raise CommandError(f"tokens create: {exc}") from None
    expiry = info.expires_at.isoformat() if info.expires_at else "never (until revoked)"
    print(secret)
    print(f"token {info.id} '{info.name}' for {info.user_id}; expires {expiry}; it is not shown again")
    return 0


def run_list(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    rows = api_tokens.list_tokens(engine, args.username)
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "user": t.user_id,
                        "name": t.name,
                        "token": t.shown,
                        "created_at": t.created_at.isoformat(),
                        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                        "active": t.active(),
                    }
                    for t in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for t in rows:
        state = "active" if t.active() else ("revoked" if t.revoked_at else "expired")
        used = t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never"
        expires = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never"
        print(f"{t.id:>5}  {t.user_id:<20} {t.name:<30} {t.shown:<14} used {used:<16} expires {expires:<10} {state}")
    if not rows:
        print("no tokens")
    return 0


def run_revoke(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    try:
        info = api_tokens.revoke_token(engine, cli_actor(), args.id)
    except LookupError as exc:
        raise CommandError(f"tokens revoke: {exc}") from None
    print(f"token {info.id} '{info.name}' of {info.user_id} revoked")
    return 0
