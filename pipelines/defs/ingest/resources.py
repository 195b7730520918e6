"""The Ringledger resource: settings and app database of the data home the pipelines serve."""

import functools

import dagster as dg

from warehouse import appdb
from warehouse.config import Settings, load_settings


class RingledgerResource(dg.ConfigurableResource):
    """Where the data home and configuration are; read when a run starts, never at import time."""

    home: str = ""
    config: str = ""

    def settings(self) -> Settings:
        """The configuration of the data home (defaults when no file exists)."""
        from pathlib import Path

        return load_settings(
            path=Path(self.config) if self.config else None, home=Path(self.home) if self.home else None
        )

    def engine(self):
        """The migrated app database."""
        return appdb.open_db(self.settings())


@functools.cache
def default_resource() -> RingledgerResource:
    """The resource as the running product configures it: the data home in $RINGLEDGER_HOME.

    One shared instance, so every domain's Definitions can bind it and still merge.
    """
    return RingledgerResource(home=dg.EnvVar("RINGLEDGER_HOME"))
