"""Finding, loading and caching tariff plans, and laying them out as tables for the rating SQL.

Plans live as own-format folders under the tariffs directory (`$RINGLEDGER_HOME/tariffs/<name>/`);
a configuration may add plans from other paths, in any supported format. A plan that cannot be read
does not stop the others: its calls stay unrated with the error as the reason.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from tariffs.cgrates import is_cgrates_folder, read_cgrates
from tariffs.deck import DeckOptions, read_deck
from tariffs.model import (
    ANY_BAND,
    CATCH_ALL,
    RATE_SCHEMA,
    Plan,
    TariffError,
    Version,
    day_intervals,
    local_to_utc,
)
from tariffs.own import PLAN_FILE, is_own_plan, read_plan

FORMATS = ("own", "deck", "cgrates")


def detect_format(path: Path) -> str:
    """'own' (plan.toml), 'cgrates' (a tariff-plan folder) or 'deck' (a CSV file)."""
    path = Path(path)
    if is_own_plan(path):
        return "own"
    if is_cgrates_folder(path):
        return "cgrates"
    if path.is_file():
        return "deck"
    if not path.exists():
        raise TariffError(path, "no such file or folder")
    raise TariffError(path, f"not a tariff: expected a folder with {PLAN_FILE}, a CGRateS folder or a CSV deck")


@dataclass(frozen=True)
class PlanSource:
    """Where a configured plan comes from, and the terms a deck or CGRateS folder does not carry."""

    path: Path
    format: str = ""
    name: str = ""
    currency: str = ""
    time_zone: str = "UTC"
    country: str = ""
    billing: tuple[int, int] = (1, 1)


def load_source(source: PlanSource) -> list[Plan]:
    """The plans at a source (a CGRateS folder may hold several)."""
    fmt = source.format or detect_format(source.path)
    if fmt == "own":
        plan = read_plan(source.path)
        return [Plan(**{**plan.__dict__, "name": source.name})] if source.name else [plan]
    if fmt == "deck":
        first, inc = source.billing
        options = DeckOptions(
            name=source.name or source.path.stem,
            currency=source.currency,
            time_zone=source.time_zone,
            country=source.country,
            first_block=first,
            increment=inc,
        )
        return [read_deck(source.path, options)[0]]
    if fmt == "cgrates":
        return read_cgrates(source.path, currency=source.currency, time_zone=source.time_zone)
    raise TariffError(source.path, f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def _stamp(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted({Path(x) for x in paths}):
        try:
            st = p.stat()
            h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        except FileNotFoundError:
            h.update(f"{p}|missing\n".encode())
    return h.hexdigest()[:16]


def source_files(tariffs_dir: Path, sources: Iterable[PlanSource] = ()) -> list[Path]:
    """Every file whose change may change a price: plan folders' files and configured sources."""
    out: list[Path] = []
    tariffs_dir = Path(tariffs_dir)
    if tariffs_dir.is_dir():
        for folder in sorted(p for p in tariffs_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
            out += sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    for s in sources:
        p = Path(s.path)
        out += sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
    return out


def fingerprint(tariffs_dir: Path, sources: Iterable[PlanSource] = ()) -> str:
    """Changes whenever a tariff file is added, removed or changed (sizes and times, no reading)."""
    return _stamp(source_files(tariffs_dir, sources))


@dataclass
class TariffBook:
    """The plans in force: by name, plus the errors of plans that could not be read."""

    plans: dict[str, Plan] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    stamp: str = ""

    def plan(self, name: str) -> Plan:
        """The plan of this name; a clear error when it is missing or broken."""
        if name in self.plans:
            return self.plans[name]
        if name in self.errors:
            raise TariffError(name, self.errors[name])
        known = ", ".join(sorted(self.plans)) or "none installed"
        raise TariffError(name, f"no tariff plan {name!r} (plans: {known})")

    def version_states(self, name: str, start: datetime, end: datetime) -> list[tuple[str, str]]:
        """(version id, digest) of the plan's versions that overlap [start, end); ('', error) when broken."""
        if name in self.errors:
            return [("", "error:" + hashlib.sha256(self.errors[name].encode()).hexdigest()[:12])]
        plan = self.plans.get(name)
        if plan is None:
            return [("", "missing")]
        return [
            (v.id, v.digest())
            for v in plan.versions
            if (v.valid_from is None or v.valid_from < end) and (v.valid_to is None or v.valid_to > start)
        ]


_cache: dict[tuple, TariffBook] = {}
_cache_lock = threading.Lock()


def load_book(tariffs_dir: Path, sources: dict[str, PlanSource] | None = None) -> TariffBook:
    """Every plan under the tariffs directory plus configured sources; cached until a file changes."""
    sources = sources or {}
    tariffs_dir = Path(tariffs_dir)
    stamp = fingerprint(tariffs_dir, sources.values())
    key = (str(tariffs_dir.resolve()), tuple(sorted((k, str(v)) for k, v in sources.items())))
    with _cache_lock:
        book = _cache.get(key)
        if book is not None and book.stamp == stamp:
            return book
    book = TariffBook(stamp=stamp)
    folders = []
    if tariffs_dir.is_dir():
        folders = sorted(p for p in tariffs_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for folder in folders:
        if not (folder / PLAN_FILE).is_file():
            continue
        try:
            plan = read_plan(folder)
        except TariffError as exc:
            book.errors[folder.name] = str(exc)
            continue
        book.plans[plan.name] = plan
    for name, source in sources.items():
        try:
            for plan in load_source(PlanSource(**{**source.__dict__, "name": source.name or name})):
                book.plans[plan.name] = plan
        except TariffError as exc:
            book.errors[name] = str(exc)
    with _cache_lock:
        _cache[key] = book
    return book


def book_of(plans: Iterable[Plan]) -> TariffBook:
    """A book of plans held in memory (quotes, what-ifs, tests)."""
    book = TariffBook()
    for p in plans:
        book.plans[p.name] = p
    book.stamp = hashlib.sha256(
        "|".join(sorted(f"{p.name}:{v.digest()}" for p in book.plans.values() for v in p.versions)).encode()
    ).hexdigest()[:16]
    return book


# -- tables for the rating SQL ------------------------------------------------------------------------


def _country_code_length(nation: str) -> int:
    cc = phonenumbers.country_code_for_region(nation)
    return len(str(cc)) if cc else 0


@dataclass
class Registered:
    """What `register` put on a connection: version objects by id, for band intervals and explanations."""

    versions: dict[int, tuple[Plan, Version]]
    bandsets: dict[tuple[int, int], tuple[str, ...]]
    stamp: str
    intervals_range: tuple[date, date] | None = None


def register(con: duckdb.DuckDBPyConnection, book: TariffBook) -> Registered:
    """Create the tariff tables (t_plans, t_versions, t_free, t_epochs, t_keys, t_rates, t_steps, t_lens)."""
    plans_rows = []
    version_rows = []
    free_rows = []
    versions: dict[int, tuple[Plan, Version]] = {}
    rate_tables = []
    vid = 0
    for pid, name in enumerate(sorted(book.plans), start=1):
        plan = book.plans[name]
        plans_rows.append((pid, plan.name, plan.currency, plan.time_zone))
        for v in plan.versions:
            vid += 1
            versions[vid] = (plan, v)
            steps = v.rates.column("steps").combine_chunks()
            pers = set(pc.unique(steps.flatten().field("per_s")).to_pylist()) if len(steps) else set()
            # the common denominator of every price unit: money is summed as whole 1e-8 / units
            units = math.lcm(*pers) if pers else 1
            version_rows.append(
                (vid, pid, v.id, v.valid_from, v.valid_to, v.band_mode, v.rounding_decimals, v.rounding_method, units)
            )
            free_rows += [(vid, f) for f in sorted(v.free)]
            rates = v.rates.append_column("version_id", pa.array([vid] * v.rates.num_rows, pa.int32()))
            rate_tables.append(rates)
    _table(
        con,
        "t_plans",
        pa.table(
            {
                k: pa.array([r[i] for r in plans_rows], t)
                for i, (k, t) in enumerate(
                    [
                        ("plan_id", pa.int32()),
                        ("plan", pa.string()),
                        ("currency", pa.string()),
                        ("time_zone", pa.string()),
                    ]
                )
            }
        ),
    )
    vcols = [
        ("version_id", pa.int32()),
        ("plan_id", pa.int32()),
        ("version", pa.string()),
        ("valid_from", pa.timestamp("us", tz="UTC")),
        ("valid_to", pa.timestamp("us", tz="UTC")),
        ("band_mode", pa.string()),
        ("decimals", pa.int32()),
        ("method", pa.string()),
        ("units", pa.int64()),
    ]
    _table(
        con, "t_versions", pa.table({k: pa.array([r[i] for r in version_rows], t) for i, (k, t) in enumerate(vcols)})
    )
    _table(
        con,
        "t_free",
        pa.table(
            {
                "version_id": pa.array([r[0] for r in free_rows], pa.int32()),
                "dtype": pa.array([r[1] for r in free_rows], pa.string()),
            }
        ),
    )
    broken = sorted(book.errors.items())
    _table(
        con,
        "t_broken",
        pa.table(
            {
                "plan": pa.array([b[0] for b in broken], pa.string()),
                "error": pa.array([b[1] for b in broken], pa.string()),
            }
        ),
    )
    schema = RATE_SCHEMA.append(pa.field("version_id", pa.int32()))
    rows = pa.concat_tables(rate_tables) if rate_tables else schema.empty_table()
    nations = sorted({n for n in rows.column("class_nation").to_pylist() if n and n != "*"}) if rows.num_rows else []
    _table(
        con,
        "t_cc",
        pa.table(
            {
                "nation": pa.array(nations, pa.string()),
                "cc_len": pa.array([_country_code_length(n) for n in nations], pa.int32()),
            }
        ),
    )
    con.register("t_rows_arrow", rows)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE t_rows AS SELECT row_number() OVER () AS row_id, * FROM t_rows_arrow")
    finally:
        con.unregister("t_rows_arrow")
    con.execute(_BUILD_SQL)
    bandsets: dict[tuple[int, int], tuple[str, ...]] = {
        (v, b): tuple(bands)
        for v, b, bands in con.execute("SELECT version_id, bandset_id, bands FROM t_bandsets").fetchall()
    }
    return Registered(versions=versions, bandsets=bandsets, stamp=book.stamp)


def _table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"{name}_arrow", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    finally:
        con.unregister(f"{name}_arrow")


# Keys are what a number matches (a prefix or a class, in a direction, within effective dates);
# a key has a rate per band; a rate has steps. Money becomes whole units of 1e-8 (the *_e8 columns)
# so sums and rounding are exact integer arithmetic.
_BUILD_SQL = """
CREATE OR REPLACE TEMP TABLE t_keys AS
WITH k AS (
    SELECT
        version_id,
        CASE WHEN prefix IS NOT NULL THEN 'prefix' ELSE 'class' END AS kind,
        prefix, class_nation, class_type, direction, effective_from, effective_to,
        min(row_id) AS first_row,
        list(DISTINCT band ORDER BY band) AS bands
    FROM t_rows
    GROUP BY ALL
)
SELECT
    row_number() OVER (ORDER BY k.version_id, k.first_row) AS key_id,
    k.*,
    r.destination,
    r.line,
    CASE
        WHEN k.kind = 'prefix' THEN 2 * length(k.prefix)
        WHEN k.class_nation = '*' THEN 1
        ELSE 2 * coalesce(cc.cc_len, 0) + 1
    END AS spec,
    array_to_string(k.bands, '|') AS bandset
FROM k
JOIN t_rows AS r ON r.row_id = k.first_row
LEFT JOIN t_cc AS cc ON cc.nation = k.class_nation;

CREATE OR REPLACE TEMP TABLE t_bandsets AS
SELECT version_id, row_number() OVER (ORDER BY version_id, bandset) AS bandset_id, bandset, any_value(bands) AS bands
FROM t_keys GROUP BY version_id, bandset;

ALTER TABLE t_keys ADD COLUMN bandset_id BIGINT;
UPDATE t_keys SET bandset_id = b.bandset_id FROM t_bandsets AS b
WHERE b.version_id = t_keys.version_id AND b.bandset = t_keys.bandset;

CREATE OR REPLACE TEMP TABLE t_lens AS
SELECT DISTINCT version_id, length(prefix) AS len FROM t_keys WHERE kind = 'prefix';

CREATE OR REPLACE TEMP TABLE t_rates AS
SELECT
    r.row_id AS rate_id,
    k.key_id,
    r.band,
    CAST(CAST(r.connect_fee AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS connect_e8,
    CAST(CAST(r.minimum_charge AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS minimum_e8,
    CAST(CAST(r.max_cost AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS max_e8,
    r.free_seconds AS free_s,
    coalesce(r.rounding_decimals, v.decimals) AS decimals,
    coalesce(r.rounding_method, v.method) AS method,
    len(r.steps) AS nsteps,
    r.line,
    v.units,
    r.connect_fee,
    r.minimum_charge,
    r.max_cost
FROM t_rows AS r
JOIN t_versions AS v USING (version_id)
JOIN t_keys AS k
    ON k.version_id = r.version_id
    AND k.prefix IS NOT DISTINCT FROM r.prefix
    AND k.class_nation IS NOT DISTINCT FROM r.class_nation
    AND k.class_type IS NOT DISTINCT FROM r.class_type
    AND k.direction = r.direction
    AND k.effective_from IS NOT DISTINCT FROM r.effective_from
    AND k.effective_to IS NOT DISTINCT FROM r.effective_to;

CREATE OR REPLACE TEMP TABLE t_steps AS
WITH s AS (
    SELECT r.row_id AS rate_id, r.version_id, u.step, u.k
    FROM t_rows AS r, unnest(r.steps) WITH ORDINALITY AS u(step, k)
)
SELECT
    s.rate_id,
    CAST(s.k - 1 AS INTEGER) AS k,
    s.step.start_s AS start_s,
    lead(s.step.start_s) OVER (PARTITION BY s.rate_id ORDER BY s.k) AS end_s,
    CAST(CAST(s.step.price AS DECIMAL(38, 8)) * 100000000 AS HUGEINT) AS price_e8,
    s.step.price AS price,
    s.step.per_s AS per_s,
    s.step.increment_s AS inc_s,
    CAST(v.units // s.step.per_s AS BIGINT) AS mult
FROM s JOIN t_versions AS v USING (version_id);

CREATE OR REPLACE TEMP TABLE t_epochs AS
WITH points AS (
    SELECT plan_id, CAST('-infinity' AS TIMESTAMPTZ) AS at FROM t_plans
    UNION SELECT plan_id, valid_from FROM t_versions WHERE valid_from IS NOT NULL
    UNION SELECT plan_id, valid_to FROM t_versions WHERE valid_to IS NOT NULL
    UNION SELECT v.plan_id, k.effective_from FROM t_keys AS k JOIN t_versions AS v USING (version_id)
        WHERE k.effective_from IS NOT NULL
    UNION SELECT v.plan_id, k.effective_to FROM t_keys AS k JOIN t_versions AS v USING (version_id)
        WHERE k.effective_to IS NOT NULL
)
SELECT
    row_number() OVER (ORDER BY p.plan_id, p.at) AS epoch_id,
    p.plan_id,
    p.at AS epoch_start,
    (
        SELECT any_value(v.version_id) FROM t_versions AS v
        WHERE v.plan_id = p.plan_id
            AND (v.valid_from IS NULL OR v.valid_from <= p.at)
            AND (v.valid_to IS NULL OR v.valid_to > p.at)
    ) AS version_id
FROM points AS p;
"""


def intervals(reg: Registered, start: datetime, end: datetime) -> pa.Table:
    """Band intervals in UTC per (version, band set) covering [start, end): the band schedule, resolved."""
    out: dict[str, list] = {"version_id": [], "bandset_id": [], "band": [], "utc_from": [], "utc_to": []}
    lo = datetime(1, 1, 2, tzinfo=UTC)
    hi = datetime(9999, 12, 30, tzinfo=UTC)
    for (vid, bid), bands in reg.bandsets.items():
        plan, version = reg.versions[vid]
        windows = [w for w in version.windows if w.band in bands]
        if ANY_BAND in bands:
            windows.append(CATCH_ALL)
        rows: list[list] = []
        if bands == (ANY_BAND,):
            rows.append([ANY_BAND, lo, hi])
        else:
            zone = plan.zone
            day = start.astimezone(zone).date() - timedelta(days=1)
            last = end.astimezone(zone).date() + timedelta(days=1)
            while day <= last:
                for a, b, band in day_intervals(windows, day, version.is_holiday(day)):
                    f, t = local_to_utc(day, a, zone), local_to_utc(day, b, zone)
                    if t <= f:
                        continue
                    if rows and rows[-1][0] == band and rows[-1][2] >= f:
                        rows[-1][2] = max(rows[-1][2], t)
                    else:
                        if rows and rows[-1][2] > f:
                            f = rows[-1][2]
                        rows.append([band, f, t])
                day += timedelta(days=1)
            if rows:
                rows[0][1] = lo
                rows[-1][2] = hi
        for band, f, t in rows:
            out["version_id"].append(vid)
            out["bandset_id"].append(bid)
            out["band"].append(band)
            out["utc_from"].append(f)
            out["utc_to"].append(t)
    return pa.table(
        {
            "version_id": pa.array(out["version_id"], pa.int32()),
            "bandset_id": pa.array(out["bandset_id"], pa.int64()),
            "band": pa.array(out["band"], pa.string()),
            "utc_from": pa.array(out["utc_from"], pa.timestamp("us", tz="UTC")),
            "utc_to": pa.array(out["utc_to"], pa.timestamp("us", tz="UTC")),
        }
    )
