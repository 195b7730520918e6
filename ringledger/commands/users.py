"""`ringledger users import FILE`: load users, departments, cost centres and extensions from CSV."""

from __future__ import annotations

from pathlib import Path

from warehouse import appdb, directory
from warehouse.config import load_settings
from warehouse.lake import Lake


def register(sub) -> None:
    p = sub.add_parser("users", help="the directory of users and extensions")
    users_sub = p.add_subparsers(dest="users_command", metavar="ACTION")
    users_sub.required = True
    imp = users_sub.add_parser(
        "import",
        help="import users from a CSV file (columns: " + ", ".join(directory.CSV_COLUMNS) + ")",
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=run_import)


def run_import(args) -> int:
    settings = load_settings()
    if not args.file.is_file():
        raise FileNotFoundError(f"{args.file}: no such file")
    people = directory.read_csv(args.file)
    result = directory.apply(appdb.open_db(settings), people, source="csv", lake=Lake(settings.lake_dir))
    print(
        f"{result.created} user(s) created, {result.updated} updated; "
        f"{result.extensions_assigned} extension assignment(s) opened, {result.extensions_closed} closed"
    )
    return 0
