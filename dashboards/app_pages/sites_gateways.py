"""Sites and gateways (administrators): each site's dial plan and zone, the CUCM device inventory, and
re-processing a period so that changes reach calls already stored.

Changes are settings stored at run time (`warehouse.runtime_settings`): every process uses them from its
next read of the configuration, the file keeps the defaults, and each change is validated and audited.
"""

from __future__ import annotations

import re
import zoneinfo

import pandas as pd
import streamlit as st

from dashboards.admin import require_admin, rerate_panel, show_problems
from dashboards.locks import ask, confirmation, flash, pending, show_flash
from dashboards.session import engine, settings
from warehouse import runtime_settings
from warehouse.config import Device, DeviceKind, Site
from warehouse.i18n import LANGUAGES, N_
from warehouse.rating import load_tariffs
from warehouse.runtime_settings import RESET, SettingsRefused, item_path

principal, tr = require_admin()
_ = tr.gettext
s = settings()
eng = engine()
state = st.session_state

SECTIONS = {"sites": N_("Sites"), "devices": N_("Gateways and devices"), "reprocess": N_("Re-process a period")}
KINDS: dict[str, str] = {
    "gateway": N_("Gateway"),
    "trunk": N_("Trunk"),
    "phone": N_("Phone"),
    "voicemail": N_("Voicemail"),
    "conference": N_("Conference bridge"),
    "cti": N_("CTI port"),
    "other": N_("Other"),
}
NEW = ""  # the choice that adds an item
PROBLEMS_KEY = "sg_problems"

st.title(_("Sites and gateways"))
st.caption(
    _(
        "Changes apply to calls built from now on, in every part of Ringledger at once. To apply them to calls "
        "already stored, re-process their days."
    )
)
show_flash()
for refused in s.runtime.refused:
    st.error(
        _("A stored change no longer fits the configuration file and is not applied: {problem}").format(problem=refused)
    )
section = st.segmented_control(
    _("Show"), list(SECTIONS), format_func=lambda k: _(SECTIONS[k]), key="sg_section", default="sites"
)
section = section or "sites"
stored = {o.path for o in runtime_settings.stored(eng)}
file_settings = runtime_settings.settings_from_file(s)


def split(text: str) -> list[str]:
    """A list typed as text: values separated by commas, semicolons or spaces."""
    return [v for v in re.split(r"[,;\s]+", text or "") if v]


def save(path: str, value) -> bool:
    """Store one change; problems are kept to show under the form. True when it was stored."""
    try:
        runtime_settings.change(s, eng, principal.user_id, {path: value})
    except SettingsRefused as exc:
        state[PROBLEMS_KEY] = exc.problems
        return False
    state[PROBLEMS_KEY] = []
    return True


# --- sites -------------------------------------------------------------------------------------------------


def site_form_values(site: Site | None) -> None:
    """Fill the site form with a site, or with a new site's defaults."""
    state["sg_site_name"] = site.name if site else ""
    state["sg_site_country"] = site.country if site else ""
    state["sg_site_zone"] = site.time_zone if site else s.company.time_zone
    state["sg_site_language"] = site.language if site else "en"
    state["sg_site_access"] = ", ".join(site.access_codes) if site else ""
    state["sg_site_with_code"] = site.cdr_has_access_code if site else True
    state["sg_site_ranges"] = ", ".join(site.internal_ranges) if site else ""
    state["sg_site_emergency"] = ", ".join(site.emergency_numbers) if site else ""
    state["sg_site_area"] = site.area if site else ""
    state[PROBLEMS_KEY] = []


def site_picked() -> None:
    site_form_values(s.site(state["sg_site_pick"]) if state.get("sg_site_pick") else None)


def save_site() -> None:
    name = (state.get("sg_site_pick") or state.get("sg_site_name", "")).strip()
    if not name:
        state[PROBLEMS_KEY] = [("name", _("Give the new site a name."))]
        return
    value = {
        "country": state["sg_site_country"].strip().upper(),
        "time_zone": state["sg_site_zone"],
        "language": state["sg_site_language"],
        "access_codes": split(state["sg_site_access"]),
        "cdr_has_access_code": state["sg_site_with_code"],
        "internal_ranges": split(state["sg_site_ranges"]),
        "emergency_numbers": split(state["sg_site_emergency"]),
        "area": state["sg_site_area"].strip(),
    }
    if save(item_path("sites", name), value):
        state["sg_site_pick"] = name
        flash("success", _("Site {site} saved.").format(site=name))


def remove_site(name: str) -> None:
    if save(item_path("sites", name), None):
        state["sg_site_pick"] = NEW
        site_form_values(None)
        flash("success", _("Site {site} removed.").format(site=name))


def back_to_file(kind: str, name: str) -> None:
    if save(item_path(kind, name), RESET):
        flash("success", _("{name} is as the configuration file has it again.").format(name=name))
        if kind == "sites":
            state["sg_site_pick"] = name
        else:
            state["sg_dev_pick"] = name
        state["sg_reload"] = kind


def sites_section() -> None:
    sites = s.sites
    if sites:
        st.dataframe(
            pd.DataFrame(
                {
                    _("Site"): [x.name for x in sites],
                    _("Country"): [x.country for x in sites],
                    _("Time zone"): [x.time_zone for x in sites],
                    _("Language"): [LANGUAGES.get(x.language, x.language) for x in sites],
                    _("Access codes"): [", ".join(x.access_codes) for x in sites],
                    _("Internal ranges"): [", ".join(x.internal_ranges) for x in sites],
                    _("Emergency numbers"): [", ".join(x.emergency_numbers) for x in sites],
                    _("Changed here"): [item_path("sites", x.name) in stored for x in sites],
                }
            ),
            hide_index=True,
            key="sg_sites_table",
        )
    else:
        st.info(_("No site is configured yet."))
    names = [x.name for x in sites]
    if state.get("sg_site_pick") not in (NEW, *names):
        state["sg_site_pick"] = names[0] if names else NEW
        site_picked()
    if "sg_site_zone" not in state or state.get("sg_reload") == "sites":
        state.pop("sg_reload", None)
        site_picked()
    pick = st.selectbox(
        _("Site"),
        [*names, NEW],
        format_func=lambda v: v or _("New site…"),
        key="sg_site_pick",
        on_change=site_picked,
    )
    zones = sorted(zoneinfo.available_timezones())
    with st.form("sg_site_form", border=True):
        if pick == NEW:
            st.text_input(_("Name of the new site"), key="sg_site_name")
        c1, c2, c3 = st.columns(3)
        c1.text_input(_("Country (ISO code, e.g. IT)"), key="sg_site_country", max_chars=2)
        c2.selectbox(_("Time zone"), zones, key="sg_site_zone")
        c3.selectbox(_("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key="sg_site_language")
        c4, c5 = st.columns(2)
        c4.text_input(_("Outside-line access codes"), key="sg_site_access", help=_("For example: 0 or 9"))
        c5.checkbox(_("CUCM keeps the access code in the CDR"), key="sg_site_with_code")
        st.text_input(
            _("Internal number ranges"), key="sg_site_ranges", help=_("Separated by commas, e.g. 2000-2999, 2500")
        )
        st.text_input(_("Extra emergency numbers"), key="sg_site_emergency", help=_("For example: 0112, 9911"))
        st.text_input(
            _("Local calling area"),
            key="sg_site_area",
            help=_("The geocoder's area of local calls; default: the site's name"),
        )
        st.form_submit_button(_("Save site"), type="primary", key="sg_site_save", on_click=save_site)
    show_problems(tr, state.get(PROBLEMS_KEY, []))
    if pick == NEW:
        return
    path = item_path("sites", pick)
    left, right, _rest = st.columns([1, 1, 2])
    left.button(
        _("Remove site"), key="sg_site_remove", icon=":material/delete:", on_click=ask, args=("sg_site_rm", pick)
    )
    if path in stored and file_settings.site(pick) is not None:
        right.button(_("Back to the file's values"), key="sg_site_reset", on_click=back_to_file, args=("sites", pick))
    if pending("sg_site_rm") == pick:
        confirmation(
            tr,
            "sg_site_rm",
            _("Remove the site {site}? Its calls are no longer read with its dial plan.").format(site=pick),
            _("Yes, remove"),
            remove_site,
            ":material/delete:",
        )


# --- devices ------------------------------------------------------------------------------------------------


def device_form_values(device: Device | None) -> None:
    state["sg_dev_name"] = ""
    state["sg_dev_kind"] = device.kind if device else "gateway"
    state["sg_dev_label"] = device.label if device else ""
    state["sg_dev_site"] = device.site if device else ""
    state["sg_dev_plan"] = device.tariff_plan if device else ""
    state["sg_dev_channels"] = device.channels if device else 30
    state[PROBLEMS_KEY] = []


def by_name() -> dict[str, Device]:
    return {d.device: d for d in s.devices}


def device_picked() -> None:
    device_form_values(by_name().get(state.get("sg_dev_pick") or ""))


def save_device() -> None:
    name = (state.get("sg_dev_pick") or state.get("sg_dev_name", "")).strip()
    if not name:
        state[PROBLEMS_KEY] = [("device", _("Give the CUCM device name (or a pattern such as MIL-GW-*)."))]
        return
    value = {
        "kind": state["sg_dev_kind"],
        "label": state["sg_dev_label"].strip(),
        "site": state["sg_dev_site"] or "",
        "tariff_plan": state["sg_dev_plan"] or "",
        "channels": int(state["sg_dev_channels"]),
    }
    if save(item_path("devices", name), value):
        state["sg_dev_pick"] = name
        flash("success", _("Device {device} saved.").format(device=name))


def remove_device(name: str) -> None:
    if save(item_path("devices", name), None):
        state["sg_dev_pick"] = NEW
        device_form_values(None)
        flash("success", _("Device {device} removed from the inventory.").format(device=name))


def devices_section() -> None:
    devices = s.devices
    if devices:
        st.dataframe(
            pd.DataFrame(
                {
                    _("CUCM device"): [d.device for d in devices],
                    _("Kind"): [_(KINDS[d.kind]) for d in devices],
                    _("Label"): [d.label for d in devices],
                    _("Site"): [d.site for d in devices],
                    _("Tariff plan"): [d.tariff_plan for d in devices],
                    _("Channels"): [d.channels for d in devices],
                    _("Changed here"): [item_path("devices", d.device) in stored for d in devices],
                }
            ),
            hide_index=True,
            key="sg_devices_table",
        )
    else:
        st.info(_("The device inventory is empty."))
    st.caption(
        _(
            "Name each gateway and trunk: its label is shown as the calls' gateway, its site reads their "
            "numbers and its tariff plan prices them. Exact names win over patterns such as MIL-GW-*."
        )
    )
    names = [d.device for d in devices]
    if state.get("sg_dev_pick") not in (NEW, *names):
        state["sg_dev_pick"] = names[0] if names else NEW
        device_picked()
    if "sg_dev_kind" not in state or state.get("sg_reload") == "devices":
        state.pop("sg_reload", None)
        device_picked()
    pick = st.selectbox(
        _("Device"),
        [*names, NEW],
        format_func=lambda v: v or _("New device…"),
        key="sg_dev_pick",
        on_change=device_picked,
    )
    site_names = [x.name for x in s.sites]
    plans = sorted(load_tariffs(s).plans)
    if state.get("sg_dev_site") not in ("", *site_names):
        state["sg_dev_site"] = ""
    if state.get("sg_dev_plan") not in ("", *plans):
        plans.append(state["sg_dev_plan"])  # a plan the device names but that is not installed: keep it visible
    kinds: list[DeviceKind] = list(KINDS)  # type: ignore[assignment]
    with st.form("sg_dev_form", border=True):
        if pick == NEW:
            st.text_input(_("CUCM device name or pattern"), key="sg_dev_name")
        c1, c2 = st.columns(2)
        c1.selectbox(_("Kind"), kinds, format_func=lambda k: _(KINDS[k]), key="sg_dev_kind")
        c2.text_input(_("Label (shown as the call's gateway)"), key="sg_dev_label")
        c3, c4, c5 = st.columns(3)
        c3.selectbox(_("Site"), ["", *site_names], format_func=lambda v: v or _("None"), key="sg_dev_site")
        c4.selectbox(_("Tariff plan"), ["", *plans], format_func=lambda v: v or _("None"), key="sg_dev_plan")
        c5.number_input(_("Channels"), min_value=0, max_value=100000, step=1, key="sg_dev_channels")
        st.form_submit_button(_("Save device"), type="primary", key="sg_dev_save", on_click=save_device)
    show_problems(tr, state.get(PROBLEMS_KEY, []))
    if pick == NEW:
        return
    left, right, _rest = st.columns([1, 1, 2])
    left.button(
        _("Remove from the inventory"),
        key="sg_dev_remove",
        icon=":material/delete:",
        on_click=ask,
        args=("sg_dev_rm", pick),
    )
    if item_path("devices", pick) in stored and any(d.device == pick for d in file_settings.devices):
        right.button(_("Back to the file's values"), key="sg_dev_reset", on_click=back_to_file, args=("devices", pick))
    if pending("sg_dev_rm") == pick:
        confirmation(
            tr,
            "sg_dev_rm",
            _("Remove {device} from the inventory?").format(device=pick),
            _("Yes, remove"),
            remove_device,
            ":material/delete:",
        )


{
    "sites": sites_section,
    "devices": devices_section,
    "reprocess": lambda: rerate_panel(tr, principal, "sg_reprocess"),
}[section]()
