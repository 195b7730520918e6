"""Jobs that ingest the CDR inbox and rebuild changed days, reporting what they materialised."""

import dagster as dg

from pipelines.defs.ingest.assets import (
    CALLS_AND_DERIVED,
    GATEWAY_LOAD,
    LAKE_POOL,
    OFFERS,
    PILOT_OFFERS,
    RAW_CDR,
    RAW_CMR,
)
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse import gateway_load, offers
from warehouse.ingest import Ingestor


def _materialized(context: dg.OpExecutionContext, keys: list[dg.AssetKey], days: list[str], metadata: dict) -> None:
    for day in sorted(set(days)):
        for key in keys:
            context.log_event(dg.AssetMaterialization(asset_key=key, partition=day, metadata=metadata))


@dg.op(pool=LAKE_POOL)
def ingest_inbox(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> dict:
    """Load every complete file in the inbox, then rebuild the calls of the days it touched."""
    settings = ringledger.settings()
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)

    def progress(event: str, data: dict) -> None:
        context.log.info(f"{event}: {data}")

    report = Ingestor(settings, progress=progress).ingest(
        [settings.inbox_dir], move=True, settle_seconds=settings.ingest.settle_seconds
    )
    _materialized(
        context,
        [RAW_CDR, RAW_CMR],
        sorted(report.days),
        {"files": report.loaded, "cdr_rows": report.cdr_rows, "rejects": report.rejects},
    )
    _materialized(context, CALLS_AND_DERIVED, report.rebuilt_days, {"calls_rows": report.calls_rows})
    for name, error in report.failed:
        context.log.warning(f"{name}: {error}")
    return {
        "files": report.loaded,
        "duplicates": report.duplicates,
        "failed": len(report.failed),
        "cdr_rows": report.cdr_rows,
        "rejects": report.rejects,
        "days": sorted(report.days),
    }


@dg.op(pool=LAKE_POOL)
def rebuild_changed_days(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> list[str]:
    """Rebuild the calls of the days whose raw data, tariffs or configuration changed."""
    days = Ingestor(ringledger.settings()).rebuild_pending()
    _materialized(context, CALLS_AND_DERIVED, days, {})
    return days


@dg.op(pool=LAKE_POOL)
def store_stale_derived(context: dg.OpExecutionContext, ringledger: RingledgerResource) -> dict:
    """Store again the offers and the gateway load of the days stored with another device inventory."""
    settings = ringledger.settings()
    stale = {"offers": offers.stale_days(settings), "gateway_load": gateway_load.stale_days(settings)}
    stored = {"offers": offers.rebuild_offers(settings, stale["offers"])}
    stored["gateway_load"] = gateway_load.rebuild(settings, stale["gateway_load"])
    # storing the offers to lines stores those to hunt pilots too
    for (name, days), keys in zip(stale.items(), ([OFFERS, PILOT_OFFERS], [GATEWAY_LOAD]), strict=True):
        context.log.info(f"{name} of {len(days)} day(s) stored with today's device inventory: {stored[name]} rows")
        _materialized(context, keys, [str(d) for d in days], {"reason": "device inventory"})
    return stored


@dg.job(description="Store the offers and the gateway load again after the device inventory changed")
def inventory_refresh_job():
    store_stale_derived()


@dg.job(
    executor_def=dg.in_process_executor,
    description="Ingest new CDR/CMR files from the inbox and rebuild the days they touched",
)
def ingest_job():
    ingest_inbox()


@dg.job(executor_def=dg.in_process_executor, description="Rebuild the calls of days marked as changed")
def calls_refresh_job():
    rebuild_changed_days()
