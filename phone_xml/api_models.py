"""The JSON API's request and response shapes (pydantic): the views validate with them and the
OpenAPI document is generated from them, so the document says exactly what the API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.call_search import DIRECTIONS, MAX_LIMIT, SIDES, STATUSES

Cell = str | int | float | bool | None


class ErrorBody(BaseModel):
    """What went wrong."""

    status: int = Field(description="The HTTP status code, repeated.")
    code: str = Field(description="A stable word for the kind of error, e.g. invalid_parameter.")
    message: str = Field(description="What went wrong, in English.")
    field: str | None = Field(default=None, description="The parameter or body field at fault, when there is one.")


class Error(BaseModel):
    """Every error answer: {"error": {...}}."""

    error: ErrorBody


class TokenRef(BaseModel):
    """The token a request was made with."""

    id: int
    name: str
    expires_at: datetime | None


class Me(BaseModel):
    """The person a token acts for."""

    user_id: str
    display_name: str
    role: Literal["user", "supervisor", "administrator"]
    language: str
    time_zone: str
    extensions: list[str] = Field(description="Extensions assigned to the person now.")
    token: TokenRef


class CallsQuery(BaseModel):
    """Filters of GET /calls (query parameters); every one narrows the person's own scope."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    date_from: date | None = Field(
        default=None, alias="from", description="First local day (in the person's time zone), inclusive."
    )
    date_to: date | None = Field(default=None, alias="to", description="Last local day, inclusive.")
    direction: Literal[DIRECTIONS] | None = Field(default=None, description="The call's direction.")  # type: ignore[valid-type]
    side: Literal[SIDES] | None = Field(  # type: ignore[valid-type]
        default=None,
        description="The person's side: outgoing (placed, internal ones too), incoming (received), "
        "missed (received and never answered).",
    )
    status: Literal[STATUSES] | None = Field(default=None, description="answered, or missed (no leg connected).")  # type: ignore[valid-type]
    extension: str | None = Field(default=None, min_length=1, max_length=64, description="Only this extension.")
    number: str | None = Field(
        default=None,
        pattern=r"^\+?[0-9]{1,32}$",
        description="Calls whose other party's number contains these digits (only the digits the person can see).",
    )
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Calls per page.")
    cursor: str | None = Field(
        default=None, min_length=1, max_length=400, description="next_cursor of the previous page."
    )


class Call(BaseModel):
    """One call row as the person sees it (outside numbers masked; times UTC, ISO 8601)."""

    call_id: str
    leg_id: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None = Field(description="Talk time, seconds.")
    ring_s: int | None = Field(description="Seconds from origination to answer (or hang-up).")
    direction: str
    leg_role: str | None
    answered: bool | None
    missed: bool | None
    extension: str | None
    user_id: str | None
    user_name: str | None
    department: str | None
    cost_centre: str | None
    site: str | None
    other_number: str | None
    e164: str | None
    gateway: str | None
    nation: str | None
    area: str | None
    destination_type: str | None
    operator: str | None
    cost: str | None = Field(description="Decimal amount as text (exact), null when not priced.")
    currency: str | None
    hunt_pilot: str | None
    transferred: bool | None
    forwarded: bool | None
    mos: float | None


class CallPage(BaseModel):
    """A page of calls, newest first."""

    model_config = ConfigDict(populate_by_name=True)

    calls: list[Call]
    total: int = Field(description="How many calls match the filters in all pages.")
    limit: int
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")
    time_zone: str = Field(description="The zone from and to are read in.")
    date_from: date | None = Field(alias="from")
    date_to: date | None = Field(alias="to")


class ReportInfo(BaseModel):
    """A catalogue report."""

    name: str
    category: str
    category_title: str
    title: str
    question: str
    kind: Literal["list", "group", "trend", "table"] = Field(
        description="list: call by call; group: rows per dimension; trend: rows per time bucket; "
        "table: rows of their own columns (capacity, call-backs)."
    )


class ReportList(BaseModel):
    """The report catalogue, in catalogue order."""

    reports: list[ReportInfo]


class Column(BaseModel):
    """An output column of a report."""

    key: str
    label: str
    kind: str = Field(description="text, phone, int, decimal, money, duration, datetime, date, percent or bool.")


class ReportResult(BaseModel):
    """A report run: columns and rows (money as exact decimal text, durations in seconds)."""

    name: str
    title: str
    question: str
    kind: str
    description: str = Field(description="The options in words.")
    time_zone: str
    currency: str
    generated_at: datetime
    truncated: bool = Field(description="True when max_rows (or the default maximum) cut the result.")
    columns: list[Column]
    rows: list[list[Cell]]
    totals: dict[str, Cell]


class PhoneState(BaseModel):
    """The lock state of one extension."""

    extension: str
    locked: bool
    status: Literal["unlocked", "user", "budget", "admin"] = Field(description="The strongest reason it is locked.")
    user_locked: bool
    admin_locked: bool = Field(description="Set by an administrator; the person cannot undo it.")
    budget_locked: bool = Field(description="A budget is spent; it goes when the next period starts.")
    user_can_unlock: bool


class Phone(BaseModel):
    """The person's phone: every extension assigned to them."""

    locked: bool
    extensions: list[PhoneState]


class LockRequest(BaseModel):
    """Which of the person's extensions to lock or unlock (all of them when left out)."""

    model_config = ConfigDict(extra="forbid")

    extensions: list[str] | None = Field(default=None, min_length=1, max_length=50)


class Budget(BaseModel):
    """A budget that applies to the person, and its current period (amounts as exact decimal text)."""

    id: int
    name: str
    scope: Literal["user", "department", "cost_centre"]
    subject: str
    period: Literal["weekly", "monthly"]
    currency: str
    amount: str
    allowance: str = Field(description="Amount plus what the previous period carried over.")
    spent: str
    remaining: str
    percent: int = Field(description="Share of the allowance spent, whole percent.")
    exhausted: bool
    lock_on_exhaust: bool = Field(description="Whether the phones lock when it is spent.")
    period_start: datetime
    period_end: datetime
    first_day: date
    until: date = Field(description="The period's last local day.")
    phones: list[PhoneState]


class BudgetList(BaseModel):
    """The person's budgets."""

    budgets: list[Budget]
