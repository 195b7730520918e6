"""The directory domain: users, roles, scopes and extension history synced from LDAP / Active Directory.

Its asset and schedule use the `ringledger` resource that the code location already has (defined with
the ingest domain); Dagster merges domains only when a resource key is bound once.
"""

import dagster as dg

from pipelines.defs.directory.assets import directory
from pipelines.defs.directory.schedules import directory_sync_job, directory_sync_schedule

defs = dg.Definitions(assets=[directory], jobs=[directory_sync_job], schedules=[directory_sync_schedule])
