"""`warehouse.connect()`: a DuckDB connection with the lake's views (the calls contract).

One in-memory DuckDB database per process holds the views; they are rebuilt whenever a lake
manifest changes. Each caller gets its own cursor, so threads never share a connection.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse.lake import Lake
from warehouse.querytext import sql_paths
from warehouse.schemas import empty_raw

REJECT_COLUMNS = "source_file, source_line, kind, reason, raw, day"
LATE_MATERIALIZATION_ROWS = 1_000_001  # the most rows a report may ask for, plus one

_DIRECTORY_USERS = pa.schema(
    [
        ("user_id", pa.string()),
        ("user_name", pa.string()),
        ("first_name", pa.string()),
        ("last_name", pa.string()),
        ("email", pa.string()),
        ("department", pa.string()),
        ("cost_centre", pa.string()),
        ("manager_id", pa.string()),
        ("site", pa.string()),
        ("language", pa.string()),
        ("time_zone", pa.string()),
        ("role", pa.string()),
        ("active", pa.bool_()),
    ]
)
_DIRECTORY_EXTENSIONS = pa.schema(
    [
        ("extension", pa.string()),
        ("user_id", pa.string()),
        ("valid_from", pa.timestamp("us", tz="UTC")),
        ("valid_to", pa.timestamp("us", tz="UTC")),
    ]
)
DIRECTORY_SCHEMAS = {"users": _DIRECTORY_USERS, "extensions": _DIRECTORY_EXTENSIONS}


class Warehouse:
    """The process-wide DuckDB database with views over one lake."""

    def __init__(self, lake_dir: Path, threads: int = 2, memory_limit: str = "4GB"):
        self.lake = Lake(lake_dir)
        # what a query holds beyond the memory limit goes to the data home, not the working directory
        spill = Path(lake_dir).parent / "spill"
        self.db = duckdb.connect(
            config={"threads": threads, "memory_limit": memory_limit, "temp_directory": str(spill)}
        )
        self.db.execute("SET TimeZone = 'UTC'")
        # A call list sorts on a few columns and fetches the others only for the rows it keeps
        # (DuckDB's default does that for 50 rows at most; lists show up to 5,000 by default).
        self.db.execute(f"SET late_materialization_max_rows = {LATE_MATERIALIZATION_ROWS}")
        self._token: tuple | None = None
        self._lock = threading.Lock()
        self._schemas: dict[str, tuple] = {}  # file -> its column names and types (files never change)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own for the caller, with views that match the lake right now."""
        self.refresh()
        cur = self.db.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def refresh(self, force: bool = False) -> None:
        """Rebuild the views if any manifest changed since the last time."""
        token = self.lake.state_token()
        if token == self._token and not force:
            return
        with self._lock:
            if token == self._token and not force:
                return
            self._build_views()
            self._token = token

    def _union(self, files: list[Path]) -> str:
        """'true' when the files' columns differ (older files lack newer columns), else 'false'.

        Unioning by name makes DuckDB read every file's footer each time a query is planned (about
        40 ms for a year of day files); files of one layout are read as they are.
        """
        import pyarrow.parquet as pq

        seen = set()
        for f in files:
            key = str(f)
            if key not in self._schemas:
                try:
                    schema = pq.read_schema(f)
                except (OSError, pa.ArrowInvalid):
                    return "true"
                self._schemas[key] = tuple((n.name, str(n.type)) for n in schema)
            seen.add(self._schemas[key])
            if len(seen) > 1:
                return "true"
        return "false"

    def _table_sql(self, dataset: str, empty: pa.Table | str, hive: bool = True) -> str:
        """The dataset's files, or when it has none an empty table of that schema (or that query's shape)."""
        files = self.lake.files(dataset)
        if files:
            return (
                f"SELECT * FROM read_parquet({sql_paths(files)}, union_by_name = {self._union(files)}, "
                f"hive_partitioning = {'true' if hive else 'false'})"
            )
        if isinstance(empty, str):
            return empty
        return f"SELECT * FROM {self._empty(f'_empty_{dataset}', empty)}"

    def _empty(self, name: str, table: pa.Table) -> str:
        """A real (shared) table with the schema of `table`, so every cursor can see it."""
        self.db.register("_arrow_schema", table)
        try:
            self.db.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _arrow_schema LIMIT 0")
        finally:
            self.db.unregister("_arrow_schema")
        return name

    def _build_views(self) -> None:
        db = self.db
        db.execute(f"CREATE OR REPLACE VIEW cdr AS {self._table_sql('raw_cdr', empty_raw('cdr'))}")
        db.execute(f"CREATE OR REPLACE VIEW cmr AS {self._table_sql('raw_cmr', empty_raw('cmr'))}")
        from warehouse.cucm import REJECT_SCHEMA

        db.execute(
            f"CREATE OR REPLACE VIEW rejects AS SELECT {REJECT_COLUMNS} FROM "
            f"({self._table_sql('rejects', REJECT_SCHEMA.empty_table())})"
        )
        for name, schema in DIRECTORY_SCHEMAS.items():
            files = [f for f in self.lake.files("directory") if f.name.startswith(name)]
            if files:
                sql = f"SELECT * FROM read_parquet({sql_paths(files)}, hive_partitioning = false)"
            else:
                sql = f"SELECT * FROM {self._empty(f'_empty_directory_{name}', schema.empty_table())}"
            db.execute(f"CREATE OR REPLACE VIEW directory_{name} AS {sql}")
        calls_files = self.lake.files("calls")
        if calls_files:
            base = (
                f"read_parquet({sql_paths(calls_files)}, union_by_name = {self._union(calls_files)}, "
                "hive_partitioning = true)"
            )
        else:
            from warehouse.calls import empty_calls

            base = self._empty("_empty_calls", empty_calls())
            # files carry their UTC day in the partition path; an empty lake has the column too
            self.db.execute("ALTER TABLE _empty_calls ADD COLUMN IF NOT EXISTS day DATE")
        # The calls as the pipeline wrote them, without the directory: the report engine reads these
        # when a query names no column of the directory (it saves a join per call on large lakes).
        db.execute(f"CREATE OR REPLACE VIEW calls_facts AS SELECT * FROM {base}")
        # Each extension's owners with their department and cost centre, joined to the calls in one step.
        db.execute(
            """
            CREATE OR REPLACE TABLE directory_owners AS
            SELECT a.extension, a.valid_from, a.valid_to, a.user_id, u.user_name, u.department, u.cost_centre
            FROM directory_extensions AS a
            LEFT JOIN directory_users AS u ON u.user_id = a.user_id
            """
        )
        # The directory is joined when the calls are read, so a change of owner or department shows
        # at once; an extension's owner is the one whose assignment covers the call's start.
        db.execute(f"CREATE OR REPLACE VIEW calls AS {with_owners('calls_facts')}")
        self._build_derived_views()
        rollup_files = self.lake.files("daily_rollups")
        if rollup_files:
            db.execute(
                f"CREATE OR REPLACE VIEW daily_rollups AS SELECT * FROM read_parquet({sql_paths(rollup_files)}, "
                "union_by_name = true, hive_partitioning = true)"
            )
        else:
            db.execute(
                "CREATE OR REPLACE VIEW daily_rollups AS SELECT CAST(NULL AS DATE) AS utc_day, "
                "CAST(NULL AS VARCHAR) AS extension, CAST(NULL AS VARCHAR) AS site, CAST(NULL AS VARCHAR) AS gateway, "
                "CAST(NULL AS VARCHAR) AS direction, CAST(NULL AS VARCHAR) AS destination_type, "
                "CAST(NULL AS VARCHAR) AS nation, CAST(NULL AS VARCHAR) AS currency, CAST(NULL AS BIGINT) AS calls, "
                "CAST(NULL AS BIGINT) AS answered, CAST(NULL AS BIGINT) AS missed, "
                "CAST(NULL AS BIGINT) AS duration_s, CAST(NULL AS DECIMAL(18,6)) AS cost, "
                "CAST(NULL AS DATE) AS day WHERE false"
            )

    def _build_derived_views(self) -> None:
        """What the calls build derives from the calls (offers with their owners, pilot offers,
        quarter-hour rollups, gateway load), and which days have it: `derived_days` lists each day with
        calls, the inventory key its offers and its gateway load were stored with (null: not stored, or
        parts with different keys) and whether its quarter hours and pilot offers are.
        """
        from warehouse.calls import QUARTER_HOURS_SQL
        from warehouse.gateway_load import DATASET as LOAD
        from warehouse.gateway_load import QUARTER_S, quarters_sql
        from warehouse.offers import offers_sql, pilot_offers_sql, stored_keys
        from warehouse.reports.filters import Params

        db = self.db
        # nothing stored: the queries' own shape over no calls
        no_calls = "(SELECT * FROM calls_facts WHERE false)"
        no_offers = offers_sql(no_calls, None, Params())
        no_quarters = f"SELECT *, CAST(NULL AS DATE) AS day FROM ({QUARTER_HOURS_SQL.format(table=no_calls)})"
        db.execute(f"CREATE OR REPLACE VIEW offers_facts AS {self._table_sql('offers', no_offers)}")
        db.execute(f"CREATE OR REPLACE VIEW quarter_hours AS {self._table_sql('quarter_hours', no_quarters)}")
        db.execute(f"CREATE OR REPLACE VIEW offers AS {with_owners('offers_facts')}")
        no_pilots = f"SELECT *, CAST(NULL AS DATE) AS day FROM ({pilot_offers_sql(no_calls)})"
        db.execute(f"CREATE OR REPLACE VIEW pilot_offers AS {self._table_sql('pilot_offers', no_pilots)}")
        no_load = "SELECT * FROM _empty_gateway_load"
        if not self.lake.files(LOAD):
            params = Params()
            params.values.update(period_start=None, period_end=None, interval_s=QUARTER_S, zone="UTC")
            db.execute(
                "CREATE OR REPLACE TABLE _empty_gateway_load AS SELECT *, CAST(NULL AS DATE) AS day "
                f"FROM ({quarters_sql(f'{no_calls} AS c', None, params)}) LIMIT 0",
                params.values,
            )
        db.execute(f"CREATE OR REPLACE VIEW gateway_load AS {self._table_sql(LOAD, no_load)}")
        offers, load = stored_keys(self.lake), stored_keys(self.lake, LOAD)
        quarters, pilots = set(self.lake.days("quarter_hours")), set(self.lake.days("pilot_offers"))
        rows = [
            (day, offers.get(day), day in quarters, load.get(day), day in pilots) for day in self.lake.days("calls")
        ]
        db.execute(
            "CREATE OR REPLACE TABLE derived_days "
            "(day DATE, offers VARCHAR, quarter_hours BOOLEAN, gateway_load VARCHAR, pilot_offers BOOLEAN)"
        )
        if rows:
            db.executemany("INSERT INTO derived_days VALUES (?, ?, ?, ?, ?)", rows)


def with_owners(relation: str) -> str:
    """A relation with the columns of `calls` (a name from our own code), its owners from the directory.

    An extension's owner is the one whose assignment covers the row's start, read when the rows are
    read, so a change of owner or department shows at once.
    """
    return f"""
        SELECT c.* REPLACE (
                   o.user_id AS user_id,
                   o.user_name AS user_name,
                   o.department AS department,
                   o.cost_centre AS cost_centre
               )
        FROM {relation} AS c
        LEFT JOIN directory_owners AS o
          ON o.extension = c.extension
         AND (o.valid_from IS NULL OR c.started_at >= o.valid_from)
         AND (o.valid_to IS NULL OR c.started_at < o.valid_to)
        """


_warehouses: dict[Path, Warehouse] = {}
_lock = threading.Lock()


def connect(settings=None, lake_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the views `cdr`, `cmr`, `rejects`, `calls`, `daily_rollups`, `directory_*`."""
    if lake_dir is None:
        if settings is None:
            from warehouse.config import load_settings

            settings = load_settings()
        lake_dir = settings.lake_dir
    lake_dir = Path(lake_dir).resolve()
    with _lock:
        wh = _warehouses.get(lake_dir)
        if wh is None:
            wh = _warehouses[lake_dir] = Warehouse(lake_dir)
    return wh.cursor()


def reset() -> None:
    """Forget every cached warehouse (tests that remove data homes)."""
    with _lock:
        for wh in _warehouses.values():
            wh.db.close()
        _warehouses.clear()
