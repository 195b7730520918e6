"""Classification and pricing of calls inside the pipeline, the number cache, re-rating and what-if.

`price_calls()` runs inside `warehouse.calls.build_span`, between building the `calls_day` table of
some days and writing it, so a day's partition is always published priced. It

1. reads each external number with its site's dial plan (`tariffs.numbering`): every distinct
   (site profile, number) is classified once and kept in the lake dataset `numbers`; a run
   classifies only numbers it has not seen, and a new phonenumbers version starts afresh;
2. groups billable rows into carrier legs (a transfer splits one carrier leg into several rows:
   the leg is priced once on how long the carrier kept it up, and the cost is shared among its
   rows in proportion to their durations, the last row taking the rounding remainder, so the rows
   add up to exactly what the carrier charges);
3. prices the legs with the plan of their gateway (`tariffs.rating`), converts to the company
   currency, and fills e164, nation, area, destination_type, operator, cost, currency,
   tariff_plan, rate_ref, plan_cost and plan_currency;
4. records which plan versions priced the day (lake dataset `rating_days`), so a tariff change
   re-rates exactly the days it touches.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from tariffs.book import PlanSource, TariffBook, fingerprint, load_book
from tariffs.deck import parse_billing
from tariffs.numbering import (
    CLASS_SCHEMA,
    PHONENUMBERS_VERSION,
    NumberingPlan,
    classify_many,
    default_workers,
    numbering_plan,
)
from tariffs.rating import Explanation, cleanup, explain, prepare, rate
from warehouse.config import Settings
from warehouse.lake import Lake, LakeWriter

NUMBER_SCHEMA = pa.schema([pa.field("profile", pa.string()), *CLASS_SCHEMA, pa.field("pn_version", pa.string())])
RATING_DAY_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32()),
        pa.field("plan", pa.string()),
        pa.field("version", pa.string()),
        pa.field("digest", pa.string()),
        pa.field("rows", pa.int64()),
        pa.field("unrated", pa.int64()),
        pa.field("priced_at", pa.timestamp("us", tz="UTC")),
    ]
)
# Cache files of the `numbers` dataset beyond which they are merged into one.
MAX_NUMBER_FILES = 24
# New numbers per run above which classification uses several processes.
PARALLEL_FROM = 50_000


# -- configuration -> tariffs objects -------------------------------------------------------------------


def plan_sources(settings: Settings) -> dict[str, PlanSource]:
    """The configured plans kept outside the tariffs folder."""
    out = {}
    for name, src in settings.tariffs.plans.items():
        path = Path(src.path)
        if not path.is_absolute() and settings.config_path is not None:
            path = settings.config_path.parent / path
        out[name] = PlanSource(
            path=path,
            format=src.format,
            name=name,
            currency=src.currency or settings.company.currency,
            time_zone=src.time_zone,
            country=src.country,
            billing=parse_billing(src.billing),
        )
    return out


def load_tariffs(settings: Settings) -> TariffBook:
    """Every tariff plan in force: $RINGLEDGER_HOME/tariffs plus configured paths (cached until a file changes)."""
    return load_book(settings.tariffs_dir, plan_sources(settings))


def tariff_fingerprint(settings: Settings) -> str:
    """Changes whenever a tariff file is added, changed or removed."""
    return fingerprint(settings.tariffs_dir, plan_sources(settings).values())


def numbering_plans(settings: Settings) -> dict[str, NumberingPlan]:
    """Each site's dial plan for reading numbers; '' for calls of no known site."""
    ranges = [r for s in settings.sites for r in s.internal_ranges]
    plans = {
        s.name: numbering_plan(
            s.country,
            s.access_codes,
            cdr_has_access_code=s.cdr_has_access_code,
            internal_ranges=ranges,
            emergency_numbers=s.emergency_numbers,
            areas=[s.area or s.name],
            language=s.language,
        )
        for s in settings.sites
    }
    # With one site, a call that names no site is that site's; otherwise only '+' numbers can be read.
    plans[""] = next(iter(plans.values())) if len(plans) == 1 else numbering_plan("", (), internal_ranges=ranges)
    return plans


def _table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"{name}_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


# -- the number cache ----------------------------------------------------------------------------------


def classify_numbers(
    con: duckdb.DuckDBPyConnection, writer: LakeWriter | None, settings: Settings, source: str
) -> dict[str, int]:
    """Classify the numbers of table `source` (rid, site, mode, raw) once each.

    Leaves `num_class` (number_id, profile, raw and the classes), `rl_row_numbers` (rid, number_id)
    and `rate_numbers` (what the rating engine needs). Numbers already in the lake's `numbers`
    cache (same profile, same phonenumbers version) are reused; new ones are classified and, when
    a lake writer is given, added to the cache.
    """
    plans = numbering_plans(settings)
    sites = sorted(plans)
    keys = {(s, m): f"{plans[s].profile_id}/{m}" for s in sites for m in ("out", "in", "sent")}
    _table(
        con,
        "rl_profiles",
        pa.table({"site": [k[0] for k in keys], "mode": [k[1] for k in keys], "profile": list(keys.values())}),
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE rl_keyed AS
        SELECT n.rid, p.profile, coalesce(n.raw, '') AS raw
        FROM {source} AS n
        LEFT JOIN (SELECT DISTINCT site FROM rl_profiles WHERE site <> '') AS s ON s.site = n.site
        JOIN rl_profiles AS p ON p.site = coalesce(s.site, '') AND p.mode = n.mode
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE rl_need AS SELECT DISTINCT profile, raw FROM rl_keyed")
    lake = Lake(settings.lake_dir)
    _load_cache(con, lake)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE num_class AS "
        "SELECT c.* FROM rl_cache AS c SEMI JOIN rl_need AS n ON n.profile = c.profile AND n.raw = c.raw"
    )
    missing = con.execute(
        "SELECT n.profile, list(n.raw) FROM rl_need AS n "
        "ANTI JOIN num_class AS c USING (profile, raw) GROUP BY n.profile"
    ).fetchall()
    by_profile = {v: k for k, v in keys.items()}
    parts = []
    new = 0
    for profile, raws in missing:
        site, mode = by_profile[profile]
        workers = settings.tariffs.classify_workers or default_workers()
        table = classify_many(plans[site], raws, direction=mode, workers=workers if len(raws) >= PARALLEL_FROM else 1)
        new += table.num_rows
        parts.append(
            table.add_column(0, "profile", pa.array([profile] * table.num_rows, pa.string())).append_column(
                "pn_version", pa.array([PHONENUMBERS_VERSION] * table.num_rows, pa.string())
            )
        )
    if parts:
        fresh = pa.concat_tables(parts).cast(NUMBER_SCHEMA)
        con.register("num_fresh", fresh.drop_columns(["pn_version"]))
        try:
            con.execute("INSERT INTO num_class SELECT * FROM num_fresh")
            con.execute("INSERT INTO rl_cache SELECT * FROM num_fresh")
        finally:
            con.unregister("num_fresh")
        if writer is not None:
            version = _store_numbers(writer, fresh)
            con.execute("UPDATE rl_cache_state SET version = ?", [version])
    con.execute(_NUMBER_IDS)
    return {"numbers": con.execute("SELECT count(*) FROM num_class").fetchall()[0][0], "new": new}


_NUMBER_IDS = """
CREATE OR REPLACE TEMP TABLE num_class AS SELECT row_number() OVER () AS number_id, * FROM num_class;

CREATE OR REPLACE TEMP TABLE rl_row_numbers AS
SELECT k.rid, c.number_id FROM rl_keyed AS k JOIN num_class AS c ON c.profile = k.profile AND c.raw = k.raw;

CREATE OR REPLACE TEMP TABLE rate_numbers AS
SELECT
    number_id,
    substr(e164, 2) AS digits,
    nation,
    coalesce(destination_type, 'unknown') AS dtype,
    CASE WHEN profile LIKE '%/in' THEN 'in' ELSE 'out' END AS direction
FROM num_class;
"""


def _load_cache(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """The lake's number cache as temp table `rl_cache`, read once per connection while the lake's copy is unchanged.

    A connection that builds many days (a re-rate, a backfill) reads the cache once instead of once a day.
    """
    version = lake.manifest("numbers").version
    try:
        held = con.execute("SELECT version FROM rl_cache_state").fetchall()
    except duckdb.Error:
        held = []
    if held and held[0][0] == version:
        return
    files = lake.files("numbers")
    if files:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE rl_cache AS "
            "SELECT * EXCLUDE (pn_version) FROM read_parquet(?) WHERE pn_version = ? "
            "QUALIFY row_number() OVER (PARTITION BY profile, raw) = 1",
            [[str(f) for f in files], PHONENUMBERS_VERSION],
        )
    else:
        _table(con, "rl_cache", NUMBER_SCHEMA.empty_table().drop_columns(["pn_version"]))
    con.execute("CREATE OR REPLACE TEMP TABLE rl_cache_state AS SELECT CAST(? AS BIGINT) AS version", [version])


def _store_numbers(writer: LakeWriter, fresh: pa.Table) -> int:
    """Add newly classified numbers to the lake's cache; returns the cache's new manifest version."""
    lake = writer.lake
    stage = lake.staging_dir(f"numbers-{uuid.uuid4().hex[:8]}")
    target = stage / f"numbers-{uuid.uuid4().hex[:12]}.parquet"
    pq.write_table(fresh, target, compression="zstd")
    manifest = writer.publish("numbers", add={"": [target]})
    files = manifest.partitions.get("", [])
    if len(files) > MAX_NUMBER_FILES:
        # Merge the cache into one file, keeping only what the current phonenumbers version wrote.
        base = lake.dataset_dir("numbers")
        merged = stage / f"numbers-{uuid.uuid4().hex[:12]}.parquet"
        con = duckdb.connect()
        try:
            con.execute(
                f"COPY (SELECT * FROM read_parquet(?) WHERE pn_version = ? "
                f"QUALIFY row_number() OVER (PARTITION BY profile, raw) = 1) "
                f"TO '{merged}' (FORMAT parquet, COMPRESSION zstd)",
                [[str(base / f) for f in files], PHONENUMBERS_VERSION],
            )
        finally:
            con.close()
        manifest = writer.publish("numbers", replace={"": [merged]})
    return manifest.version


# -- pricing rows --------------------------------------------------------------------------------------


def _fx_table(con: duckdb.DuckDBPyConnection, settings: Settings, book: TariffBook) -> None:
    currencies = sorted(
        {p.currency for p in book.plans.values()} | set(settings.currencies) | {settings.company.currency}
    )
    rates = [settings.exchange_rate(c) for c in currencies]
    _table(
        con,
        "rl_fx",
        pa.table(
            {
                "currency": pa.array([c for c, r in zip(currencies, rates, strict=True) if r is not None], pa.string()),
                "fx": pa.array([r for r in rates if r is not None], pa.decimal128(18, 8)),
            }
        ),
    )


def _device_plans(con: duckdb.DuckDBPyConnection, settings: Settings, source: str) -> None:
    devices = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT gateway_device FROM {source} WHERE gateway_device IS NOT NULL"
        ).fetchall()
    ]
    plans = []
    for name in devices:
        dev = settings.device(name)
        plans.append(dev.tariff_plan if dev is not None and dev.tariff_plan else None)
    _table(
        con,
        "rl_device_plans",
        pa.table({"gateway_device": pa.array(devices, pa.string()), "plan": pa.array(plans, pa.string())}),
    )


_PRICE_SQL = """
-- carrier legs that several rows share (a transfer): priced once, on how long the carrier kept them up
CREATE OR REPLACE TEMP TABLE rl_shared AS
SELECT trunk_leg_id, rdir FROM rating_rows WHERE trunk_leg_id IS NOT NULL GROUP BY ALL HAVING count(*) > 1;

CREATE OR REPLACE TEMP TABLE rl_multi AS
SELECT
    r.rid,
    r.duration_s,
    min(r.rid) OVER w AS unit_id,
    count(*) OVER w AS members,
    sum(r.duration_s) OVER w AS weight,
    row_number() OVER (PARTITION BY r.trunk_leg_id, r.rdir ORDER BY r.started_at DESC, r.rid DESC) = 1 AS is_last,
    coalesce(min(r.answered_at) OVER w, min(r.started_at) OVER w) AS unit_t0,
    max(coalesce(r.carrier_s, r.duration_s)) OVER w AS unit_carrier_s
FROM rating_rows AS r
SEMI JOIN rl_shared AS s ON s.trunk_leg_id = r.trunk_leg_id AND s.rdir = r.rdir
WINDOW w AS (PARTITION BY r.trunk_leg_id, r.rdir);

CREATE OR REPLACE TEMP TABLE rate_in AS
SELECT
    r.rid AS unit_id,
    r.plan,
    r.gateway,
    r.number_id,
    coalesce(m.unit_t0, r.answered_at, r.started_at) AS t0,
    CAST(CASE WHEN m.rid IS NOT NULL THEN m.unit_carrier_s ELSE r.duration_s END AS BIGINT) AS duration_s
FROM rating_rows AS r
LEFT JOIN rl_multi AS m ON m.rid = r.rid
WHERE m.rid IS NULL OR m.rid = m.unit_id;
"""

_ALLOCATE_SQL = """
-- an amount in the plan currency in the company currency, to the millionth
CREATE OR REPLACE TEMP MACRO rl_convert(amount, fx) AS
    round(CAST(amount AS DECIMAL(38, 6)) * CAST(fx AS DECIMAL(38, 8)), 6);

CREATE OR REPLACE TEMP MACRO rl_no_fx(currency) AS
    'unrated: no exchange rate for ' || currency || ' (add it to [currencies] in the configuration)';

CREATE OR REPLACE TEMP TABLE priced_rows AS
WITH single AS (
    SELECT
        r.rid,
        r.plan AS tariff_plan,
        o.plan_cost,
        o.plan_currency,
        CASE
            WHEN o.plan_currency IS NULL THEN o.plan_cost
            WHEN fx.fx IS NOT NULL THEN CAST(rl_convert(o.plan_cost, fx.fx) AS DECIMAL(18, 6))
        END AS cost,
        CASE
            WHEN o.plan_currency IS NOT NULL AND fx.fx IS NULL THEN rl_no_fx(o.plan_currency)
            ELSE o.rate_ref
        END AS rate_ref
    FROM r_out AS o
    JOIN rating_rows AS r ON r.rid = o.unit_id
    LEFT JOIN rl_fx AS fx ON fx.currency = o.plan_currency
    ANTI JOIN rl_multi AS m ON m.rid = r.rid
),

shared AS (
    SELECT
        m.rid,
        m.unit_id,
        m.members,
        m.weight,
        m.duration_s,
        m.is_last,
        r.plan AS tariff_plan,
        o.status,
        o.plan_currency,
        o.rate_ref,
        fx.fx,
        CAST(CAST(o.plan_cost AS DECIMAL(38, 6)) * 1000000 AS HUGEINT) AS plan_micro,
        CAST(rl_convert(o.plan_cost, fx.fx) * 1000000 AS HUGEINT) AS cost_micro
    FROM rl_multi AS m
    JOIN rating_rows AS r ON r.rid = m.rid
    JOIN r_out AS o ON o.unit_id = m.unit_id
    LEFT JOIN rl_fx AS fx ON fx.currency = o.plan_currency
),

-- a floor share per row, in proportion to its talk time; the last row of the leg takes what the floors leave
floors AS (
    SELECT
        *,
        CASE WHEN weight = 0 THEN CASE WHEN is_last THEN plan_micro ELSE 0 END
            ELSE plan_micro * duration_s // weight END AS plan_floor,
        CASE WHEN weight = 0 THEN CASE WHEN is_last THEN cost_micro ELSE 0 END
            ELSE cost_micro * duration_s // weight END AS cost_floor
    FROM shared
),

settled AS (
    SELECT
        *,
        plan_floor + CASE WHEN is_last THEN plan_micro - sum(plan_floor) OVER (PARTITION BY unit_id) ELSE 0 END
            AS plan_share,
        cost_floor + CASE WHEN is_last THEN cost_micro - sum(cost_floor) OVER (PARTITION BY unit_id) ELSE 0 END
            AS cost_share
    FROM floors
)

SELECT * FROM single
UNION ALL
SELECT
    rid,
    tariff_plan,
    CAST(CAST(plan_share AS HUGEINT) * CAST(0.000001 AS DECIMAL(18, 6)) AS DECIMAL(18, 6)) AS plan_cost,
    plan_currency,
    CASE WHEN plan_currency IS NULL OR fx IS NOT NULL
        THEN CAST(CAST(cost_share AS HUGEINT) * CAST(0.000001 AS DECIMAL(18, 6)) AS DECIMAL(18, 6))
    END AS cost,
    CASE
        WHEN plan_currency IS NOT NULL AND fx IS NULL THEN rl_no_fx(plan_currency)
        WHEN status = 'rated'
            THEN rate_ref || ' (' || duration_s || ' of ' || weight || ' s of a transferred carrier leg)'
        ELSE rate_ref
    END AS rate_ref
FROM settled;
"""


def price_rows(con: duckdb.DuckDBPyConnection, settings: Settings, book: TariffBook) -> None:
    """Price table `rating_rows` into `priced_rows` (rid, tariff_plan, plan_cost, plan_currency, cost, rate_ref).

    rating_rows: rid, plan, gateway, number_id (into `rate_numbers`), rdir ('out'|'in'), started_at,
    answered_at, duration_s, carrier_s, trunk_leg_id; only billable rows with an outside party.
    """
    _fx_table(con, settings, book)
    con.execute(_PRICE_SQL)
    rate(con, book)
    con.execute(_ALLOCATE_SQL)


_NUMBERS_OF_DAY = """
CREATE OR REPLACE TEMP TABLE rl_numbers AS
SELECT
    rowid AS rid,
    site,
    CASE
        WHEN direction IN ('outgoing', 'tandem') AND outpulsed_number IS NOT NULL THEN 'sent'
        WHEN direction IN ('outgoing', 'tandem') THEN 'out'
        ELSE 'in'
    END AS mode,
    CASE WHEN direction IN ('outgoing', 'tandem') THEN coalesce(outpulsed_number, other_number) ELSE other_number END
        AS raw
FROM calls_day
WHERE direction <> 'internal'
"""

_RATING_ROWS_OF_DAY = """
CREATE OR REPLACE TEMP TABLE rating_rows AS
SELECT
    c.rowid AS rid,
    d.plan,
    c.gateway,
    n.number_id,
    CASE WHEN c.direction = 'incoming' THEN 'in' ELSE 'out' END AS rdir,
    c.started_at,
    c.answered_at,
    c.duration_s,
    c.carrier_s,
    c.trunk_leg_id
FROM calls_day AS c
JOIN rl_row_numbers AS n ON n.rid = c.rowid
LEFT JOIN rl_device_plans AS d ON d.gateway_device = c.gateway_device
WHERE c.billable AND c.direction IN ('outgoing', 'incoming', 'tandem')
"""

_PRICED_DAY = """
CREATE OR REPLACE TABLE calls_day_priced AS
SELECT c.* REPLACE (
    coalesce(k.e164, c.e164) AS e164,
    coalesce(k.nation, c.nation) AS nation,
    coalesce(k.area, c.area) AS area,
    CASE WHEN c.direction = 'internal' THEN 'internal' ELSE coalesce(k.destination_type, 'unknown') END
        AS destination_type,
    coalesce(k.operator, c.operator) AS operator,
    CASE
        WHEN p.rid IS NOT NULL THEN p.cost
        WHEN c.direction = 'internal' THEN CAST(0 AS DECIMAL(18, 6))
    END AS cost,
    CASE
        WHEN p.rid IS NOT NULL AND p.cost IS NOT NULL THEN $currency
        WHEN p.rid IS NULL AND c.direction = 'internal' THEN $currency
    END AS currency,
    coalesce(p.tariff_plan, d.plan) AS tariff_plan,
    CASE
        WHEN p.rid IS NOT NULL THEN p.rate_ref
        WHEN c.direction = 'internal' THEN 'free: internal'
        ELSE 'not billable: ' || CASE
            WHEN c.leg_role = 'transit' THEN 'transit leg with nobody inside the company'
            ELSE c.leg_kind || ' leg'
        END
    END AS rate_ref,
    p.plan_cost AS plan_cost,
    p.plan_currency AS plan_currency
)
FROM calls_day AS c
LEFT JOIN rl_row_numbers AS n ON n.rid = c.rowid
LEFT JOIN num_class AS k ON k.number_id = n.number_id
LEFT JOIN priced_rows AS p ON p.rid = c.rowid
LEFT JOIN rl_device_plans AS d ON d.gateway_device = c.gateway_device
ORDER BY CAST(c.started_at AS DATE), c.extension, c.started_at
"""


_WORK_TABLES = (
    "rl_numbers",
    "rl_keyed",
    "rl_need",
    "num_class",
    "rl_row_numbers",
    "rate_numbers",
    "rating_rows",
    "rl_shared",
    "rl_multi",
    "rate_in",
    "priced_rows",
)


@dataclass
class Pricing:
    """What pricing did: numbers seen and classified, rows priced, rows without a cost, records per day."""

    numbers: int = 0
    new_numbers: int = 0
    priced: int = 0
    unrated: int = 0
    records: dict[date, Path] = field(default_factory=dict)


def price_calls(con: duckdb.DuckDBPyConnection, writer: LakeWriter, settings: Settings, days: list[date]) -> Pricing:
    """Classify and price the connection's `calls_day` table (calls of the UTC `days`) in place.

    See the module docstring. The priced table is sorted by UTC day, extension and time, the order
    the lake keeps calls in. The rating record of each of the days is staged for the caller to publish.
    """
    book = load_tariffs(settings)
    con.execute(_NUMBERS_OF_DAY)
    counts = classify_numbers(con, writer, settings, "rl_numbers")
    _device_plans(con, settings, "calls_day")
    con.execute(_RATING_ROWS_OF_DAY)
    price_rows(con, settings, book)
    con.execute(_PRICED_DAY, {"currency": settings.company.currency})
    con.execute("DROP TABLE calls_day")
    con.execute("ALTER TABLE calls_day_priced RENAME TO calls_day")
    stats = con.execute(
        "SELECT count(*) FILTER (WHERE cost IS NOT NULL), count(*) FILTER (WHERE cost IS NULL) "
        "FROM calls_day WHERE billable"
    ).fetchall()[0]
    result = Pricing(counts["numbers"], counts["new"], int(stats[0]), int(stats[1]))
    result.records = _rating_records(con, writer, book, days)
    for name in _WORK_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")
    cleanup(con)
    return result


def day_span(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a UTC day starts and ends at."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _rating_records(
    con: duckdb.DuckDBPyConnection, writer: LakeWriter, book: TariffBook, days: list[date]
) -> dict[date, Path]:
    """Stage, for each of the days, which plan versions priced its billable rows (dataset `rating_days`)."""
    per_plan: dict[date, list[tuple[str, int, int]]] = {}
    for day, plan, rows, unrated in con.execute(
        "SELECT CAST(started_at AS DATE), coalesce(tariff_plan, ''), count(*), count(*) FILTER (WHERE cost IS NULL) "
        "FROM calls_day WHERE billable GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall():
        per_plan.setdefault(day, []).append((plan, rows, unrated))
    now = datetime.now(UTC)
    stage = writer.lake.staging_dir(f"rating-{min(days)}-{uuid.uuid4().hex[:8]}")
    records: dict[date, Path] = {}
    for day in days:
        start, end = day_span(day)
        cols: dict[str, list] = {f.name: [] for f in RATING_DAY_SCHEMA}
        for plan, rows, unrated in per_plan.get(day, []):
            states = book.version_states(plan, start, end) if plan else [("", "none")]
            for version, digest in states or [("", "no version")]:
                for k, v in (
                    ("day", day),
                    ("plan", plan),
                    ("version", version),
                    ("digest", digest),
                    ("rows", rows),
                    ("unrated", unrated),
                    ("priced_at", now),
                ):
                    cols[k].append(v)
        records[day] = stage / f"rating-{uuid.uuid4().hex[:12]}.parquet"
        pq.write_table(pa.table(cols, schema=RATING_DAY_SCHEMA), records[day])
    return records


# -- which days a tariff change touches -------------------------------------------------------------


def affected_days(settings: Settings, book: TariffBook | None = None) -> list[date]:
    """Days whose recorded plan versions differ from what the tariffs say now (changed, added, removed)."""
    book = book or load_tariffs(settings)
    lake = Lake(settings.lake_dir)
    files = lake.files("rating_days")
    if not files:
        return []
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT day, plan, list(DISTINCT version || ':' || digest) FROM read_parquet(?) "
            "WHERE plan <> '' GROUP BY day, plan",
            [[str(f) for f in files]],
        ).fetchall()
    finally:
        con.close()
    out = set()
    for day, plan, recorded in rows:
        start, end = day_span(day)
        now = {f"{v}:{d}" for v, d in (book.version_states(plan, start, end) or [("", "no version")])}
        if now != set(recorded):
            out.add(day)
    return sorted(out)


def mark_days(settings: Settings, days: list[date]) -> int:
    """Mark days for a rebuild (the pipeline's changed-days sensor picks them up); returns how many were new."""
    from warehouse import appdb
    from warehouse.appdb import dirty_day, utcnow

    if not days:
        return 0
    engine = appdb.open_db(settings)
    added = 0
    with engine.begin() as conn:
        existing = {r[0] for r in conn.execute(sa.select(dirty_day.c.day).where(dirty_day.c.day.in_(days)))}
        for d in sorted(set(days) - existing):
            conn.execute(dirty_day.insert().values(day=d, marked_at=utcnow()))
            added += 1
    return added


# -- re-rating and what-if -----------------------------------------------------------------------------


COST_CENTRE_SQL = """
SELECT coalesce(cost_centre, '(none)') AS cost_centre, coalesce(department, '(none)') AS department,
       count(*) FILTER (WHERE billable) AS calls, coalesce(sum(cost), 0) AS cost,
       count(*) FILTER (WHERE billable AND cost IS NULL) AS unrated
FROM calls
WHERE day BETWEEN ? AND ?
GROUP BY ALL
"""


@dataclass
class Difference:
    """Cost of one cost centre and department before and after (company currency)."""

    cost_centre: str
    department: str
    calls: int
    before: Decimal
    after: Decimal
    unrated_before: int
    unrated_after: int

    @property
    def change(self) -> Decimal:
        """After minus before."""
        return self.after - self.before


def _by_centre(settings: Settings, start: date, end: date) -> dict[tuple[str, str], tuple[int, Decimal, int]]:
    import warehouse

    con = warehouse.connect(settings)
    return {
        (cc, dep): (calls, cost, unrated)
        for cc, dep, calls, cost, unrated in con.execute(COST_CENTRE_SQL, [start, end]).fetchall()
    }


def _differences(before: dict, after: dict) -> list[Difference]:
    out = []
    for key in sorted(set(before) | set(after)):
        b = before.get(key, (0, Decimal(0), 0))
        a = after.get(key, (0, Decimal(0), 0))
        out.append(Difference(key[0], key[1], max(a[0], b[0]), Decimal(b[1]), Decimal(a[1]), b[2], a[2]))
    return out


def rerate(settings: Settings, start: date, end: date, progress=None, *, actor: str | None = None) -> list[Difference]:
    """Re-price the UTC days start..end with today's tariffs; returns the change per cost centre and department.

    The days' calls are rebuilt from the raw records with today's settings (sites, devices, tariffs),
    under the lake's lock; `progress(done, of, day)` is called after each day. The days are marked for
    a rebuild first, so one stopped half way is finished by the pipeline. With `actor`, the re-rating
    is written to the audit log.
    """
    from warehouse.calls import build_days
    from warehouse.ingest import Ingestor

    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    lake = Lake(settings.lake_dir)
    days = [date.fromisoformat(d) for d in lake.days("raw_cdr") if start <= date.fromisoformat(d) <= end]
    before = _by_centre(settings, start, end)
    if days:
        mark_days(settings, days)
        with lake.writer() as writer:
            build_days(writer, settings, days, progress=progress)
            Ingestor(settings).clear_dirty(days)
    diffs = _differences(before, _by_centre(settings, start, end))
    if actor is not None:
        from warehouse import appdb
        from warehouse.audit import CALLS_REPROCESSED, audit

        audit(
            appdb.open_db(settings),
            actor,
            CALLS_REPROCESSED,
            f"{start.isoformat()}..{end.isoformat()}",
            {"days": len(days), "change": str(sum((d.change for d in diffs), Decimal(0)))},
        )
    return diffs


_WHATIF_ROWS = """
CREATE OR REPLACE TEMP TABLE rating_rows AS
SELECT
    row_number() OVER () AS rid,
    $plan AS plan,
    gateway,
    substr(e164, 2) AS digits,
    nation,
    coalesce(destination_type, 'unknown') AS dtype,
    CASE WHEN direction = 'incoming' THEN 'in' ELSE 'out' END AS rdir,
    direction,
    billable,
    started_at,
    answered_at,
    duration_s,
    carrier_s,
    trunk_leg_id,
    coalesce(cost_centre, '(none)') AS cost_centre,
    coalesce(department, '(none)') AS department,
    cost AS cost_now
FROM calls
WHERE day BETWEEN $start AND $end AND billable AND direction IN ('outgoing', 'tandem', 'incoming')
"""
_WHATIF_GATEWAYS = " AND (list_contains($gateways, gateway) OR list_contains($gateways, lower(gateway_device)))"


def whatif(
    settings: Settings, plan: str, start: date, end: date, gateways: list[str] | None = None
) -> tuple[list[Difference], str]:
    """Price a period's real traffic under another plan, storing nothing; per cost centre and department."""
    import warehouse

    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    book = load_tariffs(settings)
    chosen = book.plan(plan)
    if settings.exchange_rate(chosen.currency) is None:
        raise ValueError(
            f"plan {plan} is in {chosen.currency}: add {chosen.currency} to [currencies] in the configuration"
        )
    view = warehouse.connect(settings)
    sql = _WHATIF_ROWS.replace("CREATE OR REPLACE TEMP TABLE rating_rows AS", "")
    params: dict = {"plan": plan, "start": start, "end": end}
    if gateways:
        sql += _WHATIF_GATEWAYS
        params["gateways"] = [g for g in gateways] + [g.lower() for g in gateways]
    rows = view.sql(sql, params=params).to_arrow_table()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        _table(con, "rating_src", rows)
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE rate_numbers AS
            SELECT row_number() OVER () AS number_id, *
            FROM (SELECT DISTINCT digits, nation, dtype, rdir AS direction FROM rating_src);

            CREATE OR REPLACE TEMP TABLE rating_rows AS
            SELECT s.*, n.number_id
            FROM rating_src AS s
            JOIN rate_numbers AS n
                ON n.digits IS NOT DISTINCT FROM s.digits AND n.nation IS NOT DISTINCT FROM s.nation
                AND n.dtype = s.dtype AND n.direction = s.rdir;
            """
        )
        price_rows(con, settings, book)
        result = con.execute(
            """
            SELECT r.cost_centre, r.department, count(*), coalesce(sum(r.cost_now), 0), coalesce(sum(p.cost), 0),
                   count(*) FILTER (WHERE r.cost_now IS NULL), count(*) FILTER (WHERE p.cost IS NULL)
            FROM rating_rows AS r LEFT JOIN priced_rows AS p USING (rid)
            GROUP BY ALL ORDER BY 1, 2
            """
        ).fetchall()
    finally:
        con.close()
    diffs = [Difference(cc, dep, calls, Decimal(b), Decimal(a), ub, ua) for cc, dep, calls, b, a, ub, ua in result]
    return diffs, chosen.currency


def explain_call(settings: Settings, call_id: str) -> list[tuple[dict, Explanation]]:
    """Re-price one stored call's billable rows with the same code and explain each price."""
    import warehouse

    view = warehouse.connect(settings)
    rows = view.sql(
        "SELECT * FROM calls WHERE call_id = $call AND billable ORDER BY started_at, leg_id",
        params={"call": call_id},
    ).to_arrow_table()
    if rows.num_rows == 0:
        exists = view.execute("SELECT count(*) FROM calls WHERE call_id = ?", [call_id]).fetchall()[0][0]
        raise ValueError(f"call {call_id}: " + ("no billable rows" if exists else "not found in the calls"))
    days = sorted({d for d in rows.column("day").to_pylist() if d is not None})
    lake = Lake(settings.lake_dir)
    # the whole carrier leg may span rows of other calls' days: take the day's rows of the same legs
    legs = [x for x in rows.column("trunk_leg_id").to_pylist() if x]
    files = lake.files("calls", days)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        day_rows = con.sql(
            "SELECT * FROM read_parquet($files, union_by_name = true) "
            "WHERE call_id = $call OR list_contains($legs, trunk_leg_id)",
            params={"files": [str(f) for f in files], "call": call_id, "legs": legs},
        ).to_arrow_table()
        _table(con, "calls_day", day_rows)
        con.execute(_NUMBERS_OF_DAY)
        classify_numbers(con, None, settings, "rl_numbers")
        _device_plans(con, settings, "calls_day")
        con.execute(_RATING_ROWS_OF_DAY)
        book = load_tariffs(settings)
        price_rows(con, settings, book)
        reg = prepare(con, book)
        wanted = con.execute(
            "SELECT coalesce(m.unit_id, c.rowid), c.leg_id, c.extension, c.direction, c.other_number, c.duration_s, "
            "p.cost, p.rate_ref FROM calls_day AS c JOIN priced_rows AS p ON p.rid = c.rowid "
            "LEFT JOIN rl_multi AS m ON m.rid = c.rowid "
            "WHERE c.call_id = ? ORDER BY c.started_at, c.leg_id",
            [call_id],
        ).fetchall()
        out = []
        for unit_id, leg_id, ext, direction, other, dur, cost, ref in wanted:
            row = {
                "leg_id": leg_id,
                "extension": ext,
                "direction": direction,
                "other_number": other,
                "duration_s": dur,
                "cost": cost,
                "rate_ref": ref,
            }
            out.append((row, explain(con, reg, unit_id)))
        return out
    finally:
        con.close()
