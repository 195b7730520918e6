"""The Dagster code location: every domain's assets, checks, jobs, sensors and schedules, merged."""

from __future__ import annotations

import importlib

import dagster as dg

# Each module exposes `defs: dg.Definitions`. A new domain adds itself here.
DOMAINS = [
    "pipelines.defs.ingest",
    "pipelines.defs.budgets",
    "pipelines.defs.mail",
    "pipelines.defs.directory",
    "pipelines.defs.tariffs",
    "pipelines.defs.schedules",
    "pipelines.defs.retention",
]


def build_definitions() -> dg.Definitions:
    """Merge the definitions of every domain into the one code location Dagster loads."""
    return dg.Definitions.merge(*(importlib.import_module(name).defs for name in DOMAINS))


defs = build_definitions()
