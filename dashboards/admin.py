"""Pieces the administration pages share: the administrators-only gate, paging, times, field problems."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards.charts import cell_text
from dashboards.session import require_principal, settings
from warehouse import rating
from warehouse.access import Principal
from warehouse.i18n import Translator

PAGE_SIZE = 50


def require_admin() -> tuple[Principal, Translator]:
    """The logged-in administrator and their translator; anyone else is told so and the page stops."""
    principal, tr = require_principal()
    if not principal.is_admin:
        st.error(tr.gettext("Only administrators may open this page."))
        st.stop()
    return principal, tr


def pager(tr: Translator, key: str, total: int, limit: int = PAGE_SIZE) -> int:
    """A page chooser under a long list; returns the offset of the page shown."""
    pages = max(1, math.ceil(total / limit))
    if st.session_state.get(key, 1) > pages:
        st.session_state[key] = pages
    if pages == 1:
        st.caption(tr.ngettext("{n} entry", "{n} entries", total).format(n=tr.number(total)))
        return 0
    left, right = st.columns([1, 4], vertical_alignment="bottom")
    page = left.number_input(tr.gettext("Page"), min_value=1, max_value=pages, step=1, key=key)
    right.caption(
        tr.gettext("Page {page} of {pages} · {n} entries").format(
            page=tr.number(int(page)), pages=tr.number(pages), n=tr.number(total)
        )
    )
    return (int(page) - 1) * limit


def when(tr: Translator, value: datetime | None, zone: str) -> str:
    """A moment in the viewer's zone, or '' when there is none."""
    return tr.datetime(value, zone, "short") if value is not None else ""


def field_problems(problems: Iterable[tuple[str, str]], *prefixes: str) -> list[str]:
    """The problems whose setting starts with one of the prefixes (to show them under their fields)."""
    out = []
    for where, what in problems:
        # a problem the models word themselves (no setting named) shows where its text names the setting
        named = where or what
        if not prefixes or any(named.startswith(p) or (not where and p in what) for p in prefixes):
            out.append(f"{where}: {what}" if where else what)
    return out


def show_problems(tr: Translator, problems: Iterable[tuple[str, str]], *prefixes: str) -> None:
    """The problems of these settings, each on its own line, as an error."""
    found = field_problems(problems, *prefixes)
    if found:
        st.error(
            tr.gettext("Not saved. Please correct:") + "\n\n" + "\n".join(f"- {p}" for p in found),
            icon=":material/error:",
        )


# --- re-rating / re-processing a period (Tariffs, Sites and gateways) ---------------------------------------


def last_month() -> tuple[date, date]:
    """The first and last day of the previous calendar month."""
    first = date.today().replace(day=1)
    end = first - timedelta(days=1)
    return end.replace(day=1), end


def period_inputs(tr: Translator, prefix: str) -> tuple[date, date]:
    """Two date boxes, from and to (UTC days), last month by default."""
    first, last = last_month()
    c1, c2 = st.columns(2)
    start = c1.date_input(tr.gettext("From (UTC day)"), value=first, key=f"{prefix}_from")
    end = c2.date_input(tr.gettext("To (UTC day)"), value=last, key=f"{prefix}_to")
    return start, end


def differences_frame(
    tr: Translator, diffs: list[rating.Difference], currency: str, before: str, after: str
) -> pd.DataFrame:
    """Cost per cost centre and department, before and after, the change, and a totals row."""
    _ = tr.gettext

    def money(value: Decimal) -> str:
        return cell_text(tr.money(value, currency), tr)

    total_before = sum((d.before for d in diffs), Decimal(0))
    total_after = sum((d.after for d in diffs), Decimal(0))
    return pd.DataFrame(
        {
            _("Cost centre"): [d.cost_centre for d in diffs] + [_("Total")],
            _("Department"): [d.department for d in diffs] + [""],
            _("Calls"): [tr.number(d.calls) for d in diffs] + [tr.number(sum(d.calls for d in diffs))],
            before: [money(d.before) for d in diffs] + [money(total_before)],
            after: [money(d.after) for d in diffs] + [money(total_after)],
            _("Change"): [money(d.change) for d in diffs] + [money(total_after - total_before)],
            _("Unpriced rows"): [unpriced(d) for d in diffs] + [""],
        }
    )


def totals(tr: Translator, diffs: list[rating.Difference], currency: str, before: str, after: str, key: str) -> None:
    """The period's cost before and after and the change, as three figures above the table."""
    total_before = sum((d.before for d in diffs), Decimal(0))
    total_after = sum((d.after for d in diffs), Decimal(0))
    with st.container(key=key):
        c1, c2, c3 = st.columns(3)
        c1.metric(before, tr.money(total_before, currency))
        c2.metric(after, tr.money(total_after, currency))
        c3.metric(tr.gettext("Change"), tr.money(total_after - total_before, currency))


def unpriced(d: rating.Difference) -> str:
    """Rows without a price after, with the count before when it changed."""
    return f"{d.unrated_before} → {d.unrated_after}" if d.unrated_before != d.unrated_after else str(d.unrated_after)


def rerate_panel(tr: Translator, principal: Principal, prefix: str) -> None:
    """Period, a button that re-rates it with a progress bar (one step per day), then the differences."""
    _ = tr.gettext
    s = settings()
    st.caption(
        _(
            "Re-rating builds the calls of these days again from their call records, with today's tariffs, "
            "exchange rates, sites and gateways, and shows what changed per cost centre and department."
        )
    )
    start, end = period_inputs(tr, prefix)
    if st.button(_("Re-rate"), key=f"{prefix}_go", type="primary", icon=":material/currency_exchange:"):
        if end < start:
            st.error(_("The period ends before it starts."))
            return
        bar = st.progress(0.0, text=_("Starting…"))

        def step(done: int, of: int, day: date) -> None:
            bar.progress(done / of, text=_("Day {day}: {done} of {of}").format(day=tr.date(day), done=done, of=of))

        diffs = rating.rerate(s, start, end, progress=step, actor=principal.user_id)
        bar.empty()
        st.session_state[f"{prefix}_result"] = (start, end, diffs)
    result = st.session_state.get(f"{prefix}_result")
    if not result:
        return
    start, end, diffs = result
    st.success(_("Re-rated {start} to {end}.").format(start=tr.date(start), end=tr.date(end)))
    if not diffs:
        st.info(_("There are no calls in this period."))
        return
    totals(tr, diffs, s.company.currency, _("Before"), _("After"), key=f"{prefix}_totals")
    st.dataframe(
        differences_frame(tr, diffs, s.company.currency, _("Before"), _("After")),
        hide_index=True,
        key=f"{prefix}_table",
    )
