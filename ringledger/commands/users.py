"""`ringledger users ...`: the directory of people and extensions, log-in accounts, roles and scopes."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from ringledger.cli import CommandError
from warehouse import accounts, appdb, directory
from warehouse.audit import cli_actor
from warehouse.config import load_settings
from warehouse.lake import Lake


def register(sub) -> None:
    p = sub.add_parser("users", help="the directory of users and extensions, accounts, roles and scopes")
    users_sub = p.add_subparsers(dest="users_command", metavar="ACTION")
    users_sub.required = True

    s = users_sub.add_parser("sync", help="read users, extensions, managers and groups from LDAP / AD now")
    s.set_defaults(func=run_sync)

    imp = users_sub.add_parser(
        "import",
        help="import users from a CSV file (columns: " + ", ".join(directory.CSV_COLUMNS) + ")",
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)

    add = users_sub.add_parser("add", help="create a local account")
    add.add_argument("username")
    add.add_argument("--role", choices=["user", "supervisor", "administrator"], default="user")
    add.add_argument("--extension", action="append", default=[], metavar="EXT", help="repeat for several")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--email", default="")
    add.add_argument("--department", default="")
    add.add_argument("--cost-centre", default="")
    add.add_argument("--manager", default="", help="the manager's user name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.set_defaults(func=run_add)

    pw = users_sub.add_parser("passwd", help="set a local account's password (from stdin, or asked twice)")
    pw.add_argument("username")
    pw.set_defaults(func=run_passwd)

    ls = users_sub.add_parser("list", help="list users with role, extensions and scopes")
    ls.add_argument("--search", default="", help="part of a name, user name, e-mail, department or cost centre")
    ls.add_argument("--role", choices=["user", "supervisor", "administrator"])
    ls.add_argument("--all", action="store_true", help="include switched-off and departed users")
    ls.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ls.set_defaults(func=run_list)

    unk = users_sub.add_parser("unknown", help="extensions seen in calls that no user had at the time")
    unk.add_argument("--since", type=_date, help="first day (YYYY-MM-DD, UTC)")
    unk.add_argument("--until", type=_date, help="day after the last (YYYY-MM-DD, UTC)")
    unk.add_argument("--format", choices=["table", "csv", "json"], default="table")
    unk.set_defaults(func=run_unknown)

    role = users_sub.add_parser("role", help="give a user a role")
    role.add_argument("username")
    role.add_argument("role", choices=["user", "supervisor", "administrator"])
    role.set_defaults(func=run_role)

    scope = users_sub.add_parser(
        "scope", help="set the departments and cost centres a supervisor sees (none given: clear them)"
    )
    scope.add_argument("username")
    scope.add_argument("--department", action="append", default=[], metavar="NAME")
    scope.add_argument("--cost-centre", action="append", default=[], metavar="CODE")
    scope.set_defaults(func=run_scope)

    assign = users_sub.add_parser("assign", help="give a user an extension (since always if nobody ever had it)")
    assign.add_argument("username")
    assign.add_argument("extension")
    assign.add_argument("--from", dest="valid_from", type=_date, help="from this day (YYYY-MM-DD, UTC)")
    assign.set_defaults(func=run_assign)

    for name, active, text in (
        ("disable", False, "switch an account off (no log-in; its calls stay its own)"),
        ("enable", True, "switch an account on again"),
    ):
        sp = users_sub.add_parser(name, help=text)
        sp.add_argument("username")
        sp.set_defaults(func=run_active, active=active)

    unlock = users_sub.add_parser("unlock", help="lift the log-in lock of a user name after failed attempts")
    unlock.add_argument("username")
    unlock.set_defaults(func=run_unlock)

    status = users_sub.add_parser("status", help="the latest directory syncs and imports")
    status.add_argument("--limit", type=int, default=10)
    status.set_defaults(func=run_status)


def _date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date such as 2026-03-01") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _context():
    settings = load_settings()
    return settings, appdb.open_db(settings), Lake(settings.lake_dir)


def _print(names: list[str], rows: list[list], fmt: str) -> None:
    def plain(v):
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, list | tuple):
            return ", ".join(str(x) for x in v)
        return "" if v is None else v

    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        w.writerows([[plain(v) for v in r] for r in rows])
    elif fmt == "json":
        out = [
            {n: (v.isoformat() if isinstance(v, datetime) else v) for n, v in zip(names, r, strict=True)} for r in rows
        ]
        json.dump(out, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*names)
        for r in rows:
            table.add_row(*[str(plain(v)) for v in r])
        Console(width=max(120, sum(len(n) + 3 for n in names))).print(table)
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _read_password(prompt_twice: bool) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CommandError("no password on stdin (give it as the first line)")
        return password
    password = getpass.getpass("New password: ")
    if prompt_twice and getpass.getpass("Again: ") != password:
        raise CommandError("the two passwords differ; nothing changed")
    return password


def _summary(result: directory.ImportResult) -> str:
    return (
        f"{result.created} user(s) created, {result.updated} updated, {result.unchanged} unchanged, "
        f"{result.deactivated} deactivated, {result.reactivated} reactivated; "
        f"{result.extensions_assigned} extension assignment(s) opened, {result.extensions_closed} closed"
    )


def run_sync(args) -> int:
    from warehouse import ldap_directory

    settings, engine, lake = _context()
    if not settings.ldap.configured:
        where = settings.config_path or "ringledger.toml"
        raise CommandError(f"no directory server is configured: set [ldap] preset, urls and user_base in {where}")
    try:
        result = ldap_directory.sync(settings, engine, lake)
    except ldap_directory.DirectorySyncError as exc:
        raise CommandError(f"directory sync failed: {exc}") from None
    print(_summary(result))
    for warning in result.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    return 0


def run_import(args) -> int:
    settings, engine, lake = _context()
    if not args.file.is_file():
        raise FileNotFoundError(f"{args.file}: no such file")
    result, _people, errors = directory.import_csv(engine, args.file, cli_actor(), lake)
    print(_summary(result).replace(", 0 deactivated, 0 reactivated", ""))
    for error in errors:
        print(f"  skipped {error}", file=sys.stderr)
    if errors:
        print(f"{len(errors)} line(s) skipped; the other lines were imported", file=sys.stderr)
        return 1
    return 0


def run_add(args) -> int:
    _, engine, lake = _context()
    password = _read_password(prompt_twice=False) if args.password_stdin else None
    extensions = [e for value in args.extension for e in value.replace(";", ",").split(",")]
    try:
        accounts.create_user(
            engine,
            cli_actor(),
            args.username,
            role=args.role,
            display_name=args.name,
            email=args.email,
            department=args.department,
            cost_centre=args.cost_centre,
            manager=args.manager,
            extensions=extensions,
            password=password,
            lake=lake,
        )
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    note = "" if password else " (no password yet: set one with `ringledger users passwd`)"
    print(f"user {args.username} created as {args.role}{note}")
    return 0


def run_passwd(args) -> int:
    _, engine, _ = _context()
    password = _read_password(prompt_twice=True)
    try:
        accounts.reset_password(engine, cli_actor(), args.username, password)
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    print(f"password of {args.username} changed")
    return 0


def run_list(args) -> int:
    _, engine, _ = _context()
    rows, total = accounts.list_users(
        engine, search=args.search, role=args.role, active=None if args.all else True, limit=100000
    )
    names = [
        "username",
        "name",
        "role",
        "source",
        "active",
        "extensions",
        "department",
        "cost_centre",
        "manager",
        "scopes",
    ]
    _print(
        names,
        [
            [
                r.username,
                r.display_name,
                r.role,
                r.source,
                r.active,
                list(r.extensions),
                r.department,
                r.cost_centre,
                r.manager,
                [f"{k}:{v}" + (" (directory)" if s == "ldap" else "") for k, v, s in r.scopes],
            ]
            for r in rows
        ],
        args.format,
    )
    return 0


def run_unknown(args) -> int:
    settings, _, _ = _context()
    found = directory.unknown_extensions(settings, since=args.since, until=args.until)
    _print(
        ["extension", "site", "first_seen", "last_seen", "calls", "devices"],
        [[u.extension, u.site, u.first_seen, u.last_seen, u.calls, list(u.devices)] for u in found],
        args.format,
    )
    return 0


def run_role(args) -> int:
    _, engine, _ = _context()
    try:
        accounts.set_role(engine, cli_actor(), args.username, args.role)
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    print(f"{args.username} is now {args.role}")
    return 0


def run_scope(args) -> int:
    _, engine, _ = _context()
    try:
        accounts.set_scopes(
            engine, cli_actor(), args.username, departments=args.department, cost_centres=args.cost_centre
        )
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    given = [f"department {d}" for d in args.department] + [f"cost centre {c}" for c in args.cost_centre]
    print(f"{args.username} supervises: {', '.join(given) if given else 'what they manage in the directory'}")
    return 0


def run_assign(args) -> int:
    _, engine, lake = _context()
    try:
        accounts.assign_extension(
            engine, cli_actor(), args.username, args.extension, valid_from=args.valid_from, lake=lake
        )
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    print(f"extension {args.extension} assigned to {args.username}")
    return 0


def run_active(args) -> int:
    _, engine, lake = _context()
    try:
        accounts.set_active(engine, cli_actor(), args.username, args.active, lake=lake)
    except accounts.AccountError as exc:
        raise CommandError(str(exc)) from None
    print(f"{args.username} {'switched on' if args.active else 'switched off'}")
    return 0


def run_unlock(args) -> int:
    _, engine, _ = _context()
    was = accounts.unlock_login(engine, cli_actor(), args.username)
    print(f"{args.username}: {'lock lifted' if was else 'was not locked'}; failed log-ins forgotten")
    return 0


def run_status(args) -> int:
    _, engine, _ = _context()
    rows = directory.sync_history(engine, args.limit)
    _print(
        ["started_at", "source", "status", "people", "created", "updated", "deactivated", "warnings", "error"],
        [
            [r.started_at, r.source, r.status, r.people, r.created, r.updated, r.deactivated, len(r.warnings), r.error]
            for r in rows
        ],
        "table",
    )
    return 0
