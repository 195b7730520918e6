"""`ringledger report list|run`: the portal's catalogue reports, exported to a file from the command line."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ringledger.cli import CommandError
from warehouse.config import load_settings


def register(sub) -> None:
    p = sub.add_parser("report", help="list the report catalogue, or run a report into an Excel, PDF or CSV file")
    rsub = p.add_subparsers(dest="report_command", metavar="ACTION")
    rsub.required = True
    lst = rsub.add_parser("list", help="list the catalogue reports")
    lst.add_argument("--language", default=None, help="language of the titles (en, de, fr, es, ar, pl, it)")
    lst.set_defaults(func=run_list)
    run = rsub.add_parser("run", help="run a catalogue report and write it to a file")
    run.add_argument("name", help="report name, as `ringledger report list` shows it (e.g. cost_by_department)")
    run.add_argument(
        "--filter",
        default="",
        help='options as JSON, or @FILE with JSON, e.g. \'{"period": "last_month", "departments": ["Sales"]}\'',
    )
    run.add_argument("--period", help="shortcut for the period option (today, this_week, last_month, ...)")
    run.add_argument("--format", choices=["xlsx", "pdf", "csv"], required=True)
    run.add_argument("--out", required=True, type=Path, help="file to write")
    run.add_argument("--user", help="run in this user's scope and masking (default: administrator scope)")
    run.add_argument("--language", help="language of labels and formats (default: the user's, else the company's)")
    run.set_defaults(func=run_report_command)


def run_list(args) -> int:
    from warehouse.i18n import translator
    from warehouse.reports import CATEGORIES, list_reports

    settings = load_settings()
    tr = translator(args.language or settings.company.language)
    for key, category in sorted(CATEGORIES.items(), key=lambda kv: kv[1].order):
        members = [r for r in list_reports() if r.category == key]
        if not members:
            continue
        print(f"{category.order} {tr.gettext(category.title)}")
        for report in members:
            print(f"  {report.name:34} {tr.gettext(report.title)}: {tr.gettext(report.question)}")
    return 0


def _filters(args):
    from warehouse.reports import Filters

    text = args.filter
    where = "--filter"
    if text.startswith("@"):
        path = Path(text[1:])
        where = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--filter {path}: {exc.strerror}") from None
    filters = Filters.from_json(text, where=where) if text else None
    if args.period:
        from warehouse.reports.catalogue import get

        base = filters or get(args.name).defaults
        filters = base.merged(period=args.period)
    return filters


def run_report_command(args) -> int:
    from warehouse import appdb
    from warehouse.access import Principal, load_principal
    from warehouse.preferences import person_language, person_zone
    from warehouse.reports import export, get, run_report
    from warehouse.reports.store import record_run

    settings = load_settings()
    try:
        get(args.name)
    except KeyError as exc:
        raise CommandError(str(exc.args[0])) from None
    filters = _filters(args)
    if args.user:
        engine = appdb.open_db(settings)
        principal = load_principal(engine, args.user)
        if principal is None:
            raise CommandError(f"--user {args.user}: no active user of that name in the directory")
        principal = dataclasses.replace(
            principal,
            language=args.language or person_language(settings, engine, principal.user_id),
            time_zone=person_zone(settings, engine, principal.user_id),
        )
    else:
        engine = None
        principal = Principal(
            "administrator",
            role="administrator",
            display_name="administrator",
            language=args.language or settings.portal.default_language or settings.company.language,
            time_zone=settings.company.time_zone,
        )
    result = run_report(settings, principal, args.name, filters)
    data = export(result, args.format)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    if engine is not None:
        record_run(
            engine, principal.user_id, args.name, result.filters, len(result.rows), result.elapsed_ms, channel="cli"
        )
    note = " (cut: raise max_rows to see more)" if result.truncated else ""
    print(f"{result.title}: {len(result.rows)} row(s){note} -> {args.out}", file=sys.stderr)
    return 0
