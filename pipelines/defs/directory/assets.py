"""The `directory` asset: the app database's people and extension assignments, and their lake snapshot."""

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.lake import Lake


@dg.asset(group_name="directory", kinds={"ldap"})
def directory(context: dg.AssetExecutionContext, ringledger: RingledgerResource) -> dg.MaterializeResult:
    """Users, roles, scopes and who had which extension when, synced from LDAP / Active Directory."""
    from warehouse import ldap_directory

    settings = ringledger.settings()
    if not settings.ldap.configured:
        raise dg.Failure("no directory server is configured ([ldap] preset, urls and user_base in ringledger.toml)")
    try:
        result = ldap_directory.sync(settings, ringledger.engine(), Lake(settings.lake_dir))
    except ldap_directory.DirectorySyncError as exc:
        raise dg.Failure(f"directory sync failed: {exc}") from None
    for warning in result.warnings:
        context.log.warning(warning)
    return dg.MaterializeResult(
        metadata={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deactivated": result.deactivated,
            "reactivated": result.reactivated,
            "extensions_opened": result.extensions_assigned,
            "extensions_closed": result.extensions_closed,
            "warnings": len(result.warnings),
        }
    )
