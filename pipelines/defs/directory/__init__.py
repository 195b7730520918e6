"""The directory domain: users, roles, scopes and extension history synced from LDAP / Active Directory."""

import dagster as dg

from pipelines.defs.directory.assets import directory
from pipelines.defs.directory.schedules import directory_sync_job, directory_sync_schedule

defs = dg.Definitions(assets=[directory], jobs=[directory_sync_job], schedules=[directory_sync_schedule])
