"""CUCM changes (administrators): lock changes Ringledger intends that CUCM has not applied, and why."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.charts import cell_text
from dashboards.locks import flash, show_flash
from dashboards.session import engine, require_principal, settings
from warehouse import enforcement, phonelock
from warehouse.i18n import N_

principal, tr = require_principal()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone
if not principal.is_admin:
    st.error(_("Only administrators may open this page."))
    st.stop()

STATE_NAMES = {enforcement.LOCKED: N_("Locked"), enforcement.UNLOCKED: N_("Unlocked")}
ENGINE_NAMES = {
    "record": N_("Record only"),
    "axl": N_("AXL (calling search space)"),
    "curri": N_("External Call Control"),
}

st.title(_("CUCM changes"))
mode = s.cucm.enforcement
st.caption(_("Enforcement: {engine}.").format(engine=_(ENGINE_NAMES.get(mode, mode))))
if mode == "record":
    st.info(_("Ringledger keeps the lock states and sends nothing to CUCM, so every change is in effect at once."))
show_flash()


def retry() -> None:
    """Try every change that is not in effect again now."""
    outcome = enforcement.retry_now(s, eng, principal.user_id)
    done = sum(1 for e in outcome.values() if e.in_effect)
    flash(
        "success" if done == len(outcome) else "warning",
        tr.ngettext(
            "{done} of {n} change is now in effect.", "{done} of {n} changes are now in effect.", len(outcome)
        ).format(done=tr.number(done), n=tr.number(len(outcome))),
    )


problems = enforcement.problems(eng)
if not problems:
    st.success(_("Every lock change is in effect on CUCM."))
    st.stop()

with eng.connect() as conn:
    owners = {p.extension: phonelock.owner_of(conn, p.extension) or "" for p in problems}
cols = [
    _("Extension"),
    _("User"),
    _("Engine"),
    _("Intended"),
    _("Applied"),
    _("Attempts"),
    _("Last error"),
    _("Next retry"),
]
table = pl.DataFrame(
    {
        cols[0]: [cell_text(p.extension, tr) for p in problems],
        cols[1]: [owners[p.extension] for p in problems],
        cols[2]: [_(ENGINE_NAMES.get(p.engine, p.engine)) for p in problems],
        cols[3]: [_(STATE_NAMES.get(p.intended, p.intended)) for p in problems],
        cols[4]: [_(STATE_NAMES[p.applied]) if p.applied in STATE_NAMES else _("Never") for p in problems],
        cols[5]: [p.attempts for p in problems],
        cols[6]: [p.last_error or "" for p in problems],
        cols[7]: [cell_text(tr.datetime(p.next_attempt_at, zone, "short"), tr) for p in problems],
    },
    schema_overrides={cols[5]: pl.Int64},
)
st.dataframe(table, hide_index=True, key="cucm_problems")
st.caption(
    _(
        "Ringledger keeps the intended state and retries by itself, waiting longer after each failure (up to {max})."
    ).format(max=tr.duration(s.cucm.retry_max_seconds))
)
st.button(_("Retry now"), key="cucm_retry", type="primary", icon=":material/refresh:", on_click=retry)
