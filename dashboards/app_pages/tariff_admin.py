"""Tariffs (administrators): plans and versions, uploads checked line by line, explain a call's cost (X1),
re-rate a period with the change per cost centre (X2), and price a period under another plan (X3)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards.admin import differences_frame, period_inputs, require_admin, rerate_panel, totals, when
from dashboards.charts import cell_text
from dashboards.locks import flash, show_flash
from dashboards.session import engine, settings
from tariffs.model import TariffError
from warehouse import rating, tariff_files
from warehouse.access import mask_digits, mask_number
from warehouse.audit import NUMBERS_UNMASKED, audit
from warehouse.i18n import N_
from warehouse.reports.export import PALETTE
from warehouse.reports.fields import DESTINATION_TYPES, DIRECTIONS

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
state = st.session_state
currency = s.company.currency

SECTIONS = {
    "plans": N_("Plans and versions"),
    "upload": N_("Upload"),
    "explain": N_("Explain a call"),
    "rerate": N_("Re-rate"),
    "whatif": N_("What-if"),
}
FORMAT_NAMES = {
    "auto": N_("Detect from the file"),
    "own": N_("Ringledger's own format (zip)"),
    "deck": N_("A-Z rate deck (CSV)"),
    "cgrates": N_("CGRateS tariff plan (zip)"),
}
BAND_MODES = {
    "start": N_("the band at the answer prices the whole call"),
    "split": N_("the call is cut where the band changes"),
}
INSTALL_MODES = {
    "new": N_("A new plan"),
    "replace": N_("Replace the installed plan of the same name"),
    "version": N_("A new version of an installed plan"),
}

st.title(_("Tariffs"))
show_flash()
section = st.segmented_control(
    _("Show"), list(SECTIONS), format_func=lambda k: _(SECTIONS[k]), key="tar_section", default="plans"
)
section = section or "plans"


def local_midnight(day: date, zone_name: str) -> datetime:
    """The start of a day in a time zone, as a UTC moment."""
    return datetime.combine(day, time(0), tzinfo=zoneinfo.ZoneInfo(zone_name)).astimezone(UTC)


def money(value: Decimal | None) -> str:
    return cell_text(tr.money(value, currency), tr) if value is not None else ""


# --- plans and versions -----------------------------------------------------------------------------------


def close(plan: tariff_files.PlanInfo) -> None:
    version = state.get("tar_close_version")
    day = state.get("tar_close_day")
    if not version or day is None:
        flash("error", _("Choose the version and the day it ends."))
        return
    try:
        days = tariff_files.close_version(
            s, eng, principal.user_id, plan.name, version, local_midnight(day, plan.time_zone)
        )
    except (TariffError, ValueError) as exc:
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    flash(
        "success",
        _("Version {version} of {plan} ends on {day}.").format(version=version, plan=plan.name, day=tr.date(day))
        + " "
        + tr.ngettext(
            "{n} day priced with it is marked for re-rating.",
            "{n} days priced with it are marked for re-rating.",
            len(days),
        ).format(n=tr.number(len(days))),
    )


def plans_section() -> None:
    plans = tariff_files.plans_overview(s)
    if not plans:
        st.info(_("No tariff plan is installed. Upload one under Upload."))
        return
    st.caption(
        _(
            "Dates are shown in each plan's own time zone. A version is in force from its start until the next "
            "one starts."
        )
    )
    for plan in plans:
        st.subheader(plan.name)
        if plan.error:
            st.error(_("This plan cannot be read, so its calls stay unrated: {error}").format(error=plan.error))
            continue
        st.caption(
            " · ".join(
                p
                for p in (plan.carrier, plan.currency, plan.time_zone, "" if plan.installed else _("configured file"))
                if p
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    _("Version"): [v.id for v in plan.versions],
                    _("In force from"): [when(tr, v.valid_from, plan.time_zone) or _("always") for v in plan.versions],
                    _("Until"): [when(tr, v.valid_to, plan.time_zone) or _("open") for v in plan.versions],
                    _("Rates"): [v.rates for v in plan.versions],
                    _("Bands"): [", ".join(v.bands) for v in plan.versions],
                }
            ),
            hide_index=True,
            key=f"tar_versions_{plan.name}",
        )
    editable = {p.name: p for p in plans if p.installed and not p.error and p.versions}
    if not editable:
        return
    st.subheader(_("End a version"))
    st.caption(
        _("To add a version, upload its rates under Upload as a new version of the plan, with the day it starts.")
    )
    name = st.selectbox(_("Plan"), list(editable), key="tar_close_plan")
    plan = editable[name]
    with st.form("tar_close_form"):
        st.selectbox(_("Version"), [v.id for v in plan.versions], key="tar_close_version")
        st.date_input(_("No longer in force from"), value=None, key="tar_close_day")
        st.form_submit_button(_("End this version"), key="tar_close_submit", on_click=close, args=(plan,))


# --- uploads ---------------------------------------------------------------------------------------------


def upload_section() -> None:
    st.caption(
        _(
            "Upload an A-Z rate deck (CSV), or a zip of a plan in Ringledger's own format or of a CGRateS tariff "
            "plan. It is checked first; a file with problems is never installed."
        )
    )
    upload = st.file_uploader(_("Tariff file"), type=["csv", "txt", "zip"], key="tar_file")
    fmt = st.selectbox(_("Format"), list(FORMAT_NAMES), format_func=lambda k: _(FORMAT_NAMES[k]), key="tar_format")
    with st.expander(_("Terms the file does not carry (decks and CGRateS plans)")):
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(_("Plan name"), key="tar_name", help=_("A deck's default: its file name."))
        cur = c2.text_input(_("Currency"), value=currency, key="tar_currency", max_chars=3)
        zone_name = c3.selectbox(
            _("Time zone of bands and dates"), ["UTC", *sorted(zoneinfo.available_timezones())], key="tar_zone"
        )
        c4, c5, c6 = st.columns(3)
        country = c4.text_input(_("Country of national numbers"), key="tar_country", max_chars=2)
        billing = c5.text_input(_("Billing (first block / increment)"), value="1/1", key="tar_billing")
        fee = c6.text_input(_("Connect fee"), value="0", key="tar_fee")
    mode = st.radio(_("Install as"), list(INSTALL_MODES), format_func=lambda k: _(INSTALL_MODES[k]), key="tar_mode")
    starts = None
    if mode == "version":
        starts = st.date_input(_("In force from"), value=None, key="tar_version_from")
    if upload is None:
        return
    terms = tariff_files.Terms(
        name=name.strip(),
        currency=cur.strip().upper(),
        time_zone=zone_name,
        country=country.strip().upper(),
        billing=billing,
        connect_fee=fee.strip(),
    )
    key = (upload.file_id, fmt, terms)
    if st.button(_("Check"), key="tar_check", type="primary", icon=":material/fact_check:"):
        state["tar_checked"] = (key, tariff_files.check_upload(s, upload.name, upload.getvalue(), fmt, terms))
    checked = state.get("tar_checked")
    if not checked or checked[0] != key:
        return
    result: tariff_files.UploadCheck = checked[1]
    if not result.ok:
        st.error(_("{file} has problems; nothing was installed.").format(file=upload.name), icon=":material/error:")
        st.dataframe(
            pd.DataFrame(
                {
                    _("File"): [p.file for p in result.problems],
                    _("Line"): [str(p.line) if p.line else "" for p in result.problems],
                    _("Field"): [p.field or "" for p in result.problems],
                    _("Problem"): [p.problem for p in result.problems],
                }
            ),
            hide_index=True,
            key="tar_problems",
        )
        if len(result.problems) >= tariff_files.MAX_PROBLEMS:
            st.caption(_("Only the first {n} problems are listed.").format(n=tariff_files.MAX_PROBLEMS))
        return
    st.success(_("{file} reads without problems ({note}).").format(file=upload.name, note=result.note))
    rows = [(p, v) for p in result.plans for v in p.versions]
    st.dataframe(
        pd.DataFrame(
            {
                _("Plan"): [p.name for p, _v in rows],
                _("Currency"): [p.currency for p, _v in rows],
                _("Version"): [v.id for _p, v in rows],
                _("Rates"): [v.rates.num_rows for _p, v in rows],
            }
        ),
        hide_index=True,
        key="tar_checked_plans",
    )
    if st.button(_("Install"), key="tar_install", type="primary", icon=":material/download_done:"):
        if mode == "version" and starts is None:
            st.error(_("Choose the day the new version is in force from."))
            return
        valid_from = local_midnight(starts, result.plans[0].time_zone) if starts else None
        try:
            done = tariff_files.install_checked(
                s, eng, principal.user_id, result, replace_existing=mode == "replace", valid_from=valid_from
            )
        except (TariffError, ValueError) as exc:
            st.error(_("That was refused: {reason}").format(reason=exc))
            return
        state.pop("tar_checked", None)
        flash(
            "success",
            _("Installed: {plans}.").format(plans=", ".join(done.plans))
            + " "
            + tr.ngettext(
                "{n} day priced with other tariffs is marked for re-rating.",
                "{n} days priced with other tariffs are marked for re-rating.",
                len(done.marked_days),
            ).format(n=tr.number(len(done.marked_days))),
        )
        st.rerun()


# --- explain a call ---------------------------------------------------------------------------------------


def explain_section() -> None:
    st.caption(
        _("Why a call costs what it costs: the plan and version, the prefix matched, the band, the seconds billed.")
    )
    call_id = st.text_input(_("Call id"), key="tar_call_id", placeholder="Cluster:1:123456").strip()
    full = st.toggle(
        _("Show full numbers"),
        key="tar_explain_unmask",
        help=_("Administrators may see whole outside numbers; every such view is recorded in the audit log."),
    )
    if not call_id:
        return
    try:
        results = rating.explain_call(s, call_id)
    except (ValueError, TariffError) as exc:
        st.warning(_("Nothing to explain: {reason}").format(reason=exc))
        return
    hidden = 0 if full else mask_digits(s, principal.role)
    if full:
        audit(eng, principal.user_id, NUMBERS_UNMASKED, f"explain {call_id}", {"rows": len(results)})
    for i, (row, ex) in enumerate(results):
        with st.container(border=True, key=f"tar_explain_{i}"):
            st.markdown(
                _("**Extension {extension}**, {direction} {number}, {duration}").format(
                    extension=row["extension"],
                    direction=_(DIRECTIONS.get(row["direction"], row["direction"])),
                    number=mask_number(row["other_number"], hidden) or "",
                    duration=tr.duration(row["duration_s"]),
                )
            )
            st.markdown(
                _("This row costs **{cost}**.").format(cost=money(row["cost"]) or _("nothing (unrated)"))
                + " "
                + _("Priced by: {ref}").format(ref=row["rate_ref"])
            )
            facts = explanation_facts(ex, hidden)
            st.dataframe(
                pd.DataFrame({_("What"): [f[0] for f in facts], _("Value"): [f[1] for f in facts]}),
                hide_index=True,
                key=f"tar_explain_facts_{i}",
            )
            if ex.steps:
                st.dataframe(
                    pd.DataFrame(
                        {
                            _("Step"): [str(x.step + 1) for x in ex.steps],
                            _("From second"): [str(x.from_s) for x in ex.steps],
                            _("To second"): [str(x.to_s) if x.to_s is not None else _("end") for x in ex.steps],
                            _("Increment (s)"): [str(x.increment_s) for x in ex.steps],
                            _("Price"): [tr.exact(x.price) for x in ex.steps],
                            _("Per (s)"): [str(x.per_s) for x in ex.steps],
                            _("Billed (s)"): [str(x.billed_s) for x in ex.steps],
                            _("Amount"): [tr.exact(x.amount) for x in ex.steps],
                        }
                    ),
                    hide_index=True,
                    key=f"tar_explain_steps_{i}",
                )
            if ex.pieces:
                st.dataframe(
                    pd.DataFrame(
                        {
                            _("Band"): [x.band or _("any time") for x in ex.pieces],
                            _("From"): [when(tr, x.start, ex.time_zone or "UTC") for x in ex.pieces],
                            _("To"): [when(tr, x.end, ex.time_zone or "UTC") for x in ex.pieces],
                            _("Seconds"): [str(x.seconds) for x in ex.pieces],
                            _("Step"): [str(x.step + 1) for x in ex.pieces],
                            _("Price"): [tr.exact(x.price) for x in ex.pieces],
                            _("Amount"): [tr.exact(x.amount) for x in ex.pieces],
                        }
                    ),
                    hide_index=True,
                    key=f"tar_explain_pieces_{i}",
                )


def short_source(source: str) -> str:
    """A rate's file and line, relative to the tariffs folder when it is there."""
    root = str(s.tariffs_dir) + "/"
    return source.removeprefix(root)


def explanation_facts(ex, hidden: int) -> list[tuple[str, str]]:
    """The explanation as (what, value) lines in the reader's language."""
    cur = ex.currency or ""
    facts = [
        (_("Cost in the plan's currency"), f"{tr.exact(ex.cost)} {cur}".strip() if ex.cost is not None else "–"),
        (_("Number"), mask_number(ex.number, hidden) or "–"),
        (_("Destination type"), _(DESTINATION_TYPES.get(ex.destination_type or "unknown", "Unknown"))),
        (_("Country"), ex.nation or ""),
    ]
    if ex.plan:
        facts.append((_("Plan"), ex.plan))
    if ex.version is not None:
        span = (when(tr, ex.version_valid_from, ex.time_zone or "UTC") or _("always")) + " – "
        span += when(tr, ex.version_valid_to, ex.time_zone or "UTC") or _("open")
        mode = BAND_MODES.get(ex.band_mode or "")
        facts += [(_("Version"), f"{ex.version} ({span})"), (_("Band mode"), _(mode) if mode else "")]
    if ex.status != "rated":
        return facts
    facts += [
        (_("Matched"), f"{ex.matched} ({ex.destination})" if ex.destination else str(ex.matched)),
        (_("Rate taken from"), short_source(ex.source or "")),
        (_("Answered"), f"{ex.answered_local} ({ex.time_zone})"),
        (_("Band at the answer"), ex.band or _("any time")),
        (_("Duration (s)"), str(ex.duration_s)),
        (_("Free seconds"), str(ex.free_seconds)),
        (_("Billed seconds"), str(ex.billed_s)),
        (_("Connect fee"), tr.exact(ex.connect_fee)),
        (_("Usage"), tr.exact(ex.usage)),
        (_("Subtotal"), tr.exact(ex.subtotal)),
    ]
    if ex.minimum_charge:
        facts.append(
            (_("Minimum charge"), tr.exact(ex.minimum_charge) + (" " + _("(applied)") if ex.minimum_applied else ""))
        )
    if ex.max_cost is not None:
        facts.append((_("Maximum cost"), tr.exact(ex.max_cost) + (" " + _("(applied)") if ex.max_applied else "")))
    facts.append(
        (
            _("Rounding"),
            _("{amount} to {decimals} decimals, {method}").format(
                amount=tr.exact(ex.unrounded), decimals=ex.rounding_decimals, method=ex.rounding_method
            ),
        )
    )
    return facts


# --- re-rating and what-if ----------------------------------------------------------------------------------


def whatif_section() -> None:
    st.caption(
        _(
            "Price the real calls of a period under another plan, side by side with what they cost now. Stored "
            "costs do not change."
        )
    )
    plans = sorted(rating.load_tariffs(s).plans)
    if not plans:
        st.info(_("No tariff plan is installed. Upload one under Upload."))
        return
    plan = st.selectbox(_("Plan"), plans, key="tar_whatif_plan")
    start, end = period_inputs(tr, "tar_whatif")
    labels = sorted({d.label or d.device for d in s.devices if d.kind in ("gateway", "trunk")})
    gateways = st.multiselect(
        _("Only calls through these gateways"), labels, key="tar_whatif_gateways", placeholder=_("All gateways")
    )
    if st.button(_("Compare"), key="tar_whatif_go", type="primary", icon=":material/compare_arrows:"):
        if end < start:
            st.error(_("The period ends before it starts."))
            return
        try:
            diffs, plan_currency = rating.whatif(s, plan, start, end, gateways or None)
        except (TariffError, ValueError) as exc:
            st.error(_("That was refused: {reason}").format(reason=exc))
            return
        state["tar_whatif_result"] = (plan, diffs)
    result = state.get("tar_whatif_result")
    if not result:
        return
    plan, diffs = result
    if not diffs:
        st.info(_("There are no billable calls in this period."))
        return
    under = _("Under {plan}").format(plan=plan)
    totals(tr, diffs, currency, _("Now"), under, key="tar_whatif_totals")
    left, right = st.columns([3, 2])
    left.dataframe(differences_frame(tr, diffs, currency, _("Now"), under), hide_index=True, key="tar_whatif_table")
    centres: dict[str, tuple[Decimal, Decimal]] = {}
    for d in diffs:
        now, then = centres.get(d.cost_centre, (Decimal(0), Decimal(0)))
        centres[d.cost_centre] = (now + d.before, then + d.after)
    names = list(centres)
    fig = go.Figure(
        [
            go.Bar(name=_("Now"), x=names, y=[float(v[0]) for v in centres.values()], marker_color=PALETTE[0]),
            go.Bar(name=under, x=names, y=[float(v[1]) for v in centres.values()], marker_color=PALETTE[1]),
        ]
    )
    fig.update_layout(
        barmode="group",
        height=360,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis_title=currency,
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_xaxes(type="category")
    right.plotly_chart(fig, key="tar_whatif_chart", config={"displaylogo": False})


{
    "plans": plans_section,
    "upload": upload_section,
    "explain": explain_section,
    "rerate": lambda: rerate_panel(tr, principal, "tar_rerate"),
    "whatif": whatif_section,
}[section]()
