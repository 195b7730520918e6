"""Interactive Reports (R1-R4): the catalogue, Options, results with charts, exports, personal reports."""

from __future__ import annotations

import zoneinfo
from datetime import date

import pandas as pd
import streamlit as st

from dashboards import charts, data, schedule_ui
from dashboards.components import REQUEST_KEY, plain
from dashboards.session import engine, require_principal, settings
from warehouse.access import mask_digits, mask_number
from warehouse.reports import CATEGORIES, FilterError, Filters, export, get, list_reports, run_report
from warehouse.reports.export import MEDIA_TYPES, file_name
from warehouse.reports.fields import DESTINATION_TYPES, DIMENSIONS, FIELDS, GRANULARITY_LABELS
from warehouse.reports.filters import (
    CALL_TYPES,
    DEFAULT_ANSWER_WITHIN_S,
    DEFAULT_BLOCKING_PCT,
    DEFAULT_BUSY_DAYS,
    DEFAULT_INTERVAL,
    INTERVALS,
    OPERATORS,
    PERIODS,
    QUALITY,
    REPORT_OPTIONS,
    TRAFFIC,
    resolve_period,
)
from warehouse.reports.store import delete_saved, history, personal_reports, record_run, save_report

principal, tr = require_principal()
_ = tr.gettext
eng = engine()
scope = data.scope_key(principal)
state = st.session_state


def reset_options() -> None:
    """Forget the Options widgets' values, so they start from the report's options again."""
    for key in [k for k in state if str(k).startswith("opt_")]:
        del state[key]


def open_report(
    name: str, filters: Filters, saved_id: int | None = None, options: bool = False, execute: bool = True
) -> None:
    """Show a report with these options (and record the run in the history)."""
    reset_options()
    state["rep_name"] = name
    state["rep_filters"] = filters.to_json()
    state["rep_saved_id"] = saved_id
    state["rep_show_options"] = options
    state["rep_execute"] = execute


request = state.pop(REQUEST_KEY, None)
if request:
    open_report(request["report"], Filters.from_json(request["filters"]), request.get("saved_id"))


def title_of(name: str) -> str:
    try:
        return _(get(name).title)
    except KeyError:
        return name


# --- the catalogue ---------------------------------------------------------------------------------


def catalogue_tab() -> None:
    reports = list_reports()
    for key, category in sorted(CATEGORIES.items(), key=lambda kv: kv[1].order):
        members = [r for r in reports if r.category == key]
        if not members:
            continue
        st.subheader(f"{category.order} · {_(category.title)}")
        for start in range(0, len(members), 3):
            cols = st.columns(3)
            for col, report in zip(cols, members[start : start + 3], strict=False):
                with col.container(border=True):
                    st.markdown(f"**{_(report.title)}**")
                    st.caption(_(report.question))
                    st.image(data.preview_svg(report.name, tr.language), caption=_("Example"))
                    b1, b2 = st.columns(2)
                    if b1.button(
                        _("Execute"), key=f"cat_run_{report.name}", type="primary", icon=":material/play_arrow:"
                    ):
                        open_report(report.name, report.defaults)
                        st.rerun()
                    if b2.button(_("Options"), key=f"cat_opt_{report.name}", icon=":material/tune:"):
                        open_report(report.name, report.defaults, options=True, execute=False)
                        st.rerun()


def personal_tab() -> None:
    mine = personal_reports(eng, principal.user_id)
    if not mine:
        st.write(_("You have not saved any personal reports yet. Run a report and use “Save as personal report”."))
        return
    groups: dict[str, list] = {}
    for saved in mine:
        groups.setdefault(saved.group_name or _("Ungrouped"), []).append(saved)
    for group, members in groups.items():
        st.subheader(group)
        for saved in members:
            c1, c2, c3 = st.columns([5, 1, 1], vertical_alignment="center")
            c1.markdown(f"**{plain(saved.name)}** · {title_of(saved.report)}")
            if saved.description:
                c1.caption(plain(saved.description))
            if c2.button(_("Run"), key=f"saved_run_{saved.id}", icon=":material/play_arrow:"):
                open_report(saved.report, saved.filters, saved.id)
                st.rerun()
            if c3.button(_("Delete"), key=f"saved_delete_{saved.id}", icon=":material/delete:"):
                delete_saved(eng, principal.user_id, saved.id)
                st.rerun()


def history_tab() -> None:
    runs = history(eng, principal.user_id, limit=30)
    if not runs:
        st.write(_("No reports run yet."))
        return
    for run in runs:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        label = plain(run.saved_name) if run.saved_name else title_of(run.report)
        c1.write(
            f"**{label}** · {tr.datetime(run.ran_at, principal.time_zone)} · "
            + tr.ngettext("{n} row", "{n} rows", run.rows).format(n=tr.number(run.rows))
        )
        if c2.button(_("Run again"), key=f"hist_run_{run.id}", icon=":material/replay:"):
            open_report(run.report, run.filters, run.saved_report_id)
            st.rerun()


# --- Options -----------------------------------------------------------------------------------------


def zones() -> list[str]:
    s = settings()
    first = [principal.time_zone, s.company.time_zone, *[site.time_zone for site in s.sites], "UTC"]
    return list(dict.fromkeys(first + sorted(zoneinfo.available_timezones())))


def report_extras(report, filters: Filters) -> dict:
    """The options only this report takes (answer target, interval, blocking, busy days), as form widgets."""
    values: dict = {}
    if not report.options:
        return values
    cols = st.columns(len(report.options))
    for col, name in zip(cols, report.options, strict=True):
        label = _(REPORT_OPTIONS[name])
        if name == "answer_within_s":
            values[name] = col.number_input(
                label,
                min_value=1,
                max_value=3600,
                value=filters.answer_within_s or report.defaults.answer_within_s or DEFAULT_ANSWER_WITHIN_S,
                step=5,
                key="opt_answer_within_s",
            )
        elif name == "interval":
            current = filters.interval or report.defaults.interval or DEFAULT_INTERVAL
            values[name] = col.selectbox(
                label,
                list(INTERVALS),
                index=list(INTERVALS).index(current),
                format_func=lambda k: _(INTERVALS[k][0]),
                key="opt_interval",
            )
        elif name == "blocking_pct":
            values[name] = col.number_input(
                label,
                min_value=0.01,
                max_value=50.0,
                value=float(filters.blocking_pct or report.defaults.blocking_pct or DEFAULT_BLOCKING_PCT),
                step=0.5,
                format="%.2f",
                key="opt_blocking_pct",
            )
        elif name == "busy_days":
            values[name] = col.number_input(
                label,
                min_value=1,
                max_value=366,
                value=filters.busy_days or report.defaults.busy_days or DEFAULT_BUSY_DAYS,
                step=1,
                key="opt_busy_days",
            )
    defaults = {
        "answer_within_s": report.defaults.answer_within_s or DEFAULT_ANSWER_WITHIN_S,
        "interval": report.defaults.interval or DEFAULT_INTERVAL,
        "blocking_pct": report.defaults.blocking_pct or DEFAULT_BLOCKING_PCT,
        "busy_days": report.defaults.busy_days or DEFAULT_BUSY_DAYS,
    }
    # a value left at the report's default is not stored, so saved options follow the default
    return {k: (None if v == defaults[k] else v) for k, v in values.items()}


def options_form(name: str, filters: Filters) -> Filters | None:
    """Every option of R2; returns the new options when the person presses Execute."""
    report = get(name)
    zone = filters.time_zone or principal.time_zone
    period = resolve_period(filters, zone)
    today = date.today()
    hidden = mask_digits(settings(), principal.role)
    with st.form("opt_form"):
        c1, c2, c3 = st.columns(3)
        period_key = c1.selectbox(
            _("Period"),
            list(PERIODS),
            index=list(PERIODS).index(filters.period),
            format_func=lambda k: _(PERIODS[k]),
            key="opt_period",
        )
        date_from = c2.date_input(
            _("From"), value=filters.date_from or period.first or today, key="opt_from", format="YYYY-MM-DD"
        )
        date_to = c3.date_input(
            _("To"), value=filters.date_to or period.last or today, key="opt_to", format="YYYY-MM-DD"
        )
        st.caption(_("“From” and “To” apply when the period is “Between two dates”."))
        c1, c2 = st.columns(2)
        traffic = c1.radio(
            _("Traffic"),
            list(TRAFFIC),
            index=list(TRAFFIC).index(filters.traffic),
            format_func=lambda k: _(TRAFFIC[k]),
            horizontal=True,
            key="opt_traffic",
        )
        time_zone = c2.selectbox(_("Report time zone"), zones(), index=zones().index(zone), key="opt_zone")
        c1, c2 = st.columns(2)

        def pick(col, label: str, column: str, current: list[str], key: str) -> list[str]:
            options = list(dict.fromkeys(data.choices(scope, column, principal) + current))
            return col.multiselect(
                label, options, default=current, key=key, accept_new_options=True, placeholder=_("All")
            )

        gateways = pick(c1, _("Gateways"), "gateway", filters.gateways, "opt_gateways")
        extensions = pick(c2, _("Extensions"), "extension", filters.extensions, "opt_extensions")
        departments = pick(c1, _("Departments"), "department", filters.departments, "opt_departments")
        cost_centres = pick(c2, _("Cost centres"), "cost_centre", filters.cost_centres, "opt_cost_centres")
        call_types = c1.multiselect(
            _("Call types"),
            list(CALL_TYPES),
            default=filters.call_types,
            format_func=lambda k: _(CALL_TYPES[k][0]),
            key="opt_call_types",
            placeholder=_("All"),
        )
        destinations = c2.multiselect(
            _("Destinations"),
            list(DESTINATION_TYPES),
            default=filters.destination_types,
            format_func=lambda k: _(DESTINATION_TYPES[k]),
            key="opt_destinations",
            placeholder=_("All"),
        )
        quality = c1.selectbox(
            _("Voice quality"),
            list(QUALITY),
            index=list(QUALITY).index(filters.quality),
            format_func=lambda k: _(QUALITY[k][0]),
            key="opt_quality",
        )
        extra = report_extras(report, filters)
        keep_numbers = True
        if filters.numbers:
            masked = ", ".join(mask_number(n, hidden) or "" for n in filters.numbers)
            keep_numbers = st.checkbox(
                _("Only calls with {numbers}").format(numbers=masked), value=True, key="opt_numbers"
            )
        max_rows = st.number_input(
            _("Maximum rows (0: no maximum of your own)"),
            min_value=0,
            max_value=1_000_000,
            value=filters.max_rows or 0,
            step=100,
            key="opt_max_rows",
        )
        st.markdown(_("Extra conditions"))
        field_keys = [k for k, f in FIELDS.items() if f.condition]
        frame = pd.DataFrame(
            [{"join": c.join, "field": c.field, "op": c.op, "value": c.value} for c in filters.conditions],
            columns=["join", "field", "op", "value"],
        ).astype({"join": "object", "field": "object", "op": "object", "value": "object"})
        edited = st.data_editor(
            frame,
            num_rows="dynamic",
            key="opt_conditions",
            hide_index=True,
            column_config={
                "join": st.column_config.SelectboxColumn(
                    _("Join"),
                    options=["and", "or"],
                    default="and",
                    format_func=lambda v: _("and") if v == "and" else _("or"),
                ),
                "field": st.column_config.SelectboxColumn(
                    _("Field"), options=field_keys, required=True, format_func=lambda k: _(FIELDS[k].label)
                ),
                "op": st.column_config.SelectboxColumn(
                    _("Operator"), options=list(OPERATORS), default="eq", format_func=lambda k: _(OPERATORS[k])
                ),
                "value": st.column_config.TextColumn(_("Value")),
            },
        )
        fields = filters.fields
        group_by = filters.group_by
        granularity = filters.granularity
        if report.kind == "list":
            fields = st.multiselect(
                _("Columns"),
                list(FIELDS),
                default=filters.fields or None,
                format_func=lambda k: _(FIELDS[k].label),
                key="opt_fields",
                placeholder=_("The usual columns"),
            )
        if report.custom_groups:
            group_by = st.multiselect(
                _("Group by (one or two fields)"),
                list(DIMENSIONS),
                default=filters.group_by,
                format_func=lambda k: _(DIMENSIONS[k].label),
                max_selections=2,
                key="opt_group_by",
            )
        if report.kind == "trend":
            units = list(GRANULARITY_LABELS)
            granularity = st.selectbox(
                _("Per"),
                units,
                index=units.index(filters.granularity or "day"),
                format_func=lambda k: _(GRANULARITY_LABELS[k]),
                key="opt_granularity",
            )
        submitted = st.form_submit_button(_("Execute"), type="primary", key="opt_execute", icon=":material/play_arrow:")
    if not submitted:
        return None
    conditions = []
    for row in edited.to_dict("records"):
        if not row.get("field") or (pd.isna(row.get("field"))):
            continue
        conditions.append(
            {
                "join": row.get("join") or "and",
                "field": row["field"],
                "op": row.get("op") or "eq",
                "value": "" if pd.isna(row.get("value")) else str(row.get("value") or ""),
            }
        )
    try:
        return Filters.model_validate(
            {
                "period": period_key,
                "date_from": date_from if period_key == "custom" else None,
                "date_to": date_to if period_key == "custom" else None,
                "traffic": traffic,
                "gateways": gateways,
                "extensions": extensions,
                "departments": departments,
                "cost_centres": cost_centres,
                "numbers": filters.numbers if keep_numbers else [],
                "call_types": call_types,
                "destination_types": destinations,
                "max_rows": int(max_rows) or None,
                "conditions": conditions,
                "time_zone": time_zone if time_zone != principal.time_zone else None,
                "fields": fields,
                "group_by": group_by if report.custom_groups else [],
                "granularity": granularity if report.kind == "trend" else None,
                "quality": quality,
                **extra,
            }
        )
    except ValueError as exc:
        st.error(_("These options cannot be used: {problem}").format(problem=str(exc)))
        return None


# --- a report ------------------------------------------------------------------------------------------


def report_view(name: str) -> None:
    report = get(name)
    filters = Filters.from_json(state.get("rep_filters"))
    if st.button(_("Back to the catalogue"), key="rep_back", icon=":material/arrow_back:"):
        state["rep_name"] = None
        st.rerun()
    st.title(_(report.title))
    st.caption(_(report.question))
    with st.expander(_("Options"), expanded=bool(state.get("rep_show_options")), icon=":material/tune:"):
        new = options_form(name, filters)
        if new is not None:
            state["rep_filters"] = new.to_json()
            state["rep_execute"] = True
            state["rep_show_options"] = False
            st.rerun()
    if state.get("rep_show_options"):
        st.info(_("Choose the options and press Execute."))
        return
    unmask = principal.is_admin and st.toggle(
        _("Show full numbers"),
        key="rep_unmask",
        help=_("Administrators may see whole outside numbers; every report shown so is recorded in the audit log."),
    )
    try:
        if unmask:
            # never cached: each view with full numbers is audited
            result = run_report(settings(), principal, name, filters, language=tr.language, unmask=True, engine=eng)
        else:
            result = data.report(scope, name, filters.to_json(), tr.language, principal)
    except (FilterError, ValueError) as exc:
        st.error(_("The report could not run: {problem}").format(problem=str(exc)))
        return
    if unmask:
        st.info(_("Full numbers are shown. This view is recorded in the audit log."), icon=":material/visibility:")
    if state.pop("rep_execute", False):
        record_run(
            eng, principal.user_id, name, filters, len(result.rows), result.elapsed_ms, state.get("rep_saved_id")
        )
    st.caption(plain(result.description))
    if result.truncated:
        st.warning(
            _("Only the first {n} rows are shown. Set a higher maximum under Options to see more.").format(
                n=tr.number(len(result.rows))
            )
        )
    if not result.rows:
        st.info(_("No calls match these options."))
    else:
        fig = charts.figure(result)
        if fig is not None:
            st.plotly_chart(fig, key="rep_chart", config={"displaylogo": False})
        st.dataframe(charts.table(result), hide_index=True, key="rep_table")
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        _("Download Excel"),
        lambda: export(result, "xlsx"),
        file_name=file_name(result, "xlsx"),
        mime=MEDIA_TYPES["xlsx"],
        key="dl_xlsx",
        on_click="ignore",
        icon=":material/table_view:",
    )
    c2.download_button(
        _("Download PDF"),
        lambda: export(result, "pdf"),
        file_name=file_name(result, "pdf"),
        mime=MEDIA_TYPES["pdf"],
        key="dl_pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
    )
    c3.download_button(
        _("Download CSV"),
        lambda: export(result, "csv"),
        file_name=file_name(result, "csv"),
        mime=MEDIA_TYPES["csv"],
        key="dl_csv",
        on_click="ignore",
        icon=":material/csv:",
    )
    schedule_ui.send_by_mail(result, principal, tr, eng)
    schedule_ui.schedule_button(name, filters, state.get("rep_saved_id"), tr)
    with (
        st.expander(_("Save as personal report"), icon=":material/bookmark_add:"),
        st.form("save_form", clear_on_submit=True),
    ):
        saved_name = st.text_input(_("Name"), key="save_name")
        description = st.text_input(_("Description"), key="save_description")
        groups = sorted({r.group_name for r in personal_reports(eng, principal.user_id) if r.group_name})
        group = st.text_input(
            _("Group"),
            key="save_group",
            help=_("Existing groups: {groups}").format(groups=", ".join(groups)) if groups else None,
        )
        if st.form_submit_button(_("Save"), key="save_submit", icon=":material/save:"):
            try:
                saved = save_report(eng, principal.user_id, saved_name, name, filters, description, group)
            except ValueError as exc:
                st.error(str(exc))
            else:
                state["rep_saved_id"] = saved.id
                st.success(_("Saved as “{name}”.").format(name=plain(saved.name)))


selected = state.get("rep_name")
if selected:
    try:
        get(selected)
    except KeyError:
        state["rep_name"] = selected = None
if selected:
    report_view(selected)
else:
    st.title(_("Interactive reports"))
    catalogue_tab_label, personal_label, history_label = _("Catalogue"), _("My personal reports"), _("History")
    tab1, tab2, tab3 = st.tabs([catalogue_tab_label, personal_label, history_label])
    with tab1:
        catalogue_tab()
    with tab2:
        personal_tab()
    with tab3:
        history_tab()
