"""Helpers for the text of our own queries (never for values a person typed: those are bound)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

_REPORT_SQL = Path(__file__).parent / "reports" / "sql"
_INCLUDE = re.compile(r"\{\{sql:([a-z0-9_]+)\}\}")


def strip_comments(text: str) -> str:
    """Query text without its whole-line comments (they name tokens and parameters the query fills in)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def sql_paths(files: Iterable[Path | str]) -> str:
    """Files as a DuckDB list literal of paths (for read_parquet, which takes no list parameter in a view)."""
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def report_sql(name: str) -> str:
    """The text of a query file in warehouse/reports/sql."""
    return (_REPORT_SQL / name).read_text(encoding="utf-8")


def expand(text: str, instead: Mapping[str, str] | None = None, depth: int = 0) -> str:
    """Put the query files of warehouse/reports/sql a query names as {{sql:NAME}} in its place, as sub-queries.

    `instead` names other files to read for some of them, at any depth (NAME -> OTHER).
    """
    if depth > 5:
        raise ValueError("report queries include each other too deeply")
    instead = instead or {}

    def include(match: re.Match) -> str:
        name = instead.get(match.group(1), match.group(1))
        return "(\n" + expand(strip_comments(report_sql(name + ".sql")), instead, depth + 1) + "\n)"

    return _INCLUDE.sub(include, text)
