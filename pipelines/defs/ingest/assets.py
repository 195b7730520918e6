"""CDR ingest assets: raw legs, calls, rollups and incoming-call offers, partitioned by UTC day."""

from datetime import date

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.calls import build_days
from warehouse.ingest import Ingestor, reparse_day
from warehouse.lake import Lake

# The lake's day partitions (UTC). Old enough for any CUCM archive a customer brings.
DAILY = dg.DailyPartitionsDefinition(start_date="2010-01-01", end_offset=1)

RAW_CDR = dg.AssetKey("raw_cdr")
RAW_CMR = dg.AssetKey("raw_cmr")
CALLS = dg.AssetKey("calls")
DAILY_ROLLUPS = dg.AssetKey("daily_rollups")
QUARTER_HOURS = dg.AssetKey("quarter_hours")
OFFERS = dg.AssetKey("offers")
PILOT_OFFERS = dg.AssetKey("pilot_offers")
GATEWAY_LOAD = dg.AssetKey("gateway_load")
# Everything a rebuild of a day's calls writes again.
CALLS_AND_DERIVED = [CALLS, DAILY_ROLLUPS, QUARTER_HOURS, OFFERS, PILOT_OFFERS, GATEWAY_LOAD]
LAKE_POOL = "lake_writer"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(RAW_CDR, description="CDR legs as CUCM wrote them, typed, by UTC day of origination"),
        dg.AssetSpec(RAW_CMR, description="CMR call-quality records as CUCM wrote them, by UTC day"),
    ],
    partitions_def=DAILY,
    group_name="ingest",
    pool=LAKE_POOL,
)
def raw_legs(context: dg.AssetExecutionContext, ringledger: RingledgerResource):
    """Re-read one day's raw CDR and CMR rows from the archived files that touched it."""
    day = date.fromisoformat(context.partition_key)
    counts = reparse_day(ringledger.settings(), day)
    yield dg.MaterializeResult(asset_key=RAW_CDR, metadata={"rows": counts["raw_cdr"]})
    yield dg.MaterializeResult(asset_key=RAW_CMR, metadata={"rows": counts["raw_cmr"]})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            CALLS,
            description="One row per CDR leg per internal party, priced and classified (the calls contract)",
            deps=[
                dg.AssetDep(RAW_CDR),
                # a CMR is written when the phone hangs up, possibly after midnight
                dg.AssetDep(RAW_CMR, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=0, end_offset=1)),
            ],
        ),
        dg.AssetSpec(
            DAILY_ROLLUPS,
            description="Calls, minutes and cost per day, extension, site, gateway and destination type",
            deps=[CALLS],
        ),
        dg.AssetSpec(
            QUARTER_HOURS,
            description="Counted calls, missed calls, minutes and cost per 15 minutes, direction and currency",
            deps=[CALLS],
        ),
        dg.AssetSpec(
            OFFERS,
            description="Each call offered to a line and what became of it, by UTC day of the first ring",
            # an offer's outcome may depend on the next day's legs
            deps=[dg.AssetDep(CALLS, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=0, end_offset=1))],
        ),
        dg.AssetSpec(
            PILOT_OFFERS,
            description="Each call offered to a hunt pilot and what became of it, by UTC day of the first ring",
            deps=[dg.AssetDep(CALLS, partition_mapping=dg.TimeWindowPartitionMapping(start_offset=0, end_offset=1))],
        ),
        dg.AssetSpec(
            GATEWAY_LOAD,
            description="Each gateway's channels held per 15 minutes: seconds, seizures and peak of calls up",
            # a quarter counts the calls still up from the day before: building a day's calls builds
            # the next day's load too (warehouse.gateway_load); one asset may map `calls` only one way
            deps=[CALLS],
        ),
    ],
    partitions_def=DAILY,
    group_name="ingest",
    pool=LAKE_POOL,
)
def calls_and_rollups(context: dg.AssetExecutionContext, ringledger: RingledgerResource):
    """Rebuild the calls of one UTC day from its raw legs, and what is derived from them."""
    settings = ringledger.settings()
    lake = Lake(settings.lake_dir)
    day = date.fromisoformat(context.partition_key)
    with lake.writer() as writer:
        rows = build_days(writer, settings, [day])
    Ingestor(settings).clear_dirty([day])
    yield dg.MaterializeResult(asset_key=CALLS, metadata={"rows": rows})
    yield dg.MaterializeResult(asset_key=DAILY_ROLLUPS, metadata={"calls": rows})
    yield dg.MaterializeResult(asset_key=QUARTER_HOURS, metadata={"calls": rows})
    yield dg.MaterializeResult(asset_key=OFFERS, metadata={"calls": rows})
    yield dg.MaterializeResult(asset_key=PILOT_OFFERS, metadata={"calls": rows})
    yield dg.MaterializeResult(asset_key=GATEWAY_LOAD, metadata={"calls": rows})
