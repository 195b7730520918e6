"""Scheduled reports (R6, R7) and scheduled alarms (L1-L9): stored, run when due, and what came of it.

A schedule belongs to an owner and runs in the owner's scope, masked for the owner's role and in
the owner's language, whoever receives the mail:

- kind "report": a catalogue report with saved options (`Filters` as JSON), mailed as Excel or PDF
  with a subject and a message in which [[FILTER]] becomes the options in words;
- kind "alarm": one of `warehouse.alarms.ALARM_TYPES` with its settings, mailed when it finds
  something (or always, when "send only if there is something to report" is off).

Each has a recurrence (`warehouse.recurrence`: every N minutes, days, weeks or months from a start in
a zone), an active flag and a record of its last run (when, what came of it: sent to N recipients,
nothing to report, failed with the error; the mail's own retries are in `warehouse.mail`) and of
the next one. `run_due()` (started by the pipelines' sensor) runs every schedule that is due, once:
a schedule whose runs were missed while nothing was running runs once and then carries on from now.
An alarm about calls looks at the calls since its previous run, so that one catch-up run covers the
whole gap.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from warehouse import mail
from warehouse.access import Principal, load_principal
from warehouse.appdb import UtcDateTime, metadata, users, utcnow
from warehouse.audit import audit
from warehouse.recurrence import Recurrence, RecurrenceError

KINDS = ("report", "alarm")
REPORT_FORMATS = ("xlsx", "pdf")
ALARM_FORMATS = ("xlsx", "")  # an Excel file of what tripped, or no attachment

# Outcomes of a run.
SENT = "sent"  # the mail was accepted (or written to the outbox)
RETRYING = "retrying"  # the mail server failed; the mail module tries again with backoff
EMPTY = "empty"  # nothing to report, so nothing was sent
FAILED = "failed"  # the report or alarm could not run, or the mail could not be made
STATUSES = (SENT, RETRYING, EMPTY, FAILED)

# Audit actions.
SCHEDULE_SAVED = "schedule.saved"
SCHEDULE_DELETED = "schedule.deleted"
SCHEDULE_PAUSED = "schedule.paused"
SCHEDULE_RESUMED = "schedule.resumed"
SCHEDULE_RUN = "schedule.run"

RUNS_KEPT = 50  # run records kept per schedule

schedule = sa.Table(
    "schedule",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(8), nullable=False),  # report | alarm
    sa.Column("type", sa.String(100), nullable=False),  # catalogue report name, or alarm type key
    sa.Column("owner", sa.String(128), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("subject", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("options", sa.Text, nullable=False, server_default="{}"),  # Filters, or the alarm's settings
    sa.Column("saved_report_id", sa.Integer),  # the personal report it was made from (a copy is kept)
    sa.Column("recipients", sa.Text, nullable=False),  # comma-separated addresses
    sa.Column("format", sa.String(8), nullable=False, server_default=""),  # xlsx | pdf | '' (alarm: none)
    sa.Column("every", sa.Integer, nullable=False),
    sa.Column("unit", sa.String(8), nullable=False),  # minutes | days | weeks | months
    sa.Column("start_local", sa.DateTime, nullable=False),  # wall-clock time in time_zone (naive)
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("skip_empty", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("next_run_at", UtcDateTime),
    sa.Column("claimed_until", UtcDateTime),
    sa.Column("last_run_at", UtcDateTime),
    sa.Column("last_status", sa.String(16), nullable=False, server_default=""),
    sa.Column("last_count", sa.Integer),  # rows of the report / items the alarm found
    sa.Column("last_recipients", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("last_message", sa.Text, nullable=False, server_default=""),  # summary, owner's language
    sa.Column("last_mail_id", sa.String(64)),  # warehouse.mail's id of the last mail sent
    sa.Column("state", sa.Text, nullable=False, server_default="{}"),  # window end, alarm memory
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Index("ix_schedule_due", "active", "next_run_at"),
    sa.Index("ix_schedule_owner", "owner"),
)

schedule_run = sa.Table(
    "schedule_run",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schedule_id", sa.Integer, sa.ForeignKey("schedule.id", ondelete="CASCADE"), nullable=False),
    sa.Column("ran_at", UtcDateTime, nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),  # scheduled | manual
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("count", sa.Integer),
    sa.Column("recipients", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("mail_id", sa.String(64)),
    sa.Column("window_start", UtcDateTime),
    sa.Column("window_end", UtcDateTime),
    sa.Index("ix_schedule_run_schedule", "schedule_id", "ran_at"),
)


class ScheduleError(ValueError):
    """A schedule cannot be saved or run as asked; the message names the setting and the problem."""


@dataclass(frozen=True)
class ScheduleSpec:
    """What a person sets on a schedule's form (everything but its run record)."""

    kind: str
    type: str
    recipients: str | list[str]
    every: int
    unit: str
    start_local: datetime
    time_zone: str = ""  # none: the owner's zone
    options: str | dict = "{}"
    subject: str = ""
    body: str = ""
    format: str = "xlsx"
    skip_empty: bool = True
    active: bool = True
    description: str = ""
    owner: str = ""  # none: the person saving it
    saved_report_id: int | None = None


@dataclass(frozen=True)
class Schedule:
    """A stored schedule and the record of its runs."""

    id: int
    kind: str
    type: str
    owner: str
    owner_name: str
    description: str
    subject: str
    body: str
    options: str
    saved_report_id: int | None
    recipients: tuple[str, ...]
    format: str
    every: int
    unit: str
    start_local: datetime
    time_zone: str
    skip_empty: bool
    active: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_status: str
    last_count: int | None
    last_recipients: int | None
    last_error: str | None
    last_message: str
    last_mail_id: str | None
    state: dict
    created_at: datetime
    updated_at: datetime

    @property
    def recurrence(self) -> Recurrence:
        """When it runs."""
        return Recurrence(self.every, self.unit, self.start_local, self.time_zone)

    def spec(self) -> ScheduleSpec:
        """Its settings, as a form would send them back."""
        return ScheduleSpec(
            kind=self.kind,
            type=self.type,
            recipients=list(self.recipients),
            every=self.every,
            unit=self.unit,
            start_local=self.start_local,
            time_zone=self.time_zone,
            options=self.options,
            subject=self.subject,
            body=self.body,
            format=self.format,
            skip_empty=self.skip_empty,
            active=self.active,
            description=self.description,
            owner=self.owner,
            saved_report_id=self.saved_report_id,
        )


@dataclass(frozen=True)
class RunRecord:
    """One past run of a schedule."""

    id: int
    schedule_id: int
    ran_at: datetime
    trigger: str
    status: str
    count: int | None
    recipients: int | None
    error: str | None
    message: str
    mail_id: str | None
    window_start: datetime | None
    window_end: datetime | None


@dataclass(frozen=True)
class RunOutcome:
    """What one run did."""

    schedule_id: int
    status: str
    count: int | None = None
    recipients: int = 0
    error: str | None = None
    message: str = ""
    mail_id: str | None = None
    next_run_at: datetime | None = None


# --- reading ---------------------------------------------------------------------------------------


def _select():
    return sa.select(schedule, users.c.display_name.label("owner_name")).select_from(
        schedule.outerjoin(users, users.c.id == schedule.c.owner)
    )


def _schedule(row) -> Schedule:
    try:
        state = json.loads(row.state or "{}")
    except ValueError:
        state = {}
    return Schedule(
        id=row.id,
        kind=row.kind,
        type=row.type,
        owner=row.owner,
        owner_name=row.owner_name or row.owner,
        description=row.description,
        subject=row.subject,
        body=row.body,
        options=row.options,
        saved_report_id=row.saved_report_id,
        recipients=tuple(r.strip() for r in row.recipients.split(",") if r.strip()),
        format=row.format,
        every=row.every,
        unit=row.unit,
        start_local=row.start_local,
        time_zone=row.time_zone,
        skip_empty=bool(row.skip_empty),
        active=bool(row.active),
        next_run_at=row.next_run_at,
        last_run_at=row.last_run_at,
        last_status=row.last_status,
        last_count=row.last_count,
        last_recipients=row.last_recipients,
        last_error=row.last_error,
        last_message=row.last_message,
        last_mail_id=row.last_mail_id,
        state=state if isinstance(state, dict) else {},
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_schedule(engine: Engine, schedule_id: int) -> Schedule | None:
    """A schedule by id (whoever owns it)."""
    with engine.connect() as conn:
        row = conn.execute(_select().where(schedule.c.id == schedule_id)).first()
    return _schedule(row) if row else None


def list_schedules(engine: Engine, viewer: Principal, kind: str) -> list[Schedule]:
    """The schedules of one kind a person may see: their own, or every one for an administrator."""
    q = _select().where(schedule.c.kind == kind).order_by(schedule.c.owner, schedule.c.id)
    if not viewer.is_admin:
        q = q.where(schedule.c.owner == viewer.user_id)
    with engine.connect() as conn:
        return [_schedule(r) for r in conn.execute(q).all()]


def runs(engine: Engine, schedule_id: int, limit: int = 20) -> list[RunRecord]:
    """A schedule's latest runs, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(schedule_run)
            .where(schedule_run.c.schedule_id == schedule_id)
            .order_by(schedule_run.c.id.desc())
            .limit(limit)
        ).all()
    return [
        RunRecord(
            id=r.id,
            schedule_id=r.schedule_id,
            ran_at=r.ran_at,
            trigger=r.trigger,
            status=r.status,
            count=r._mapping["count"],
            recipients=r.recipients,
            error=r.error,
            message=r.message,
            mail_id=r.mail_id,
            window_start=r.window_start,
            window_end=r.window_end,
        )
        for r in rows
    ]


def people(engine: Engine) -> list[tuple[str, str]]:
    """Active users who may own a schedule, as (user id, display name), by name."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(users.c.id, users.c.display_name).where(users.c.active.is_(True)).order_by(users.c.display_name)
        ).all()
    return [(r.id, r.display_name or r.id) for r in rows]


def manageable(viewer: Principal, item: Schedule) -> bool:
    """True when the person may change, run or delete the schedule (its owner, or an administrator)."""
    return viewer.is_admin or item.owner == viewer.user_id


def _mine(engine: Engine, actor: Principal, schedule_id: int) -> Schedule:
    item = get_schedule(engine, schedule_id)
    if item is None:
        raise ScheduleError(f"there is no schedule {schedule_id}")
    if not manageable(actor, item):
        raise PermissionError(f"schedule {schedule_id} belongs to {item.owner}")
    return item


def mail_status(engine: Engine, item: Schedule) -> tuple[str, str | None]:
    """The last run's outcome as it stands now: a mail that was retrying may since have gone or failed."""
    if item.last_status == RETRYING and item.last_mail_id:
        record = mail.message(engine, item.last_mail_id)
        if record is not None:
            if record.status == mail.SENT:
                return SENT, None
            if record.status == mail.FAILED:
                return FAILED, record.last_error
            return RETRYING, record.last_error
    return item.last_status, item.last_error


# --- saving ----------------------------------------------------------------------------------------


def validate(settings, engine: Engine, actor: Principal, spec: ScheduleSpec) -> dict:
    """The row values of a valid spec; ScheduleError says what is wrong and where."""
    from warehouse.alarms import ALARM_TYPES, AlarmSettingsError
    from warehouse.alarms.params import parse
    from warehouse.reports import FilterError, Filters, get

    if spec.kind not in KINDS:
        raise ScheduleError(f"kind {spec.kind!r} must be one of {', '.join(KINDS)}")
    owner_id = spec.owner or actor.user_id
    if owner_id != actor.user_id and not actor.is_admin:
        raise PermissionError("only an administrator may make a schedule for someone else")
    owner = load_principal(engine, owner_id)
    if owner is None:
        raise ScheduleError(f"owner: {owner_id!r} is not an active user")
    if spec.kind == "report":
        try:
            report = get(spec.type)
        except KeyError:
            raise ScheduleError(f"report: {spec.type!r} is not in the catalogue") from None
        try:
            options = spec.options if isinstance(spec.options, str) else json.dumps(spec.options)
            filters = Filters.from_json(options, where="options")
        except FilterError as exc:
            raise ScheduleError(str(exc)) from None
        options_json = filters.to_json()
        if spec.format not in REPORT_FORMATS:
            raise ScheduleError(f"format: a report is mailed as {' or '.join(REPORT_FORMATS)}, not {spec.format!r}")
        description = spec.description.strip() or report.title
    else:
        if owner.role not in ("supervisor", "administrator"):
            raise ScheduleError("alarms are for supervisors and administrators")
        kind = ALARM_TYPES.get(spec.type)
        if kind is None:
            raise ScheduleError(f"alarm: {spec.type!r} is not an alarm type (one of {', '.join(ALARM_TYPES)})")
        if kind.admin_only and not owner.is_admin:
            raise ScheduleError(f"alarm “{kind.code}” looks at every call: its owner must be an administrator")
        try:
            model = parse(kind.params, spec.options)
        except AlarmSettingsError as exc:
            raise ScheduleError(f"settings: {exc}") from None
        options_json = model.model_dump_json()
        if spec.format not in ALARM_FORMATS:
            raise ScheduleError("format: an alarm attaches an Excel file (xlsx) or nothing")
        description = spec.description.strip() or kind.title
    try:
        recipients = mail.parse_addresses(spec.recipients)
    except mail.MailError as exc:
        raise ScheduleError(str(exc)) from None
    if "\n" in spec.subject or "\r" in spec.subject:
        raise ScheduleError("subject: must be one line")
    zone = spec.time_zone or _owner_zone(settings, engine, owner_id)
    try:
        recurrence = Recurrence(int(spec.every), spec.unit, spec.start_local.replace(second=0, microsecond=0), zone)
    except (RecurrenceError, TypeError, ValueError) as exc:
        raise ScheduleError(str(exc)) from None
    return {
        "kind": spec.kind,
        "type": spec.type,
        "owner": owner_id,
        "description": description,
        "subject": spec.subject.strip(),
        "body": spec.body,
        "options": options_json,
        "saved_report_id": spec.saved_report_id,
        "recipients": ", ".join(recipients),
        "format": spec.format,
        "every": recurrence.every,
        "unit": recurrence.unit,
        "start_local": recurrence.start,
        "time_zone": recurrence.zone,
        "skip_empty": bool(spec.skip_empty),
        "active": bool(spec.active),
    }


def _owner_zone(settings, engine: Engine, user_id: str) -> str:
    from warehouse.preferences import person_zone

    return person_zone(settings, engine, user_id)


def save_schedule(
    settings,
    engine: Engine,
    actor: Principal,
    spec: ScheduleSpec,
    schedule_id: int | None = None,
    *,
    now: datetime | None = None,
) -> Schedule:
    """Create a schedule (or change one): validated, with its next run worked out from now."""
    now = now or utcnow()
    values = validate(settings, engine, actor, spec)
    recurrence = Recurrence(values["every"], values["unit"], values["start_local"], values["time_zone"])
    values["next_run_at"] = recurrence.first_at_or_after(now) if values["active"] else None
    values["updated_at"] = now
    values["updated_by"] = actor.user_id
    if schedule_id is not None:
        old = _mine(engine, actor, schedule_id)
        if old.kind != values["kind"]:
            raise ScheduleError("a report schedule cannot become an alarm, nor the other way round")
        if old.type != values["type"] or old.options != values["options"]:
            # new settings: what the alarm remembered no longer applies (its window carries on)
            values["state"] = json.dumps({k: v for k, v in old.state.items() if k == "window_end"})
    with engine.begin() as conn:
        if schedule_id is None:
            values["created_at"] = now
            values["created_by"] = actor.user_id
            key = conn.execute(schedule.insert().values(**values)).inserted_primary_key
            assert key is not None
            schedule_id = int(key[0])
        else:
            conn.execute(schedule.update().where(schedule.c.id == schedule_id).values(**values))
        audit(
            conn,
            actor.user_id,
            SCHEDULE_SAVED,
            f"schedule:{schedule_id}",
            {"kind": values["kind"], "type": values["type"], "owner": values["owner"]},
            at=now,
        )
    item = get_schedule(engine, schedule_id)
    assert item is not None
    return item


def set_active(engine: Engine, actor: Principal, schedule_id: int, active: bool, *, now: datetime | None = None):
    """Pause or resume a schedule (a resumed one runs next at its next occurrence from now)."""
    now = now or utcnow()
    item = _mine(engine, actor, schedule_id)
    next_run = item.recurrence.first_at_or_after(now) if active else None
    with engine.begin() as conn:
        conn.execute(
            schedule.update()
            .where(schedule.c.id == schedule_id)
            .values(active=active, next_run_at=next_run, updated_at=now, updated_by=actor.user_id)
        )
        audit(conn, actor.user_id, SCHEDULE_RESUMED if active else SCHEDULE_PAUSED, f"schedule:{schedule_id}", at=now)
    return get_schedule(engine, schedule_id)


def delete_schedule(engine: Engine, actor: Principal, schedule_id: int) -> bool:
    """Delete a schedule and its run records; True when it existed."""
    item = _mine(engine, actor, schedule_id)
    with engine.begin() as conn:
        conn.execute(schedule_run.delete().where(schedule_run.c.schedule_id == schedule_id))
        done = conn.execute(schedule.delete().where(schedule.c.id == schedule_id)).rowcount
        audit(conn, actor.user_id, SCHEDULE_DELETED, f"schedule:{schedule_id}", {"kind": item.kind, "type": item.type})
    return bool(done)


# --- running ---------------------------------------------------------------------------------------


def due(engine: Engine, now: datetime | None = None) -> list[tuple[int, datetime]]:
    """The active schedules whose next run has come (and nobody is running), with that time."""
    now = now or utcnow()
    s = schedule
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(s.c.id, s.c.next_run_at)
            .where(
                s.c.active.is_(True),
                s.c.next_run_at.is_not(None),
                s.c.next_run_at <= now,
                sa.or_(s.c.claimed_until.is_(None), s.c.claimed_until < now),
            )
            .order_by(s.c.next_run_at, s.c.id)
        ).all()
    return [(r.id, r.next_run_at) for r in rows]


def _claim(settings, engine: Engine, schedule_id: int, now: datetime, scheduled: bool) -> bool:
    s = schedule
    cond = [s.c.id == schedule_id, sa.or_(s.c.claimed_until.is_(None), s.c.claimed_until < now)]
    if scheduled:
        cond += [s.c.active.is_(True), s.c.next_run_at.is_not(None), s.c.next_run_at <= now]
    with engine.begin() as conn:
        done = conn.execute(
            s.update().where(*cond).values(claimed_until=now + timedelta(minutes=settings.alarms.claim_minutes))
        ).rowcount
    return bool(done)


def run_due(settings, engine: Engine, now: datetime | None = None) -> list[RunOutcome]:
    """Run every schedule that is due, once each (missed runs are caught up by one run)."""
    now = now or utcnow()
    out = []
    for schedule_id, _when in due(engine, now):
        if _claim(settings, engine, schedule_id, now, scheduled=True):
            out.append(_run(settings, engine, schedule_id, now, "scheduled"))
    return out


def run_now(settings, engine: Engine, actor: Principal, schedule_id: int, *, now: datetime | None = None) -> RunOutcome:
    """Run a schedule at once (its next scheduled run stays as it is)."""
    now = now or utcnow()
    _mine(engine, actor, schedule_id)
    if not _claim(settings, engine, schedule_id, now, scheduled=False):
        raise ScheduleError(f"schedule {schedule_id} is running right now")
    audit(engine, actor.user_id, SCHEDULE_RUN, f"schedule:{schedule_id}", at=now)
    return _run(settings, engine, schedule_id, now, "manual")


def _window(settings, item: Schedule, now: datetime) -> tuple[datetime, datetime]:
    """The calls an alarm run looks at: from where the previous run stopped to a little before now."""
    end = now - timedelta(minutes=settings.alarms.settle_minutes)
    previous = item.state.get("window_end")
    if previous:
        start = datetime.fromisoformat(previous).astimezone(UTC)
    else:
        # a first run looks back one interval of its recurrence
        start = end - item.recurrence.interval_before(item.next_run_at or now)
    start = max(start, end - timedelta(days=settings.alarms.max_catch_up_days))
    return min(start, end), end


def _run(settings, engine: Engine, schedule_id: int, now: datetime, trigger: str) -> RunOutcome:
    item = get_schedule(engine, schedule_id)
    assert item is not None
    window: tuple[datetime | None, datetime | None] = (None, None)
    state = dict(item.state)
    try:
        owner = _owner(settings, engine, item)
        if item.kind == "report":
            outcome = _run_report(settings, engine, item, owner, now)
        else:
            window = _window(settings, item, now)
            outcome, alarm_state = _run_alarm(settings, engine, item, owner, now, window)  # type: ignore[arg-type]
            state = {"window_end": window[1].isoformat(), "alarm": alarm_state}  # type: ignore[union-attr]
    except Exception as exc:  # any failure is recorded on the schedule and shown on its page
        outcome = RunOutcome(schedule_id, FAILED, error=_error_text(exc))
    next_run = item.next_run_at
    if trigger == "scheduled" or next_run is None or next_run <= now:
        next_run = item.recurrence.next_after(now) if item.active else None
    outcome = dataclasses.replace(outcome, next_run_at=next_run)
    with engine.begin() as conn:
        conn.execute(
            schedule.update()
            .where(schedule.c.id == schedule_id)
            .values(
                last_run_at=now,
                last_status=outcome.status,
                last_count=outcome.count,
                last_recipients=outcome.recipients,
                last_error=outcome.error,
                last_message=outcome.message,
                last_mail_id=outcome.mail_id,
                next_run_at=next_run,
                claimed_until=None,
                state=json.dumps(state, default=str),
            )
        )
        conn.execute(
            schedule_run.insert().values(
                schedule_id=schedule_id,
                ran_at=now,
                trigger=trigger,
                status=outcome.status,
                count=outcome.count,
                recipients=outcome.recipients,
                error=outcome.error,
                message=outcome.message,
                mail_id=outcome.mail_id,
                window_start=window[0],
                window_end=window[1],
            )
        )
        cutoff = conn.execute(
            sa.select(schedule_run.c.id)
            .where(schedule_run.c.schedule_id == schedule_id)
            .order_by(schedule_run.c.id.desc())
            .offset(RUNS_KEPT)
            .limit(1)
        ).scalar()
        if cutoff is not None:
            conn.execute(
                schedule_run.delete().where(schedule_run.c.schedule_id == schedule_id, schedule_run.c.id <= cutoff)
            )
    return outcome


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ValueError | PermissionError) else f"{type(exc).__name__}: {text}"


def _owner(settings, engine: Engine, item: Schedule) -> Principal:
    """The owner as the schedule runs for them: scope, role, language and zone of today."""
    from warehouse.preferences import person_language, person_zone

    owner = load_principal(engine, item.owner)
    if owner is None:
        raise ScheduleError(f"the owner {item.owner!r} is no longer an active user")
    return dataclasses.replace(
        owner,
        language=person_language(settings, engine, item.owner),
        time_zone=person_zone(settings, engine, item.owner),
    )


def _sent(engine: Engine, item: Schedule, mail_id: str, recipients: int, count: int, message: str) -> RunOutcome:
    record = mail.message(engine, mail_id)
    if record is not None and record.status != mail.SENT:
        status = FAILED if record.status == mail.FAILED else RETRYING
        return RunOutcome(item.id, status, count, recipients, record.last_error, message, mail_id)
    return RunOutcome(item.id, SENT, count, recipients, None, message, mail_id)


def _run_report(settings, engine: Engine, item: Schedule, owner: Principal, now: datetime) -> RunOutcome:
    from warehouse.i18n import translator
    from warehouse.reports import Filters, run_report
    from warehouse.reports.mailing import send_result

    filters = Filters.from_json(item.options, where=f"schedule {item.id}")
    result = run_report(settings, owner, item.type, filters, language=owner.language, now=now)
    tr = translator(owner.language)
    rows = tr.ngettext("{n} row", "{n} rows", len(result.rows)).format(n=tr.number(len(result.rows)))
    message = f"{result.title}: {rows}"
    if not result.rows and item.skip_empty:
        return RunOutcome(item.id, EMPTY, 0, 0, None, message)
    mail_id = send_result(
        settings,
        engine,
        result,
        list(item.recipients),
        item.format,
        item.subject,
        item.body,
        category="scheduled report",
        reply_to=owner.email or None,
    )
    return _sent(engine, item, mail_id, len(item.recipients), len(result.rows), message)


def _run_alarm(
    settings, engine: Engine, item: Schedule, owner: Principal, now: datetime, window: tuple[datetime, datetime]
) -> tuple[RunOutcome, dict]:
    import warehouse
    from warehouse.alarms import Context, alarm_type, evaluate
    from warehouse.alarms.message import as_result, compose, workbook

    kind = alarm_type(item.type)
    ctx = Context(
        settings=settings,
        engine=engine,
        principal=owner,
        language=owner.language,
        zone=owner.time_zone,
        now=now,
        window_start=window[0],
        window_end=window[1],
        state=dict(item.state.get("alarm", {})),
        con=warehouse.connect(settings),
    )
    finding = evaluate(ctx, item.type, item.options)
    count = len(finding.rows)
    if not finding.tripped and item.skip_empty:
        return RunOutcome(item.id, EMPTY, 0, 0, None, finding.summary), finding.state
    currency = settings.company.currency
    subject, html, text = compose(
        finding,
        kind,
        subject=item.subject,
        message=item.body,
        description=item.description,
        language=owner.language,
        zone=owner.time_zone,
        now=now,
        currency=currency,
    )
    attachments = []
    if item.format == "xlsx" and finding.tripped:
        result = as_result(
            finding,
            kind,
            language=owner.language,
            zone=owner.time_zone,
            now=now,
            currency=currency,
            company=settings.company.name,
            owner=owner.user_id,
        )
        attachments.append(workbook(result))
    mail_id = mail.send(
        settings,
        engine,
        list(item.recipients),
        subject,
        html=html,
        text=text,
        attachments=attachments,
        category="alarm",
    )
    return _sent(engine, item, mail_id, len(item.recipients), count, finding.summary), finding.state
