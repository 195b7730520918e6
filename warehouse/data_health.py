"""Data health for the administrator: the ingest ledger, rejected lines, the CDR feed per CUCM node,
devices carrying calls that the inventory does not list, and the pipelines' last runs.

These read administrators' sources only (the ledger, the raw `cdr` and `rejects` views, the calls'
gateway devices): nothing here is for a person's own view of calls, so the scope of
`warehouse.access` does not apply; the portal shows them to administrators alone.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse.appdb import ingest_file, utcnow
from warehouse.config import WEEKDAYS, Device, Settings

LEDGER_STATUSES = ("pending", "processing", "loaded", "failed")
# Characters of a rejected line shown in the list (the whole line is shown when one is opened).
PREVIEW_CHARS = 160


# --- the ingest ledger ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """One file received: when, what it held, and how its ingest went."""

    id: int
    name: str
    kind: str
    cluster: str
    node: str
    file_time: datetime | None
    received_at: datetime
    loaded_at: datetime | None
    size: int
    rows: int
    rejects: int
    status: str
    error: str
    days: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    """One page of a longer list, and how many match in all."""

    items: list
    total: int
    offset: int
    limit: int


def _check_paging(offset: int, limit: int) -> None:
    if not 1 <= limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    if offset < 0:
        raise ValueError("offset cannot be negative")


def ledger(
    engine: Engine,
    *,
    search: str = "",
    status: str | None = None,
    kind: str | None = None,
    with_rejects: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """Files received, newest first: filtered by name, status, kind (cdr/cmr), files with rejects, time received."""
    _check_paging(offset, limit)
    if status and status not in LEDGER_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(LEDGER_STATUSES)}")
    f = ingest_file.c
    conds = []
    if search:
        conds.append(sa.func.lower(f.name).contains(search.strip().lower(), autoescape=True))
    if status:
        conds.append(f.status == status)
    if kind:
        conds.append(f.kind == kind)
    if with_rejects:
        conds.append(f.rejects > 0)
    if since is not None:
        conds.append(f.received_at >= since)
    if until is not None:
        conds.append(f.received_at < until)
    where = sa.and_(sa.true(), *conds)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(ingest_file).where(where)).scalar_one()
        rows = conn.execute(
            sa.select(ingest_file).where(where).order_by(f.received_at.desc(), f.id.desc()).offset(offset).limit(limit)
        ).all()
    items = [
        LedgerEntry(
            id=r.id,
            name=r.name,
            kind=r.kind or "",
            cluster=r.cluster or "",
            node=r.node or "",
            file_time=r.file_time,
            received_at=r.received_at,
            loaded_at=r.loaded_at,
            size=int(r.size),
            rows=int(r.rows),
            rejects=int(r.rejects),
            status=r.status,
            error=r.error or "",
            days=tuple(d for d in (r.days or "").split(",") if d),
        )
        for r in rows
    ]
    return Page(items, int(total), offset, limit)


# --- rejected lines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reject:
    """A line that could not be read: its file, line number, why, and its text (cut in lists)."""

    source_file: str
    source_line: int
    kind: str
    reason: str
    raw: str
    day: date | None


_REJECTS_WHERE = """
where ($file is null or source_file = $file)
  and ($needle is null
       or contains(lower(source_file), $needle)
       or contains(lower(reason), $needle)
       or contains(lower(raw), $needle))
"""


def rejects(
    settings: Settings, *, search: str = "", source_file: str | None = None, offset: int = 0, limit: int = 50, con=None
) -> Page:
    """Rejected lines (file, line, reason, the line's start), newest file first; search in all three."""
    import warehouse

    _check_paging(offset, limit)
    cur = con if con is not None else warehouse.connect(settings)
    params: dict[str, Any] = {"file": source_file or None, "needle": search.strip().lower() or None}
    total = cur.execute("select count(*) from rejects" + _REJECTS_WHERE, params).fetchall()[0][0]
    rows = cur.execute(
        "select source_file, source_line, kind, reason, left(raw, $chars), day from rejects"
        + _REJECTS_WHERE
        + " order by day desc nulls last, source_file desc, source_line limit $limit offset $offset",
        {**params, "chars": PREVIEW_CHARS, "limit": limit, "offset": offset},
    ).fetchall()
    items = [Reject(r[0], int(r[1]), r[2] or "", r[3] or "", r[4] or "", r[5]) for r in rows]
    return Page(items, int(total), offset, limit)


def reject(settings: Settings, source_file: str, source_line: int, con=None) -> Reject | None:
    """One rejected line with its whole text, or None."""
    import warehouse

    cur = con if con is not None else warehouse.connect(settings)
    rows = cur.execute(
        "select source_file, source_line, kind, reason, raw, day from rejects "
        "where source_file = $file and source_line = $line limit 1",
        {"file": source_file, "line": int(source_line)},
    ).fetchall()
    if not rows:
        return None
    r = rows[0]
    return Reject(r[0], int(r[1]), r[2] or "", r[3] or "", r[4] or "", r[5])


# --- the CDR feed, per CUCM node ---------------------------------------------------------------------


@dataclass(frozen=True)
class NodeFeed:
    """What one CUCM node sent: its newest CDR file and the newest call record in it."""

    cluster: str
    node: str
    files: int
    last_received_at: datetime
    last_file_time: datetime | None
    last_record_at: datetime | None  # the newest call end (or start) in the node's newest CDR files
    silent: bool  # nothing received for `silent_minutes` of working time
    silent_minutes: int  # working minutes since the last file


def working_minutes(settings: Settings, start: datetime, end: datetime) -> int:
    """Minutes of working time (data_health working days and hours, company zone) between two moments."""
    if end <= start:
        return 0
    cfg = settings.data_health
    zone = zoneinfo.ZoneInfo(settings.company.time_zone)
    first, last = cfg.working_span()
    days = {WEEKDAYS.index(d) for d in cfg.working_days}
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    total = 0.0
    day = local_start.date()
    # beyond two months of silence the answer is "silent" whatever the exact count
    stop = min(local_end.date(), day + timedelta(days=62))
    while day <= stop:
        if day.weekday() in days:
            opens = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=first)
            closes = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=last)
            lo, hi = max(opens, local_start), min(closes, local_end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 60
        day += timedelta(days=1)
    return int(total)


def node_feeds(settings: Settings, engine: Engine, now: datetime | None = None, con=None) -> list[NodeFeed]:
    """Per cluster and node: CDR files received, the newest one, the newest call record; silent nodes flagged."""
    import warehouse

    now = now or utcnow()
    f = ingest_file.c
    with engine.connect() as conn:
        nodes = conn.execute(
            sa.select(f.cluster, f.node, sa.func.count(), sa.func.max(f.received_at), sa.func.max(f.file_time))
            .where(f.kind == "cdr", f.cluster.is_not(None))
            .group_by(f.cluster, f.node)
            .order_by(f.cluster, f.node)
        ).all()
        newest: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for cluster, node, _n, _received, _file_time in nodes:
            # the node's newest files: those of its newest file time (CUCM may send several per minute)
            rows = conn.execute(
                sa.select(f.name, f.days)
                .where(f.kind == "cdr", f.cluster == cluster, f.node == node)
                .order_by(f.file_time.desc().nulls_last(), f.received_at.desc())
                .limit(5)
            ).all()
            newest[(cluster, node)] = [(r.name, r.days or "") for r in rows]
    last_record: dict[str, datetime] = {}
    names = [name for files in newest.values() for name, _ in files]
    days = sorted({date.fromisoformat(d) for files in newest.values() for _, ds in files for d in ds.split(",") if d})
    if names and days:
        cur = con if con is not None else warehouse.connect(settings)
        newest_records = cur.execute(
            "select source_file, max(greatest(coalesce(dateTimeDisconnect, 0), coalesce(dateTimeOrigination, 0))) "
            "from cdr where day in (select unnest($days)) and list_contains($names, source_file) group by 1",
            {"days": days, "names": names},
        ).fetchall()
        last_record = {name: datetime.fromtimestamp(t, UTC) for name, t in newest_records if t}
    out = []
    for cluster, node, count, received, file_time in nodes:
        records = [last_record[n] for n, _ in newest[(cluster, node)] if n in last_record]
        quiet = working_minutes(settings, received, now)
        out.append(
            NodeFeed(
                cluster=cluster,
                node=node or "",
                files=int(count),
                last_received_at=received,
                last_file_time=file_time,
                last_record_at=max(records) if records else None,
                silent=quiet >= settings.data_health.silent_minutes,
                silent_minutes=quiet,
            )
        )
    return out


# --- devices the inventory does not list ------------------------------------------------------------


@dataclass(frozen=True)
class UnlistedDevice:
    """A CUCM device that carried calls as a gateway or trunk (a span, not a phone) and is not in [[devices]]."""

    device: str
    calls: int
    outgoing: int
    incoming: int
    first_seen: datetime
    last_seen: datetime
    site: str  # the site most of its calls' people belong to (a guess for the inventory)


def unlisted_devices(
    settings: Settings, *, since: date | None = None, until: date | None = None, con=None
) -> list[UnlistedDevice]:
    """Gateway-like devices seen in the calls of the UTC days since..until that the inventory does not list."""
    import warehouse
    from warehouse.calls import sql_text

    cur = con if con is not None else warehouse.connect(settings)
    rows = cur.execute(sql_text("unlisted_devices.sql"), {"since": since, "until": until}).fetchall()
    return [
        UnlistedDevice(r[0], int(r[1]), int(r[2]), int(r[3]), r[4], r[5], r[6] or "")
        for r in rows
        if settings.device(r[0]) is None
    ]


def add_device(settings: Settings, engine: Engine, actor: str, device: Device) -> list[str]:
    """Put a device into the inventory (a setting stored at run time, audited); the paths changed."""
    from warehouse.runtime_settings import change, item_path

    fields = device.model_dump(mode="json", exclude={"device"})
    return change(settings, engine, actor, {item_path("devices", device.device): fields})


# --- the pipelines' runs (Dagster) --------------------------------------------------------------------

_RUNS_QUERY = """
query RingledgerRuns($limit: Int, $filter: RunsFilter) {
  runsOrError(limit: $limit, filter: $filter) {
    __typename
    ... on Runs { results { runId jobName status startTime endTime } }
    ... on PythonError { message }
  }
}
"""
FAILED_STATUSES = ("FAILURE",)


@dataclass(frozen=True)
class PipelineRun:
    """One run of a pipeline job, with the address of its page in Dagster's UI."""

    run_id: str
    job: str
    status: str  # Dagster's run status: SUCCESS, FAILURE, STARTED, QUEUED, CANCELED, ...
    started_at: datetime | None
    ended_at: datetime | None
    url: str


@dataclass
class PipelineStatus:
    """The last runs and failures, or why Dagster could not be asked."""

    ui_url: str
    reachable: bool
    error: str = ""
    runs: list[PipelineRun] = field(default_factory=list)
    failures: list[PipelineRun] = field(default_factory=list)


def _when(value: Any) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value else None


def _runs(url: str, ui: str, limit: int, statuses: tuple[str, ...] | None, timeout: float) -> list[PipelineRun]:
    import requests

    variables: dict[str, Any] = {"limit": limit}
    if statuses:
        variables["filter"] = {"statuses": list(statuses)}
    with requests.Session() as session:
        # Dagster runs beside Ringledger: never through a proxy meant for the outside world
        session.trust_env = False
        response = session.post(url, json={"query": _RUNS_QUERY, "variables": variables}, timeout=timeout)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise ValueError("; ".join(str(e.get("message", e)) for e in body["errors"]))
    answer = body["data"]["runsOrError"]
    if answer["__typename"] != "Runs":
        raise ValueError(answer.get("message") or answer["__typename"])
    return [
        PipelineRun(
            run_id=r["runId"],
            job=r["jobName"],
            status=r["status"],
            started_at=_when(r.get("startTime")),
            ended_at=_when(r.get("endTime")),
            url=f"{ui}/runs/{r['runId']}",
        )
        for r in answer["results"]
    ]


def pipeline_status(settings: Settings, *, limit: int = 20, timeout: float = 3.0) -> PipelineStatus:
    """The pipelines' last runs and failures from Dagster's GraphQL API at [dagster] address:port."""
    import requests

    d = settings.dagster
    api = f"http://{d.address}:{d.port}/graphql"
    status = PipelineStatus(ui_url=d.ui_url, reachable=False)
    try:
        status.runs = _runs(api, d.ui_url, limit, None, timeout)
        status.failures = _runs(api, d.ui_url, 10, FAILED_STATUSES, timeout)
    except requests.Timeout:
        status.error = f"{api}: no answer within {timeout:g} s"
        return status
    except requests.ConnectionError:
        status.error = f"{api}: the connection was refused or the address cannot be reached"
        return status
    except requests.RequestException as exc:
        status.error = f"{api}: {exc}"
        return status
    except (ValueError, KeyError, TypeError) as exc:
        status.error = f"{api}: unexpected answer: {exc}"
        return status
    status.reachable = True
    return status
