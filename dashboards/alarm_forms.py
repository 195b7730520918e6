"""The settings form of each alarm type (inside the Scheduled Alarms page's form).

Each function draws its widgets with the current settings as defaults and returns the settings as a
dict, which `warehouse.alarms.params` then checks (a wrong value comes back as a message).
"""

from __future__ import annotations

import re
from datetime import date, time

import streamlit as st

from warehouse.alarms import params as P
from warehouse.alarms.checks import SPENDING_GROUPS, SPENDING_PERIODS
from warehouse.i18n import N_, Translator

WEEKDAYS = (1, 2, 3, 4, 5, 6, 7)  # ISO: Monday = 1


def weekday_name(tr: Translator, day: int) -> str:
    """The name of an ISO weekday in the reader's language (from the locale's own calendar)."""
    return str(tr.locale.days["format"]["wide"][day - 1])


DIRECTION_NAMES = {"outgoing": N_("Outgoing"), "incoming": N_("Incoming"), "internal": N_("Internal")}


class FormError(ValueError):
    """A field of the form cannot be read; the message says which and how it should look."""


def lines(text: str) -> list[str]:
    """The non-empty entries of a text field (one per line, or separated by commas)."""
    return [x.strip() for x in re.split(r"[\n,;]+", text or "") if x.strip()]


def _days(text: str, where: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        m = re.fullmatch(r"([1-7])(?:-([1-7]))?", part)
        if not m:
            raise FormError(f"{where}: days {text!r} must look like 1-5 or 1,3,5 (1 = Monday)")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        out.extend(range(first, last + 1))
    return sorted(set(out))


def _clock(text: str, where: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise FormError(f"{where}: {text!r} is not a time such as 08:00") from None


def parse_site_hours(text: str) -> list[dict]:
    """Site hours written one per line: 'New York; 1-5; 09:00-17:30'."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) != 3 or "-" not in parts[2]:
            raise FormError(f"line {n}: {line!r} must look like 'New York; 1-5; 09:00-17:30'")
        start, _dash, end = parts[2].partition("-")
        where = f"line {n}"
        out.append(
            {
                "site": parts[0],
                "days": _days(parts[1], where),
                "start": _clock(start, where).isoformat("minutes"),
                "end": _clock(end, where).isoformat("minutes"),
            }
        )
    return out


def site_hours_text(entries: list[dict]) -> str:
    """Site hours as the text field shows them."""
    rows = []
    for e in entries:
        days = ",".join(str(d) for d in e.get("days", []))
        rows.append(f"{e['site']}; {days}; {str(e['start'])[:5]}-{str(e['end'])[:5]}")
    return "\n".join(rows)


def hours_fields(tr: Translator, prefix: str, current: dict) -> dict:
    """Weekdays and a start and end time."""
    _ = tr.gettext
    c1, c2, c3 = st.columns([3, 1, 1])
    days = c1.multiselect(
        _("Working days"),
        list(WEEKDAYS),
        default=current.get("days", [1, 2, 3, 4, 5]),
        format_func=lambda d: weekday_name(tr, d),
        key=f"{prefix}days",
    )
    start = c2.time_input(_("From"), value=_clock(str(current.get("start", "08:00")), "from"), key=f"{prefix}open")
    end = c3.time_input(_("To"), value=_clock(str(current.get("end", "18:00")), "to"), key=f"{prefix}close")
    return {"days": days, "start": start.isoformat("minutes"), "end": end.isoformat("minutes")}


def window_field(tr: Translator, prefix: str, current: dict, default: int = 0) -> int:
    """How far back the alarm looks (0: the calls since its last run)."""
    return int(
        st.number_input(
            tr.gettext("Look back (minutes; 0: the calls since the last run)"),
            min_value=0,
            max_value=60 * 24 * 31,
            value=int(current.get("window_minutes", default)),
            step=15,
            key=f"{prefix}window",
        )
    )


def sites_field(where, tr: Translator, prefix: str, current: dict, sites: list[str]) -> list[str]:
    """The sites an alarm is limited to (none: all), drawn in `where` (the page or a column)."""
    _ = tr.gettext
    return where.multiselect(
        _("Only these sites"), sites, default=current.get("sites", []), placeholder=_("All"), key=f"{prefix}sites"
    )


def answered_and_shortest(tr: Translator, prefix: str, current: dict) -> dict:
    """Whether only answered calls count, and the shortest call that does (one row)."""
    _ = tr.gettext
    c1, c2 = st.columns(2)
    answered = c1.checkbox(_("Answered calls only"), value=current.get("answered_only", False), key=f"{prefix}ans")
    minimum = c2.number_input(
        _("Shortest call counted (seconds)"),
        min_value=0,
        value=int(current.get("min_duration_s", 0)),
        key=f"{prefix}min_s",
    )
    return {"answered_only": answered, "min_duration_s": int(minimum)}


def outside_hours(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L1."""
    _ = tr.gettext
    st.markdown(_("Working hours of every site (in each site's own time zone)"))
    default = hours_fields(tr, f"{prefix}h_", current.get("default_hours", {}))
    site_text = st.text_area(
        _("Sites with other hours (one per line: site; days; from-to)"),
        value=site_hours_text(current.get("site_hours", [])),
        placeholder="New York; 1-5; 09:00-17:30",
        key=f"{prefix}site_hours",
    )
    closed = st.text_area(
        _("Holidays (one date per line, YYYY-MM-DD)"),
        value="\n".join(str(d) for d in current.get("closed_dates", [])),
        key=f"{prefix}closed",
    )
    c1, c2 = st.columns(2)
    directions = c1.multiselect(
        _("Directions"),
        list(DIRECTION_NAMES),
        default=current.get("directions", ["outgoing"]),
        format_func=lambda d: _(DIRECTION_NAMES[d]),
        key=f"{prefix}directions",
    )
    only = sites_field(c2, tr, prefix, current, sites)
    calls = answered_and_shortest(tr, prefix, current)
    window = window_field(tr, prefix, current)
    dates = []
    for n, d in enumerate(lines(closed), start=1):
        try:
            dates.append(date.fromisoformat(d).isoformat())
        except ValueError:
            raise FormError(f"holidays, line {n}: {d!r} is not a date such as 2026-12-25") from None
    return {
        "default_hours": default,
        "site_hours": parse_site_hours(site_text),
        "closed_dates": dates,
        "directions": directions,
        "sites": only,
        **calls,
        "window_minutes": window,
    }


def forbidden_numbers(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L2."""
    _ = tr.gettext
    c1, c2 = st.columns(2)
    numbers = c1.text_area(
        _("Forbidden numbers (one per line)"), value="\n".join(current.get("numbers", [])), key=f"{prefix}numbers"
    )
    prefixes = c2.text_area(
        _("Forbidden prefixes (one per line)"),
        value="\n".join(current.get("prefixes", [])),
        help=_("A number matches as dialled or in its international form (+39899…, 0039899…)."),
        key=f"{prefix}prefixes",
    )
    answered = st.checkbox(_("Answered calls only"), value=current.get("answered_only", False), key=f"{prefix}ans")
    return {
        "numbers": lines(numbers),
        "prefixes": lines(prefixes),
        "answered_only": answered,
        "window_minutes": window_field(tr, prefix, current),
    }


def spending(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L3."""
    _ = tr.gettext
    c1, c2, c3 = st.columns(3)
    groups = list(SPENDING_GROUPS)
    group = c1.selectbox(
        _("Per"),
        groups,
        index=groups.index(current.get("group_by", "user")),
        format_func=lambda g: _(SPENDING_GROUPS[g][2]),
        key=f"{prefix}group",
    )
    threshold = c2.number_input(
        _("More than (amount)"),
        min_value=0.01,
        value=float(current.get("threshold", 100)),
        step=10.0,
        key=f"{prefix}threshold",
    )
    periods = list(SPENDING_PERIODS)
    period = c3.selectbox(
        _("Period"),
        periods,
        index=periods.index(current.get("period", "this_month")),
        format_func=lambda k: _(SPENDING_PERIODS[k]),
        key=f"{prefix}period",
    )
    subjects = st.text_area(
        _("Only these users, departments or cost centres (one per line; none: all)"),
        value="\n".join(current.get("subjects", [])),
        key=f"{prefix}subjects",
    )
    repeat = st.checkbox(
        _("Report at every run while over the amount (otherwise once per period)"),
        value=current.get("repeat", False),
        key=f"{prefix}repeat",
    )
    return {
        "group_by": group,
        "threshold": f"{threshold:.2f}",
        "period": period,
        "subjects": lines(subjects),
        "repeat": repeat,
    }


def missed_calls(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L4."""
    _ = tr.gettext
    extensions = st.text_area(
        _("Extensions (one per line; none: all)"), value="\n".join(current.get("extensions", [])), key=f"{prefix}ext"
    )
    c1, c2 = st.columns(2)
    together = c1.checkbox(
        _("Count the listed extensions together"), value=current.get("together", False), key=f"{prefix}together"
    )
    threshold = c2.number_input(
        _("At least this many missed calls"),
        min_value=1,
        value=int(current.get("threshold", 5)),
        key=f"{prefix}threshold",
    )
    return {
        "extensions": lines(extensions),
        "together": together,
        "threshold": int(threshold),
        "window_minutes": window_field(tr, prefix, current),
    }


def international(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L5."""
    return {
        "sites": sites_field(st, tr, prefix, current, sites),
        **answered_and_shortest(tr, prefix, current),
        "window_minutes": window_field(tr, prefix, current),
    }


def feed_silent(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L6."""
    _ = tr.gettext
    hours = hours_fields(tr, f"{prefix}h_", current.get("hours", {}))
    c1, c2 = st.columns(2)
    choices = ["", *sites]
    site = c1.selectbox(
        _("Hours in the time zone of"),
        choices,
        index=choices.index(current.get("site", "")) if current.get("site", "") in choices else 0,
        format_func=lambda s: s or _("The company"),
        key=f"{prefix}site",
    )
    silent = c2.number_input(
        _("Silent for at least (minutes of working hours)"),
        min_value=1,
        value=int(current.get("silent_minutes", 30)),
        key=f"{prefix}silent",
    )
    clusters = st.text_area(
        _("CUCM clusters (one per line; none: every cluster that sent calls)"),
        value="\n".join(current.get("clusters", [])),
        key=f"{prefix}clusters",
    )
    return {"hours": hours, "site": site, "silent_minutes": int(silent), "clusters": lines(clusters)}


def min_calls(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """L7 and L8: at least N calls."""
    _ = tr.gettext
    count = st.number_input(
        _("At least this many calls"), min_value=1, value=int(current.get("min_calls", 1)), key=f"{prefix}min_calls"
    )
    return {"min_calls": int(count), "window_minutes": window_field(tr, prefix, current)}


def call_quality(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """X4."""
    _ = tr.gettext
    c1, c2, c3, c4 = st.columns(4)
    groups = ["gateway", "site"]
    group = c1.selectbox(
        _("Per"),
        groups,
        index=groups.index(current.get("group_by", "gateway")),
        format_func=lambda g: _("Gateway") if g == "gateway" else _("Site"),
        key=f"{prefix}group",
    )
    mos = c2.number_input(
        _("Average MOS below"),
        min_value=1.0,
        max_value=5.0,
        value=float(current.get("mos_below", 3.6)),
        step=0.1,
        key=f"{prefix}mos",
    )
    loss = c3.number_input(
        _("Packet loss above (%)"),
        min_value=0.0,
        max_value=100.0,
        value=float(current.get("loss_above_pct", 1.0)),
        step=0.5,
        key=f"{prefix}loss",
    )
    count = c4.number_input(
        _("From at least (calls)"), min_value=1, value=int(current.get("min_calls", 10)), key=f"{prefix}min_calls"
    )
    return {
        "group_by": group,
        "mos_below": mos,
        "loss_above_pct": loss,
        "min_calls": int(count),
        "window_minutes": window_field(tr, prefix, current, 60),
    }


def anomaly(tr: Translator, prefix: str, current: dict, sites: list[str]) -> dict:
    """X6."""
    _ = tr.gettext
    c1, c2, c3 = st.columns(3)
    groups = ["extension", "cost_centre"]
    group = c1.selectbox(
        _("Per"),
        groups,
        index=groups.index(current.get("group_by", "extension")),
        format_func=lambda g: _("Extension") if g == "extension" else _("Cost centre"),
        key=f"{prefix}group",
    )
    hours = c2.number_input(
        _("Hours judged at a time"),
        min_value=1,
        max_value=24,
        value=int(current.get("window_hours", 1)),
        key=f"{prefix}hours",
    )
    weeks = c3.number_input(
        _("Weeks of history"), min_value=2, max_value=26, value=int(current.get("weeks", 4)), key=f"{prefix}weeks"
    )
    c1, c2, c3 = st.columns(3)
    k = c1.number_input(
        _("Spreads above the usual"),
        min_value=0.5,
        max_value=20.0,
        value=float(current.get("k", 3.0)),
        step=0.5,
        key=f"{prefix}k",
    )
    extra_calls = c2.number_input(
        _("At least this many calls above the usual"),
        min_value=1,
        value=int(current.get("min_extra_calls", 5)),
        key=f"{prefix}extra_calls",
    )
    extra_cost = c3.number_input(
        _("At least this much cost above the usual"),
        min_value=0.01,
        value=float(current.get("min_extra_cost", 5)),
        step=1.0,
        key=f"{prefix}extra_cost",
    )
    return {
        "group_by": group,
        "window_hours": int(hours),
        "weeks": int(weeks),
        "k": k,
        "min_extra_calls": int(extra_calls),
        "min_extra_cost": f"{extra_cost:.2f}",
    }


FORMS = {
    "outside_hours": outside_hours,
    "forbidden_numbers": forbidden_numbers,
    "spending": spending,
    "missed_calls": missed_calls,
    "international": international,
    "feed_silent": feed_silent,
    "unknown_destinations": min_calls,
    "unknown_extensions": min_calls,
    "call_quality": call_quality,
    "anomaly": anomaly,
}


def settings_of(model: type[P._Params], options: str | None) -> dict:
    """An alarm's stored settings as plain values for the form (defaults for a new alarm)."""
    if not options:
        # a new alarm starts from the defaults, even where they are not enough to save it
        return model.model_construct().model_dump(mode="json")
    return P.parse(model, options).model_dump(mode="json")
