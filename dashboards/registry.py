"""The portal's menu (A3): every page, the module it belongs to and who may open it.

To add a page, put its script in `dashboards/app_pages/` (snake_case name) and add one `PageEntry`
to `PAGES` (or call `register_page()` from a module the router imports). A module's menu section
appears only when the person may open at least one of its pages, so Budget Control and Phone Lock
show up as soon as their pages are registered, and never before.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.access import ROLES, Principal
from warehouse.i18n import N_

# Menu sections, in menu order.
MODULES: dict[str, str] = {
    "call_analytics": N_("Call Analytics"),
    "budget_control": N_("Budget Control"),
    "phone_lock": N_("Phone Lock"),
    "administration": N_("Administration"),
    "account": N_("My account"),
}

EVERYONE = frozenset(ROLES)
MANAGERS = frozenset({"supervisor", "administrator"})
ADMINS = frozenset({"administrator"})


@dataclass(frozen=True)
class PageEntry:
    """A page of the portal: script (under dashboards/), menu title (N_ msgid), icon, module, roles."""

    script: str  # e.g. "app_pages/home.py"; the file name is the URL path
    title: str
    icon: str
    module: str
    roles: frozenset[str] = EVERYONE
    default: bool = False

    def allowed(self, principal: Principal) -> bool:
        """True when the person's role may open this page."""
        return principal.role in self.roles


PAGES: list[PageEntry] = [
    PageEntry("app_pages/home.py", N_("Home"), ":material/home:", "call_analytics", default=True),
    PageEntry("app_pages/dashboard.py", N_("Dashboard"), ":material/dashboard:", "call_analytics"),
    PageEntry("app_pages/reports.py", N_("Interactive reports"), ":material/analytics:", "call_analytics"),
    PageEntry("app_pages/scheduled_reports.py", N_("Scheduled reports"), ":material/schedule_send:", "call_analytics"),
    PageEntry(
        "app_pages/scheduled_alarms.py",
        N_("Scheduled alarms"),
        ":material/notifications_active:",
        "call_analytics",
        roles=MANAGERS,
    ),
    PageEntry("app_pages/my_budgets.py", N_("My budgets"), ":material/savings:", "budget_control"),
    PageEntry("app_pages/budget_history.py", N_("Budget history"), ":material/history:", "budget_control"),
    PageEntry("app_pages/my_phone.py", N_("My Phone"), ":material/phone_locked:", "phone_lock"),
    PageEntry(
        "app_pages/budget_admin.py",
        N_("Budgets"),
        ":material/account_balance_wallet:",
        "administration",
        roles=MANAGERS,
    ),
    PageEntry("app_pages/phone_users.py", N_("Users"), ":material/group:", "administration", roles=MANAGERS),
    PageEntry(
        "app_pages/cucm_changes.py", N_("CUCM changes"), ":material/sync_problem:", "administration", roles=ADMINS
    ),
    PageEntry("app_pages/outbox.py", N_("Mail outbox and log"), ":material/outbox:", "administration", roles=ADMINS),
    *(
        PageEntry(f"app_pages/{script}.py", title, icon, "administration", roles=ADMINS)
        for script, title, icon in (
            ("data_health", N_("Data health"), ":material/monitor_heart:"),
            ("tariff_admin", N_("Tariffs"), ":material/request_quote:"),
            ("sites_gateways", N_("Sites and gateways"), ":material/lan:"),
            ("people", N_("People and roles"), ":material/manage_accounts:"),
            ("directory_sync", N_("Directory sync"), ":material/sync:"),
            ("audit_log", N_("Audit log"), ":material/policy:"),
            ("admin_settings", N_("Settings"), ":material/settings:"),
        )
    ),
    PageEntry("app_pages/account.py", N_("Language and time zone"), ":material/translate:", "account"),
    PageEntry("app_pages/api_tokens.py", N_("API tokens"), ":material/key:", "account"),
]

LOGIN_PAGE = PageEntry("app_pages/login.py", N_("Log in"), ":material/login:", "account")


def register_page(entry: PageEntry) -> PageEntry:
    """Add a page to the menu (a page with the same script replaces the old entry)."""
    if entry.module not in MODULES:
        raise ValueError(f"page {entry.script}: unknown module {entry.module!r} (one of {', '.join(MODULES)})")
    PAGES[:] = [p for p in PAGES if p.script != entry.script] + [entry]
    return entry


def menu(principal: Principal) -> dict[str, list[PageEntry]]:
    """The person's menu: module key -> the pages of it they may open (modules with none are left out)."""
    out: dict[str, list[PageEntry]] = {}
    for module in MODULES:
        pages = [p for p in PAGES if p.module == module and p.allowed(principal)]
        if pages:
            out[module] = pages
    return out
