"""The `ringledger` command: one entry point, one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import sys

from ringledger import __version__

# Each module has `register(subparsers)` adding its subcommands; a subcommand sets `func(args) -> int`.
COMMAND_MODULES = [
    "ringledger.commands.run",
    "ringledger.commands.ingest",
    "ringledger.commands.sql",
    "ringledger.commands.users",
    "ringledger.commands.budgets",
    "ringledger.commands.mail",
    "ringledger.commands.schedules",
    "ringledger.commands.demo",
    "ringledger.commands.report",
    "ringledger.commands.tokens",
    "ringledger.commands.tariff",
    "ringledger.commands.rerate",
    "ringledger.commands.retention",
]


class CommandError(Exception):
    """A command could not do what was asked; the message says what and where."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ringledger", description="Call accounting and call analytics for Cisco Unified CM."
    )
    parser.add_argument("--version", action="version", version=f"ringledger {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; known errors print one line saying what and where, and exit non-zero."""
    from warehouse.config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (CommandError, ConfigError, FileNotFoundError, PermissionError, ValueError) as exc:
        print(f"ringledger {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ringledger {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
