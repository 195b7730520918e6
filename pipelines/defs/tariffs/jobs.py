"""Re-rating the days a tariff change touches."""

import dagster as dg

from pipelines.defs.ingest.assets import CALLS_AND_DERIVED, LAKE_POOL
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.ingest import Ingestor
from warehouse.rating import affected_days, mark_days


@dg.op(pool=LAKE_POOL)
def rerate_changed_days(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> list[str]:
    """Find the days priced with tariff versions that changed, and rebuild (re-price) them."""
    settings = ringledger.settings()
    days = affected_days(settings)
    mark_days(settings, days)
    rebuilt = Ingestor(settings).rebuild_pending()
    context.log.info(f"{len(days)} day(s) priced with changed tariffs; {len(rebuilt)} day(s) rebuilt")
    for day in rebuilt:
        for key in CALLS_AND_DERIVED:
            context.log_event(dg.AssetMaterialization(asset_key=key, partition=day, metadata={"reason": "tariffs"}))
    return rebuilt


@dg.job(description="Re-price the days whose tariff plan versions changed")
def tariff_rerate_job():
    """Re-price the days whose tariff plan versions changed."""
    rerate_changed_days()
