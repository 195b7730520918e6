"""`ringledger schedules list|run-due|run ID`: scheduled reports and alarms from the command line."""

from __future__ import annotations

from warehouse import appdb, schedules
from warehouse.access import Principal
from warehouse.audit import cli_actor
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("schedules", help="scheduled reports and alarms")
    actions = p.add_subparsers(dest="schedules_command", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="every scheduled report and alarm with its last and next run")
    listing.add_argument("--kind", choices=schedules.KINDS, help="only reports or only alarms")
    listing.set_defaults(func=run_list)
    actions.add_parser("run-due", help="run what is due now (what the pipelines' sensor starts)").set_defaults(
        func=run_due
    )
    one = actions.add_parser("run", help="run one schedule now")
    one.add_argument("id", type=int)
    one.set_defaults(func=run_one)


def _operator() -> Principal:
    # the command line acts with an administrator's rights, as the person running it on the server
    return Principal(cli_actor(), role="administrator")


def _line(item: schedules.Schedule) -> str:
    last = f"{item.last_run_at:%Y-%m-%d %H:%M}" if item.last_run_at else "never"
    nxt = f"{item.next_run_at:%Y-%m-%d %H:%M}" if item.next_run_at else "paused"
    result = item.last_status or "-"
    if item.last_error:
        result += f" ({item.last_error})"
    return (
        f"{item.id:>4}  {item.kind:<6} {item.type:<22} {item.owner:<16} every {item.every} {item.unit:<7} "
        f"last {last} UTC: {result}; next {nxt} UTC  {item.description}"
    )


def run_list(args) -> int:
    engine = appdb.open_db(load_settings())
    for kind in [args.kind] if args.kind else list(schedules.KINDS):
        for item in schedules.list_schedules(engine, _operator(), kind):
            print(_line(item))
    return 0


def run_due(args) -> int:
    settings = load_settings()
    outcomes = schedules.run_due(settings, appdb.open_db(settings))
    for o in outcomes:
        print(
            f"{o.schedule_id}: {o.status}"
            + (f": {o.error}" if o.error else "")
            + (f"; {o.message}" if o.message else "")
        )
    print(f"{len(outcomes)} schedule(s) run")
    return 1 if any(o.status == schedules.FAILED for o in outcomes) else 0


def run_one(args) -> int:
    from ringledger.cli import CommandError

    settings = load_settings()
    engine = appdb.open_db(settings)
    try:
        outcome = schedules.run_now(settings, engine, _operator(), args.id)
    except schedules.ScheduleError as exc:
        raise CommandError(f"schedules run {args.id}: {exc}") from None
    print(f"{outcome.status}" + (f": {outcome.error}" if outcome.error else "") + f"; {outcome.message}")
    return 1 if outcome.status == schedules.FAILED else 0
