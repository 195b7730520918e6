"""Data health (administrators): files received, rejected lines, the CDR feed per node, unknown extensions,
devices missing from the inventory, and the pipelines' runs (C1, C4; L6 and L8 as an administrator sees them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from dashboards.admin import PAGE_SIZE, pager, require_admin, when
from dashboards.charts import cell_text
from dashboards.locks import flash, show_flash
from dashboards.session import engine, settings
from warehouse import accounts, data_health
from warehouse.accounts import AccountError
from warehouse.config import Device
from warehouse.directory import unknown_extensions
from warehouse.i18n import N_
from warehouse.lake import Lake
from warehouse.rating import load_tariffs
from warehouse.runtime_settings import SettingsRefused

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
state = st.session_state

SECTIONS = {
    "files": N_("Files received"),
    "rejects": N_("Rejected lines"),
    "feed": N_("CDR feed"),
    "unknown": N_("Unknown extensions"),
    "devices": N_("Unlisted devices"),
    "pipelines": N_("Pipelines"),
}
STATUS_NAMES = {
    "pending": N_("Waiting"),
    "processing": N_("Being loaded"),
    "loaded": N_("Loaded"),
    "failed": N_("Failed"),
}
PERIODS = {7: N_("Last 7 days"), 30: N_("Last 30 days"), 90: N_("Last 90 days"), 0: N_("All time")}
DEVICE_KINDS = {"gateway": N_("Gateway"), "trunk": N_("Trunk")}

st.title(_("Data health"))
show_flash()
section = st.segmented_control(
    _("Show"), list(SECTIONS), format_func=lambda k: _(SECTIONS[k]), key="dh_section", default="files"
)
section = section or "files"


def period_since(key: str) -> date | None:
    days = st.selectbox(_("Period"), list(PERIODS), index=1, format_func=lambda d: _(PERIODS[d]), key=key)
    return None if not days else (datetime.now(UTC) - timedelta(days=days)).date()


# --- the ingest ledger ---------------------------------------------------------------------------------


def files_section() -> None:
    st.caption(_("Every CDR and CMR file received, as it was loaded. Files are kept in the archive as they came."))
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    search = c1.text_input(_("File name contains"), key="dh_files_search")
    status = c2.selectbox(
        _("Status"),
        ["", *data_health.LEDGER_STATUSES],
        format_func=lambda v: _(STATUS_NAMES[v]) if v else _("All"),
        key="dh_files_status",
    )
    kind = c3.selectbox(_("Kind"), ["", "cdr", "cmr"], format_func=lambda v: v.upper() or _("All"), key="dh_files_kind")
    with_rejects = c4.checkbox(_("Only files with rejected lines"), key="dh_files_rejects")
    d1, d2, _rest = st.columns([1, 1, 2])
    since = d1.date_input(_("Received from"), value=None, key="dh_files_from")
    until = d2.date_input(_("Received until"), value=None, key="dh_files_to")
    filters = {
        "search": search,
        "status": status or None,
        "kind": kind or None,
        "with_rejects": with_rejects,
        "since": datetime.combine(since, time(0), tzinfo=UTC) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time(0), tzinfo=UTC) if until else None,
    }
    total = data_health.ledger(eng, limit=1, **filters).total
    if not total:
        st.info(_("No file matches these filters."))
        return
    page = data_health.ledger(eng, offset=pager(tr, "dh_files_page", total), limit=PAGE_SIZE, **filters)
    table = pd.DataFrame(
        {
            _("Received"): [when(tr, e.received_at, zone) for e in page.items],
            _("File"): [e.name for e in page.items],
            _("Kind"): [e.kind.upper() for e in page.items],
            _("Cluster"): [e.cluster for e in page.items],
            _("Node"): [e.node for e in page.items],
            _("Rows"): [e.rows for e in page.items],
            _("Rejected lines"): [e.rejects for e in page.items],
            _("Status"): [_(STATUS_NAMES.get(e.status, e.status)) for e in page.items],
            _("Error"): [e.error for e in page.items],
        }
    )
    st.dataframe(table, hide_index=True, key="dh_files_table")


# --- rejected lines -----------------------------------------------------------------------------------


def rejects_section() -> None:
    st.caption(_("Lines of CDR and CMR files that could not be read. The other lines of the same files are loaded."))
    search = st.text_input(_("Search in file, reason and line"), key="dh_rej_search")
    total = data_health.rejects(s, search=search, limit=1).total
    if not total:
        st.success(_("No rejected lines.") if not search else _("No rejected line matches."))
        return
    page = data_health.rejects(s, search=search, offset=pager(tr, "dh_rej_page", total), limit=PAGE_SIZE)
    st.dataframe(
        pd.DataFrame(
            {
                _("File"): [r.source_file for r in page.items],
                _("Line"): [r.source_line for r in page.items],
                _("Reason"): [r.reason for r in page.items],
                _("Line text"): [r.raw for r in page.items],
            }
        ),
        hide_index=True,
        key="dh_rej_table",
    )
    lines = {f"{r.source_file}#{r.source_line}": (r.source_file, r.source_line) for r in page.items}
    if state.get("dh_rej_open") not in (None, *lines):
        state["dh_rej_open"] = None
    chosen = st.selectbox(
        _("Open a rejected line"),
        list(lines),
        index=None,
        format_func=lambda k: _("{file}, line {line}").format(file=lines[k][0], line=lines[k][1]),
        placeholder=_("Choose…"),
        key="dh_rej_open",
    )
    if chosen is None:
        return
    found = data_health.reject(s, *lines[chosen])
    if found is None:
        st.warning(_("That line is no longer in the rejected lines."))
        return
    with st.container(border=True, key="dh_rej_detail"):
        where = _("**{file}**, line {line} ({kind})")
        st.markdown(where.format(file=found.source_file, line=found.source_line, kind=found.kind))
        st.error(found.reason, icon=":material/block:")
        st.caption(_("The whole line, as received:"))
        st.code(found.raw, language=None, wrap_lines=True)


# --- the CDR feed -----------------------------------------------------------------------------------


def feed_section() -> None:
    cfg = s.data_health
    days = ", ".join(tr.locale.days["format"]["wide"][d] for d in sorted(_weekday(w) for w in cfg.working_days))
    st.caption(
        _(
            "The newest CDR file each CUCM node sent, and the newest call record in it. A node is reported silent "
            "when it sent nothing for {minutes} minutes of working time ({days}, {hours}, {zone})."
        ).format(minutes=cfg.silent_minutes, days=days, hours=cfg.working_hours, zone=s.company.time_zone)
    )
    feeds = data_health.node_feeds(s, eng)
    if not feeds:
        st.info(_("No CDR file has been received yet."))
        return
    for f in feeds:
        if f.silent:
            st.warning(
                _("Cluster {cluster}, node {node} has sent no CDR file since {time}.").format(
                    cluster=f.cluster, node=f.node, time=when(tr, f.last_received_at, zone)
                ),
                icon=":material/warning:",
            )
    st.dataframe(
        pd.DataFrame(
            {
                _("Cluster"): [f.cluster for f in feeds],
                _("Node"): [f.node for f in feeds],
                _("Files"): [f.files for f in feeds],
                _("Last file received"): [when(tr, f.last_received_at, zone) for f in feeds],
                _("Newest call record"): [when(tr, f.last_record_at, zone) for f in feeds],
                _("State"): [_("Silent") if f.silent else _("Sending") for f in feeds],
            }
        ),
        hide_index=True,
        key="dh_feed_table",
    )


def _weekday(name: str) -> int:
    from warehouse.config import WEEKDAYS

    return WEEKDAYS.index(name)


# --- unknown extensions --------------------------------------------------------------------------------


def assign(extension: str) -> None:
    """Give the extension to the person chosen (since always when nobody ever had it)."""
    user = state.get("dh_unk_person")
    if not user:
        flash("error", _("Choose the person to give the extension to."))
        return
    try:
        accounts.assign_extension(eng, principal.user_id, user, extension, lake=Lake(s.lake_dir))
    except AccountError as exc:
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    state["dh_unk_person"] = None
    flash("success", _("Extension {extension} now belongs to {user}.").format(extension=extension, user=user))


def create_person(extension: str) -> None:
    """Create a local account with this extension."""
    try:
        accounts.create_user(
            eng,
            principal.user_id,
            state.get("dh_new_username", ""),
            display_name=state.get("dh_new_name", "").strip(),
            email=state.get("dh_new_email", "").strip(),
            department=state.get("dh_new_department", "").strip(),
            cost_centre=state.get("dh_new_cost_centre", "").strip(),
            extensions=[extension],
            lake=Lake(s.lake_dir),
        )
    except AccountError as exc:
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    flash(
        "success",
        _("{user} was created with extension {extension}.").format(
            user=state.get("dh_new_username", "").strip(), extension=extension
        ),
    )
    for key in ("dh_new_username", "dh_new_name", "dh_new_email", "dh_new_department", "dh_new_cost_centre"):
        state[key] = ""


def unknown_section() -> None:
    st.caption(
        _("Internal numbers that made or took calls while no person in the directory had them. Give each to its owner.")
    )
    since = period_since("dh_unk_period")
    found = unknown_extensions(s, since=datetime.combine(since, time(0), tzinfo=UTC) if since else None)
    if not found:
        st.success(_("Every extension in the calls belongs to someone."))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("Extension"): [cell_text(u.extension, tr) for u in found],
                _("Site"): [u.site for u in found],
                _("Calls"): [u.calls for u in found],
                _("First seen"): [when(tr, u.first_seen, zone) for u in found],
                _("Last seen"): [when(tr, u.last_seen, zone) for u in found],
                _("Devices"): [", ".join(u.devices) for u in found],
            }
        ),
        hide_index=True,
        key="dh_unk_table",
    )
    extension = st.selectbox(
        _("Extension to give to someone"),
        [u.extension for u in found],
        index=None,
        placeholder=_("Choose…"),
        key="dh_unk_extension",
    )
    if extension is None:
        return
    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown(_("**Give it to a person**"))
        search = st.text_input(_("Find the person (name, user name, e-mail)"), key="dh_unk_search")
        people, _n = accounts.list_users(eng, search=search, active=True, limit=100)
        names = {p.username: f"{p.username} ({p.display_name})" if p.display_name else p.username for p in people}
        if state.get("dh_unk_person") not in names:
            state["dh_unk_person"] = None
        st.selectbox(
            _("Person"), list(names), index=None, format_func=names.get, placeholder=_("Choose…"), key="dh_unk_person"
        )
        st.button(
            _("Assign extension {extension}").format(extension=extension),
            key="dh_unk_assign",
            type="primary",
            on_click=assign,
            args=(extension,),
        )
    with right.container(border=True):
        st.markdown(_("**Or create a person for it**"))
        st.text_input(_("User name"), key="dh_new_username")
        st.text_input(_("Name"), key="dh_new_name")
        st.text_input(_("E-mail"), key="dh_new_email")
        st.text_input(_("Department"), key="dh_new_department")
        st.text_input(_("Cost centre"), key="dh_new_cost_centre")
        st.button(_("Create person"), key="dh_new_create", on_click=create_person, args=(extension,))


# --- devices the inventory does not list ----------------------------------------------------------------


def add_device(name: str) -> None:
    """Put the device into the inventory with what the form says."""
    try:
        device = Device(
            device=name,
            kind=state["dh_dev_kind"],
            label=state.get("dh_dev_label", "").strip(),
            site=state.get("dh_dev_site") or "",
            tariff_plan=state.get("dh_dev_plan") or "",
            channels=int(state.get("dh_dev_channels", 30)),
        )
        data_health.add_device(s, eng, principal.user_id, device)
    except (SettingsRefused, ValueError) as exc:
        flash("error", _("That was refused: {reason}").format(reason=exc))
        return
    flash(
        "success",
        _(
            "{device} is in the inventory now. New calls through it use these settings; re-process its days "
            "on the Sites and gateways page to apply them to the calls already stored."
        ).format(device=name),
    )


def devices_section() -> None:
    st.caption(
        _(
            "Devices that carried calls to or from outside (a gateway or trunk span) but are not in the device "
            "inventory: their calls have no gateway label, site or tariff plan."
        )
    )
    since = period_since("dh_dev_period")
    found = data_health.unlisted_devices(s, since=since)
    if not found:
        st.success(_("Every gateway and trunk that carried calls is in the inventory."))
        return
    st.dataframe(
        pd.DataFrame(
            {
                _("Device"): [d.device for d in found],
                _("Calls"): [d.calls for d in found],
                _("Outgoing"): [d.outgoing for d in found],
                _("Incoming"): [d.incoming for d in found],
                _("First seen"): [when(tr, d.first_seen, zone) for d in found],
                _("Last seen"): [when(tr, d.last_seen, zone) for d in found],
                _("Site of its callers"): [d.site for d in found],
            }
        ),
        hide_index=True,
        key="dh_dev_table",
    )
    by_name = {d.device: d for d in found}
    name = st.selectbox(
        _("Device to add to the inventory"), list(by_name), index=None, placeholder=_("Choose…"), key="dh_dev_pick"
    )
    if name is None:
        return
    sites = [site.name for site in s.sites]
    plans = sorted(load_tariffs(s).plans)
    guess = by_name[name].site
    with st.form("dh_dev_form", border=True):
        st.selectbox(_("Kind"), list(DEVICE_KINDS), format_func=lambda k: _(DEVICE_KINDS[k]), key="dh_dev_kind")
        st.text_input(_("Label (shown as the call's gateway)"), value=name, key="dh_dev_label")
        st.selectbox(
            _("Site"),
            ["", *sites],
            index=(sites.index(guess) + 1) if guess in sites else 0,
            format_func=lambda v: v or _("None"),
            key="dh_dev_site",
        )
        st.selectbox(_("Tariff plan"), ["", *plans], format_func=lambda v: v or _("None"), key="dh_dev_plan")
        st.number_input(_("Channels"), min_value=0, max_value=100000, value=30, step=1, key="dh_dev_channels")
        st.form_submit_button(
            _("Add to the inventory"), type="primary", key="dh_dev_add", on_click=add_device, args=(name,)
        )


# --- the pipelines ----------------------------------------------------------------------------------------


def pipelines_section() -> None:
    status = data_health.pipeline_status(s)
    st.link_button(_("Open the pipelines (Dagster)"), status.ui_url, icon=":material/open_in_new:")
    if not status.reachable:
        st.warning(
            _("The pipelines' web server does not answer at {url}, so their runs cannot be shown: {error}").format(
                url=status.ui_url, error=status.error
            ),
            icon=":material/cloud_off:",
        )
        return

    def frame(runs: list[data_health.PipelineRun]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                _("Job"): [r.job for r in runs],
                _("Status"): [r.status for r in runs],
                _("Started"): [when(tr, r.started_at, zone) for r in runs],
                _("Ended"): [when(tr, r.ended_at, zone) for r in runs],
                _("Run"): [r.url for r in runs],
            }
        )

    link = {_("Run"): st.column_config.LinkColumn(_("Run"), display_text=_("Open"))}
    st.subheader(_("Failures"))
    if status.failures:
        st.dataframe(frame(status.failures), hide_index=True, key="dh_pipe_failures", column_config=link)
    else:
        st.success(_("No failed runs."))
    st.subheader(_("Last runs"))
    if status.runs:
        st.dataframe(frame(status.runs), hide_index=True, key="dh_pipe_runs", column_config=link)
    else:
        st.info(_("The pipelines have not run yet."))


{
    "files": files_section,
    "rejects": rejects_section,
    "feed": feed_section,
    "unknown": unknown_section,
    "devices": devices_section,
    "pipelines": pipelines_section,
}[section]()
