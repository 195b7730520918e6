"""When the directory is synced: every hour, when a directory server is configured."""

import dagster as dg

from pipelines.defs.directory.assets import directory
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.config import ConfigError

directory_sync_job = dg.define_asset_job(
    "directory_sync_job", selection=[directory], description="Sync users and extensions from LDAP / AD"
)


@dg.schedule(
    job=directory_sync_job,
    cron_schedule="17 * * * *",  # every hour at minute 17, away from the top-of-hour checks
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def directory_sync_schedule(context: dg.ScheduleEvaluationContext, ringledger: RingledgerResource):
    """Sync users and extensions from LDAP / AD every hour (skipped while no directory is configured)."""
    try:
        settings = ringledger.settings()
    except ConfigError as exc:
        return dg.SkipReason(f"configuration cannot be read: {exc}")
    if not settings.ldap.configured:
        return dg.SkipReason("no directory server configured; local accounts and CSV imports only")
    return dg.RunRequest()
