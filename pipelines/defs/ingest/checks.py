"""Asset checks on the ingest: the reject rate, and every raw leg of a day has its call rows."""

from datetime import timedelta

import dagster as dg
import sqlalchemy as sa

import warehouse
from pipelines.defs.ingest.assets import CALLS, RAW_CDR
from pipelines.defs.ingest.resources import RingledgerResource
from warehouse.appdb import ingest_file, utcnow

# More than one line in a hundred rejected points at a new CUCM layout or a broken feed.
MAX_REJECT_RATE = 0.01


@dg.asset_check(asset=RAW_CDR, description="Lines rejected in the last 24 hours stay under 1%")
def reject_rate(ringledger: RingledgerResource) -> dg.AssetCheckResult:
    """Share of lines rejected over the files received in the last 24 hours."""
    engine = ringledger.engine()
    since = utcnow() - timedelta(hours=24)
    with engine.connect() as conn:
        rows, rejects = conn.execute(
            sa.select(
                sa.func.coalesce(sa.func.sum(ingest_file.c.rows), 0),
                sa.func.coalesce(sa.func.sum(ingest_file.c.rejects), 0),
            ).where(ingest_file.c.received_at >= since)
        ).one()
    total = rows + rejects
    rate = rejects / total if total else 0.0
    return dg.AssetCheckResult(
        passed=rate <= MAX_REJECT_RATE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows": int(rows), "rejects": int(rejects), "reject_rate": round(rate, 5)},
    )


@dg.asset_check(asset=CALLS, description="Every raw CDR leg of the last 7 days appears in calls")
def calls_cover_raw_legs(ringledger: RingledgerResource) -> dg.AssetCheckResult:
    """Compare distinct raw legs with the legs present in calls, day by day, over the last week."""
    con = warehouse.connect(ringledger.settings())
    missing = con.execute(
        """
        with raw as (
            select distinct pkid, cast(to_timestamp(dateTimeOrigination) as date) as day
            from cdr where dateTimeOrigination >= epoch(now()) - 7 * 86400
        ),
        built as (select distinct pkid from calls where started_at >= now() - interval 7 day)
        select raw.day, count(*) from raw anti join built using (pkid) group by raw.day order by raw.day
        """
    ).fetchall()
    lost = sum(n for _, n in missing)
    return dg.AssetCheckResult(
        passed=lost == 0,
        metadata={"legs_missing": lost, "days": ", ".join(str(d) for d, _ in missing) or "none"},
    )
