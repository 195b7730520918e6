"""Retention: remove what is older than its configured age, and anonymise outside numbers (GDPR).

`[retention]` in the configuration gives an age in days per kind of data (0, the default, keeps it
for ever). `run()` removes, in one pass under the lake's write lock:

- archive folders (archive/YYYY/MM/DD) older than `archive_days`, and older than
  `anonymise_after_days` (the archive keeps files exactly as received, so it cannot be anonymised);
- lake day partitions: `raw_cdr` and `raw_cmr` (`raw_days`), `rejects` (`rejects_days`), `calls`,
  `daily_rollups`, `quarter_hours`, `rating_days`, `offers`, `pilot_offers` and `gateway_load` (`calls_days`);
- audit log entries (`audit_days`) and mail written to the outbox with its send log (`outbox_days`).

Days older than `anonymise_after_days` are rewritten with every outside number replaced by a keyed
hash (`anon-` and 16 hex digits): the same number gives the same hash in `calls`, `cdr` and `cmr`,
so counts per number still add up, while the key (kept in the data home, never in the lake) stops
anyone from finding a number by hashing candidates. Costs, classification (nation, area, type,
operator), durations and extensions stay. Rejects of those days lose their raw text, the offers of
incoming calls are worked out again from the anonymised calls, and the cache of classified numbers
forgets numbers no newer call uses.

Days whose raw legs were purged or anonymised are frozen: `warehouse.calls.build_days` never
rebuilds them, since rebuilding from what is left would lose their calls. Every run that changes
something writes one audit entry (`retention.run`) saying what it removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.access import NUMBER_COLUMNS
from warehouse.appdb import audit_log, dirty_day
from warehouse.audit import audit
from warehouse.config import Settings
from warehouse.lake import Lake, LakeWriter

ANON_PREFIX = "anon-"
KEY_FILE = "anonymisation.key"
AUDIT_ACTION = "retention.run"

# Lake datasets by the setting that ages them.
LAKE_KINDS: dict[str, tuple[str, ...]] = {
    "raw_days": ("raw_cdr", "raw_cmr"),
    "rejects_days": ("rejects",),
    "calls_days": ("calls", "daily_rollups", "quarter_hours", "rating_days", "offers", "pilot_offers", "gateway_load"),
}
# Columns that may hold an outside party's number, per dataset. URI columns are judged by their user part.
ANON_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": NUMBER_COLUMNS,
    "raw_cdr": (
        "callingPartyNumber",
        "originalCalledPartyNumber",
        "finalCalledPartyNumber",
        "lastRedirectDn",
        "outpulsedCallingPartyNumber",
        "outpulsedCalledPartyNumber",
        "outpulsedOriginalCalledPartyNumber",
        "outpulsedLastRedirectingNumber",
        "mobileCallingPartyNumber",
        "finalMobileCalledPartyNumber",
        "callingPartyNumber_uri",
        "originalCalledPartyNumber_uri",
        "finalCalledPartyNumber_uri",
        "lastRedirectDn_uri",
    ),
    "raw_cmr": ("directoryNum",),
}
ARCHIVE_DAY = re.compile(r"^(\d{4})/(\d{2})/(\d{2})$")


@dataclass
class Removal:
    """What one kind of data lost (or would lose, in a dry run)."""

    kind: str
    items: int = 0  # day partitions, archive folders, log entries or messages
    rows: int = 0
    files: int = 0
    oldest: str = ""
    newest: str = ""

    def as_dict(self) -> dict:
        """The removal as plain values (for the audit entry and --json)."""
        return {
            "kind": self.kind,
            "items": self.items,
            "rows": self.rows,
            "files": self.files,
            "oldest": self.oldest,
            "newest": self.newest,
        }


@dataclass
class RetentionResult:
    """What a retention run removed and anonymised."""

    dry_run: bool
    today: date
    removed: list[Removal] = field(default_factory=list)
    anonymised: dict[str, Removal] = field(default_factory=dict)
    numbers_forgotten: int = 0
    frozen_before: date | None = None

    @property
    def changed(self) -> bool:
        """True when anything was (or would be) removed or anonymised."""
        return bool(
            any(r.items for r in self.removed)
            or any(a.items for a in self.anonymised.values())
            or self.numbers_forgotten
        )

    def as_dict(self) -> dict:
        """Everything as plain values."""
        return {
            "dry_run": self.dry_run,
            "today": self.today.isoformat(),
            "removed": [r.as_dict() for r in self.removed if r.items],
            "anonymised": [a.as_dict() for a in self.anonymised.values() if a.items],
            "numbers_forgotten": self.numbers_forgotten,
            "frozen_before": self.frozen_before.isoformat() if self.frozen_before else None,
        }

    def lines(self) -> list[str]:
        """One line per kind, in words."""
        verb = "would remove" if self.dry_run else "removed"
        out = []
        for r in self.removed:
            if r.items:
                span = f" ({r.oldest} .. {r.newest})" if r.oldest else ""
                rows = f", {r.rows:,} rows" if r.rows else ""
                out.append(f"{r.kind}: {verb} {r.items:,} item(s){span}{rows}, {r.files:,} file(s)")
        for a in self.anonymised.values():
            if a.items:
                verb_a = "would anonymise" if self.dry_run else "anonymised"
                out.append(f"{a.kind}: {verb_a} {a.items:,} day(s) ({a.oldest} .. {a.newest}), {a.rows:,} rows")
        if self.numbers_forgotten:
            out.append(f"numbers cache: {verb} {self.numbers_forgotten:,} number(s) no newer call uses")
        return out or ["nothing is old enough to remove or anonymise"]


def cutoff(today: date, days: int) -> date | None:
    """The first day kept for an age in days (None: keep everything)."""
    return today - timedelta(days=days) if days else None


def removal_cutoff(cfg, dataset: str, today: date) -> date | None:
    """The first day of a lake dataset that retention keeps (None: all)."""
    setting = next(k for k, datasets in LAKE_KINDS.items() if dataset in datasets)
    return cutoff(today, getattr(cfg, setting))


def anonymisation_key(settings: Settings) -> str:
    """The secret the number hashes are keyed with, made once per data home (readable by its owner only)."""
    path = settings.home / KEY_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    settings.home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    try:
        os.link(tmp, path)  # the first process to make a key wins; the others read it
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


# --- SQL for anonymisation ---------------------------------------------------------------------------


def _internal_sql(value: str, settings: Settings) -> str:
    """A condition true when `value` is a company extension (the rule of warehouse.access.is_internal_number)."""
    ranges = [r for s in settings.sites for r in s.ranges]
    if not ranges:
        return f"regexp_full_match({value}, '[0-9]{{2,7}}')"
    parts = [f"(length({value}) = $len{i} AND {value} BETWEEN $low{i} AND $high{i})" for i in range(len(ranges))]
    return f"(regexp_full_match({value}, '[0-9]+') AND ({' OR '.join(parts)}))"


def _range_params(settings: Settings) -> dict:
    params: dict = {}
    for i, r in enumerate(r for s in settings.sites for r in s.ranges):
        params.update({f"len{i}": len(r.low), f"low{i}": r.low, f"high{i}": r.high})
    return params


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def anonymise_sql(dataset: str, columns: list[str], settings: Settings) -> str:
    """SELECT of a partition (`part`) with outside numbers replaced by keyed hashes (params: $key, ranges)."""
    replaced = []
    for name in ANON_COLUMNS[dataset]:
        if name not in columns:
            continue
        col = _quote(name)
        user = f"split_part(regexp_replace({col}, '^sips?:', ''), '@', 1)" if name.endswith("_uri") else col
        keep = [f"{col} IS NULL", f"{col} = ''", f"starts_with({col}, '{ANON_PREFIX}')", _internal_sql(user, settings)]
        if dataset == "calls" and name == "other_number":
            keep.append("direction = 'internal'")  # the other party of an internal call is a colleague
        replaced.append(
            f"CASE WHEN {' OR '.join(keep)} THEN {col} "
            f"ELSE '{ANON_PREFIX}' || substr(sha256($key || {col}), 1, 16) END AS {col}"
        )
    if dataset == "rejects":
        replaced.append("CAST(NULL AS VARCHAR) AS raw")
    if not replaced:
        return "SELECT * FROM part"
    return f"SELECT * REPLACE ({', '.join(replaced)}) FROM part"


# --- the run -------------------------------------------------------------------------------------------


def _rows(files: list[Path]) -> int:
    total = 0
    for f in files:
        with contextlib.suppress(OSError):
            total += pq.ParquetFile(f).metadata.num_rows
    return total


def _purge_lake(writer: LakeWriter, dataset: str, before: date, dry_run: bool) -> Removal:
    lake = writer.lake
    days = [d for d in lake.days(dataset) if d < before.isoformat()]
    files = lake.files(dataset, days)
    removal = Removal(dataset, len(days), _rows(files), len(files), min(days, default=""), max(days, default=""))
    if days and not dry_run:
        writer.publish(dataset, replace={d: [] for d in days})
    return removal


def _anonymise_lake(writer: LakeWriter, settings: Settings, dataset: str, days: list[str], dry_run: bool) -> Removal:
    from warehouse.cucm import new_connection

    lake = writer.lake
    present = [d for d in days if lake.files(dataset, [d])]
    removal = Removal(dataset, len(present), 0, 0, min(present, default=""), max(present, default=""))
    if dry_run or not present:
        removal.rows = _rows(lake.files(dataset, present))
        removal.files = len(lake.files(dataset, present))
        return removal
    params = {"key": anonymisation_key(settings), **_range_params(settings)}
    con = new_connection(threads=1, memory_limit="1GB")
    try:
        for day in present:
            files = lake.files(dataset, [day])
            con.execute(
                "CREATE OR REPLACE TEMP TABLE part AS SELECT * FROM read_parquet(?, union_by_name = true, "
                "hive_partitioning = false)",
                [[str(f) for f in files]],
            )
            columns = [r[0] for r in con.execute("DESCRIBE part").fetchall()]
            stage = lake.staging_dir(f"anonymise-{dataset}-{day}-{secrets.token_hex(4)}")
            target = stage / f"{ANON_PREFIX}{secrets.token_hex(6)}.parquet"
            select = anonymise_sql(dataset, columns, settings)
            used = {k: v for k, v in params.items() if f"${k}" in select}
            con.execute(f"CREATE OR REPLACE TEMP TABLE anon_part AS {select}", used)
            removal.rows += con.execute("SELECT count(*) FROM anon_part").fetchall()[0][0]
            con.execute("COPY anon_part TO " + _sql_text(str(target)) + " (FORMAT parquet, COMPRESSION zstd)")
            writer.publish(dataset, replace={day: [target]})
            removal.files += len(files)
    finally:
        con.close()
    return removal


def _store_offers_again(writer: LakeWriter, settings: Settings, days: list[date]) -> None:
    """The offers of anonymised days, from their anonymised calls (offers hold the callers' numbers too)."""
    from warehouse.cucm import new_connection
    from warehouse.offers import build_offers_by_week

    con = new_connection(threads=1, memory_limit="1GB")
    try:
        build_offers_by_week(writer, settings, days, con)
    finally:
        con.close()


def _sql_text(text: str) -> str:
    """A path as an SQL string literal (COPY ... TO takes no parameter)."""
    return "'" + text.replace("'", "''") + "'"


def _forget_numbers(writer: LakeWriter, keep_from: date, dry_run: bool) -> int:
    """Drop cached classifications of numbers that only anonymised days used; returns how many."""
    from warehouse.cucm import new_connection

    lake = writer.lake
    cache = lake.files("numbers")
    if not cache:
        return 0
    recent = lake.files("calls", [d for d in lake.days("calls") if d >= keep_from.isoformat()])
    con = new_connection(threads=1, memory_limit="1GB")
    try:
        con.execute("CREATE TEMP TABLE cache AS SELECT * FROM read_parquet(?)", [[str(f) for f in cache]])
        if recent:
            con.execute(
                "CREATE TEMP TABLE used AS SELECT DISTINCT raw FROM ("
                "SELECT coalesce(outpulsed_number, other_number) AS raw FROM read_parquet(?, union_by_name = true) "
                "UNION ALL SELECT other_number FROM read_parquet(?, union_by_name = true)) WHERE raw IS NOT NULL",
                [[str(f) for f in recent], [str(f) for f in recent]],
            )
        else:
            con.execute("CREATE TEMP TABLE used (raw VARCHAR)")
        forgotten = con.execute("SELECT count(*) FROM cache ANTI JOIN used USING (raw)").fetchall()[0][0]
        if forgotten and not dry_run:
            stage = lake.staging_dir(f"anonymise-numbers-{secrets.token_hex(4)}")
            target = stage / f"numbers-{secrets.token_hex(6)}.parquet"
            con.execute(
                "COPY (SELECT * FROM cache SEMI JOIN used USING (raw)) TO "
                + _sql_text(str(target))
                + " (FORMAT parquet, COMPRESSION zstd)"
            )
            writer.publish("numbers", replace={"": [target]})
        return forgotten
    finally:
        con.close()


def _archive_days(settings: Settings) -> list[tuple[date, Path]]:
    root = settings.archive_dir
    out: list[tuple[date, Path]] = []
    if not root.is_dir():
        return out
    for folder in sorted(root.glob("*/*/*")):
        m = ARCHIVE_DAY.match(folder.relative_to(root).as_posix())
        if folder.is_dir() and m:
            with contextlib.suppress(ValueError):
                out.append((date(int(m[1]), int(m[2]), int(m[3])), folder))
    return out


def _purge_archive(settings: Settings, before: date, dry_run: bool) -> Removal:
    old = [(d, f) for d, f in _archive_days(settings) if d < before]
    files = sum(1 for _, f in old for p in f.rglob("*") if p.is_file())
    removal = Removal("archive", len(old), 0, files, str(old[0][0]) if old else "", str(old[-1][0]) if old else "")
    if not dry_run:
        for _, folder in old:
            shutil.rmtree(folder)
            for parent in (folder.parent, folder.parent.parent):
                with contextlib.suppress(OSError):
                    parent.rmdir()  # only when empty
    return removal


def _purge_audit(engine: Engine, before: datetime, dry_run: bool) -> Removal:
    with engine.begin() as conn:
        where = audit_log.c.at < before
        count, oldest, newest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(audit_log.c.at), sa.func.max(audit_log.c.at)).where(where)
        ).one()
        if count and not dry_run:
            conn.execute(audit_log.delete().where(where))
    return Removal(
        "audit_log", count, count, 0, f"{oldest:%Y-%m-%d}" if oldest else "", f"{newest:%Y-%m-%d}" if newest else ""
    )


def _purge_outbox(settings: Settings, engine: Engine, before: datetime, dry_run: bool) -> Removal:
    from warehouse.mail import QUEUED, mail_message

    removal = Removal("mail")
    limit = before.timestamp()
    if settings.outbox_dir.is_dir():
        for path in sorted(settings.outbox_dir.glob("*.eml")):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < limit:
                    removal.files += 1
                    if not dry_run:
                        path.unlink()
    with engine.begin() as conn:
        where = sa.and_(mail_message.c.created_at < before, mail_message.c.status != QUEUED)
        rows = conn.execute(sa.select(mail_message.c.path, mail_message.c.created_at).where(where)).all()
        if rows and not dry_run:
            conn.execute(mail_message.delete().where(where))
            for path, _ in rows:
                if path and Path(path).parent == settings.mail_spool_dir:
                    Path(path).unlink(missing_ok=True)
    removal.rows = len(rows)
    removal.items = max(len(rows), removal.files)
    if rows:
        removal.oldest = f"{min(r[1] for r in rows):%Y-%m-%d}"
        removal.newest = f"{max(r[1] for r in rows):%Y-%m-%d}"
    return removal


def run(
    settings: Settings, engine: Engine, *, dry_run: bool = False, now: datetime | None = None, actor: str = ""
) -> RetentionResult:
    """Remove and anonymise what `[retention]` says is too old; with `dry_run`, only say what that would be."""
    now = now or datetime.now(UTC)
    today = now.astimezone(UTC).date()
    cfg = settings.retention
    result = RetentionResult(dry_run=dry_run, today=today)
    if not cfg.configured:
        return result
    lake = Lake(settings.lake_dir)
    anonymise_before = cutoff(today, cfg.anonymise_after_days)
    with lake.writer() as writer:
        raw_before = cutoff(today, cfg.raw_days)
        frozen = [d for d in (lake.frozen_before(), raw_before, anonymise_before) if d is not None]
        result.frozen_before = max(frozen) if frozen else None
        if not dry_run and result.frozen_before and result.frozen_before != lake.frozen_before():
            # frozen first: nothing may rebuild these days from partial raw legs from now on
            writer.set_retention_state({**lake.retention_state(), "frozen_before": result.frozen_before.isoformat()})
        for datasets in LAKE_KINDS.values():
            for dataset in datasets:
                before = removal_cutoff(cfg, dataset, today)
                if before is not None:
                    result.removed.append(_purge_lake(writer, dataset, before, dry_run))
        if anonymise_before is not None:
            for dataset in ("calls", "raw_cdr", "raw_cmr", "rejects"):
                # a partition made by anonymisation is one anon-* file; anything else (late legs) is done again
                purged = removal_cutoff(cfg, dataset, today)
                days = [
                    d
                    for d in lake.days(dataset)
                    if d < anonymise_before.isoformat()
                    and (purged is None or d >= purged.isoformat())  # a dry run still lists them
                    and not all(f.name.startswith(ANON_PREFIX) for f in lake.files(dataset, [d]))
                ]
                result.anonymised[dataset] = _anonymise_lake(writer, settings, dataset, days, dry_run)
                if dataset == "calls" and days and not dry_run:
                    _store_offers_again(writer, settings, [date.fromisoformat(d) for d in days])
            result.numbers_forgotten = _forget_numbers(writer, anonymise_before, dry_run)
        if not dry_run:
            writer.collect_garbage()
    archive_before = [d for d in (cutoff(today, cfg.archive_days), anonymise_before) if d is not None]
    if archive_before:
        result.removed.append(_purge_archive(settings, max(archive_before), dry_run))
    if cfg.audit_days:
        result.removed.append(_purge_audit(engine, now - timedelta(days=cfg.audit_days), dry_run))
    if cfg.outbox_days:
        result.removed.append(_purge_outbox(settings, engine, now - timedelta(days=cfg.outbox_days), dry_run))
    if not dry_run and result.frozen_before is not None:
        with engine.begin() as conn:
            conn.execute(dirty_day.delete().where(dirty_day.c.day < result.frozen_before))
    if not dry_run and result.changed:
        # written after the purge, so the audit log's own retention never removes this run's entry
        audit(engine, actor or "system:retention", AUDIT_ACTION, "retention", result.as_dict())
    return result
