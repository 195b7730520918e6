"""Helpers for the text of our own queries (never for values a person typed: those are bound)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def strip_comments(text: str) -> str:
    """Query text without its whole-line comments (they name tokens and parameters the query fills in)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def sql_paths(files: Iterable[Path | str]) -> str:
    """Files as a DuckDB list literal of paths (for read_parquet, which takes no list parameter in a view)."""
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
