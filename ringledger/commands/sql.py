"""`ringledger sql "QUERY"`: run SQL against the lake's views (calls, cdr, cmr, rejects, ...).

Without `--as` the query sees everything (an administrator's tool on the server); with `--as USERNAME`
it reads `my_calls`, that person's scope, and numbers come back masked as they would see them.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import sys

import duckdb

import warehouse
from ringledger.cli import CommandError
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("sql", help="run a SQL query against the views calls, cdr, cmr, rejects, daily_rollups")
    p.add_argument("query", help='for example "select direction, count(*) from calls group by 1"')
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument(
        "--as",
        dest="as_user",
        metavar="USERNAME",
        help="run as this person sees it: the query reads my_calls (their scope) and numbers are masked",
    )
    p.set_defaults(func=run)


def _plain(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def run(args) -> int:
    settings = load_settings()
    con = warehouse.connect(settings)
    principal = None
    if args.as_user:
        from warehouse import appdb
        from warehouse.access import load_principal

        principal = load_principal(appdb.open_db(settings), args.as_user)
        if principal is None:
            raise CommandError(f"--as {args.as_user}: no active user of that name")
    try:
        if principal is not None:
            from warehouse.access import scoped_query

            cur = scoped_query(con, principal, args.query)
        else:
            cur = con.execute(args.query)
    except duckdb.Error as exc:
        raise CommandError(str(exc).strip()) from None
    if cur.description is None:
        return 0
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    if principal is not None:
        from warehouse.access import mask_result

        masked = mask_result(settings, principal, [dict(zip(names, r, strict=True)) for r in rows])
        rows = [tuple(m[n] for n in names) for m in masked]
    if args.format == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(names)
        w.writerows([[_plain(v) for v in r] for r in rows])
    elif args.format == "json":
        json.dump([{n: _plain(v) for n, v in zip(names, r, strict=True)} for r in rows], sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*names, show_lines=False)
        for r in rows:
            table.add_row(*["" if v is None else str(_plain(v)) for v in r])
        Console(width=max(120, sum(len(n) + 3 for n in names))).print(table)
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0
