"""`ringledger budgets evaluate|list`: bring budgets up to date now, or show them."""

from __future__ import annotations

from warehouse import appdb, budgets, enforcement
from warehouse.access import Principal
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("budgets", help="budget control")
    actions = p.add_subparsers(dest="budgets_command", metavar="ACTION")
    actions.required = True
    actions.add_parser(
        "evaluate", help="evaluate every budget now (what the pipelines do after each ingest)"
    ).set_defaults(func=run_evaluate)
    actions.add_parser("list", help="every budget with its current period").set_defaults(func=run_list)


def run_evaluate(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    report = budgets.evaluate(settings, engine)
    print(
        f"{report.budgets} budget(s): {report.periods_opened} period(s) opened, {report.periods_closed} closed, "
        f"{report.notifications} threshold notification(s), {len(report.mails)} mail(s); "
        f"locked: {', '.join(report.locked) or 'none'}; unlocked: {', '.join(report.unlocked) or 'none'}"
    )
    for problem in enforcement.problems(engine):
        print(f"  not in effect on CUCM: {problem.extension} {problem.intended} ({problem.last_error})")
    return 0


def run_list(args) -> int:
    settings = load_settings()
    engine = appdb.open_db(settings)
    admin = Principal(user_id="ringledger", role="administrator", language=settings.company.language)
    rows = budgets.budget_overview(settings, engine, admin)
    if not rows:
        print("no budget is assigned")
    for s in rows:
        b = s.budget
        locked = sorted(ext for ext, st in s.phones.items() if st.budget_locked)
        print(
            f"{b.id:>4}  {b.scope}:{b.subject}  {b.period}  {s.first_day}..{s.until}  "
            f"spent {s.spent.normalize():f} of {s.allowance.normalize():f} {b.currency} ({s.percent}%)"
            + (f"  locked {', '.join(locked)}" if locked else "")
        )
    return 0
