"""Directory sync (administrators): the last syncs and imports with their counts, warnings and errors;
sync with LDAP / Active Directory now, or import a directory file (C4, A2)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.admin import require_admin, when
from dashboards.locks import flash, show_flash
from dashboards.session import engine, settings
from warehouse import directory, ldap_directory
from warehouse.i18n import N_
from warehouse.lake import Lake

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
zone = principal.time_zone

STATUS_NAMES = {"ok": N_("Done"), "warnings": N_("Done with warnings"), "failed": N_("Failed")}
SOURCE_NAMES = {"ldap": N_("Directory server"), "csv": N_("File import")}

st.title(_("Directory sync"))
show_flash()


def sync_now() -> None:
    """Run the directory sync now, with the code the pipeline's schedule runs."""
    try:
        result = ldap_directory.sync(s, eng, Lake(s.lake_dir))
    except ldap_directory.DirectorySyncError as exc:
        flash("error", _("The sync failed: {reason}").format(reason=exc))
        return
    flash(
        "warning" if result.warnings else "success",
        _("Synced: {created} new, {updated} changed, {deactivated} switched off.").format(
            created=result.created, updated=result.updated, deactivated=result.deactivated
        ),
    )


if s.ldap.configured:
    st.caption(
        _("People, extensions, managers and groups come from {servers} ({base}).").format(
            servers=", ".join(s.ldap.urls), base=s.ldap.user_base
        )
    )
    st.button(_("Sync now"), key="dir_sync", type="primary", icon=":material/sync:", on_click=sync_now)
else:
    st.info(
        _(
            "No directory server is configured ([ldap] in the configuration file), so people come from file "
            "imports and local accounts."
        )
    )

history = directory.sync_history(eng, 30)
last = history[0] if history else None
if last is None:
    st.write(_("No sync or import has run yet."))
else:
    st.subheader(_("Last run"))
    cols = st.columns(4)
    cols[0].metric(_("Result"), _(STATUS_NAMES.get(last.status, last.status)))
    cols[1].metric(_("People read"), tr.number(last.people))
    cols[2].metric(_("New / changed"), f"{tr.number(last.created)} / {tr.number(last.updated)}")
    cols[3].metric(_("Switched off"), tr.number(last.deactivated))
    st.caption(
        _("{source}, {time}").format(
            source=_(SOURCE_NAMES.get(last.source, last.source)), time=when(tr, last.started_at, zone)
        )
    )
    if last.error:
        st.error(last.error)
    for warning in last.warnings[:50]:
        st.warning(warning)
    if len(last.warnings) > 50:
        st.caption(_("… and {n} more warnings.").format(n=tr.number(len(last.warnings) - 50)))
    st.subheader(_("History"))
    st.dataframe(
        pd.DataFrame(
            {
                _("Started"): [when(tr, r.started_at, zone) for r in history],
                _("Source"): [_(SOURCE_NAMES.get(r.source, r.source)) for r in history],
                _("Result"): [_(STATUS_NAMES.get(r.status, r.status)) for r in history],
                _("People"): [r.people for r in history],
                _("New"): [r.created for r in history],
                _("Changed"): [r.updated for r in history],
                _("Unchanged"): [r.unchanged for r in history],
                _("Switched off"): [r.deactivated for r in history],
                _("Extensions given"): [r.extensions_opened for r in history],
                _("Extensions ended"): [r.extensions_closed for r in history],
                _("Warnings"): [len(r.warnings) for r in history],
                _("Error"): [r.error for r in history],
            }
        ),
        hide_index=True,
        key="dir_history",
    )

st.subheader(_("Import a directory file"))
st.caption(
    _(
        "A CSV file with the columns {columns}; extensions separated by semicolons. Bad lines are skipped and listed."
    ).format(columns=", ".join(directory.CSV_COLUMNS))
)
upload = st.file_uploader(_("Directory file (CSV)"), type=["csv"], key="dir_file")
if upload is not None and st.button(_("Import"), key="dir_import", icon=":material/upload:"):
    with tempfile.TemporaryDirectory(prefix="ringledger-directory-") as tmp:
        path = Path(tmp) / (Path(upload.name).name or "directory.csv")
        path.write_bytes(upload.getvalue())
        try:
            result, people, errors = directory.import_csv(
                eng, path, principal.user_id, Lake(s.lake_dir), name=upload.name
            )
        except directory.DirectoryError as exc:
            st.error(_("Nothing was imported: {reason}").format(reason=exc))
        else:
            flash(
                "warning" if errors else "success",
                _("{people} people read: {created} new, {updated} changed; {bad} lines skipped.").format(
                    people=people, created=result.created, updated=result.updated, bad=len(errors)
                ),
            )
            st.rerun()
