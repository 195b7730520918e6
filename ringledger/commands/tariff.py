"""`ringledger tariff ...`: import, check, list, classify numbers, quote a call, explain a price, what-if."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ringledger.cli import CommandError
from tariffs.book import FORMATS
from tariffs.model import Plan, TariffError
from tariffs.numbering import classify, numbering_plan
from tariffs.own import read_plan
from tariffs.rating import quote
from warehouse.config import load_settings


def register(sub) -> None:
    """Add `ringledger tariff` and its actions."""
    p = sub.add_parser("tariff", help="tariff plans: import, check, list, classify, quote, explain, what-if")
    t = p.add_subparsers(dest="tariff_command", metavar="ACTION")
    t.required = True

    imp = t.add_parser("import", help="import a plan (own format, A-Z deck or CGRateS folder) into the tariffs folder")
    imp.add_argument("path", type=Path, metavar="PATH")
    imp.add_argument("--format", choices=FORMATS, help="default: detected from PATH")
    imp.add_argument("--name", help="plan name (own/deck); for CGRateS, the one RatingPlan id to import")
    _terms(imp)
    imp.add_argument("--valid-from", help="add the import as a new version of an existing plan from this date")
    imp.add_argument("--replace", action="store_true", help="replace an installed plan of the same name")
    imp.set_defaults(func=run_import)

    chk = t.add_parser("check", help="read a plan without installing it and report what it holds or what is wrong")
    chk.add_argument("path", type=Path, metavar="PATH")
    chk.add_argument("--format", choices=FORMATS)
    chk.add_argument("--name")
    _terms(chk)
    chk.set_defaults(func=run_check)

    ls = t.add_parser("list", help="the installed plans and their versions")
    ls.set_defaults(func=run_list)

    cl = t.add_parser("classify", help="read dialled numbers as a site would: E.164, nation, type, area, operator")
    cl.add_argument("digits", nargs="+", metavar="DIGITS")
    cl.add_argument("--site", help="a site of the configuration (its country, access codes, ranges)")
    cl.add_argument("--country", help="ISO country of the dialling site, e.g. IT")
    cl.add_argument("--access-code", action="append", default=[], help="outside-line access code (repeatable)")
    cl.add_argument("--internal", action="append", default=[], help="internal number range such as 2000-2999")
    cl.add_argument("--emergency", action="append", default=[], help="extra emergency number such as 0112")
    cl.add_argument("--incoming", action="store_true", help="read them as received caller numbers")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(func=run_classify)

    q = t.add_parser("quote", help="price one call and show the full explanation")
    q.add_argument("--plan", required=True)
    q.add_argument("--number", required=True, help="+E.164, or a number as dialled in the plan's country")
    q.add_argument("--at", required=True, help="ISO 8601 time; without an offset it is read in the plan's zone")
    q.add_argument("--duration", required=True, type=int, help="seconds")
    q.add_argument("--site", help="read the number with this site's dial plan")
    q.add_argument("--country", help="read the number as dialled in this country")
    q.add_argument("--access-code", action="append", default=[])
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=run_quote)

    ex = t.add_parser("explain", help="explain the price of a stored call (its billable rows)")
    ex.add_argument("call_id", metavar="CALL_ID")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=run_explain)

    w = t.add_parser("whatif", help="price a period's calls under another plan without changing stored costs")
    w.add_argument("--plan", required=True)
    w.add_argument("--from", dest="start", required=True, help="first UTC day, YYYY-MM-DD")
    w.add_argument("--to", dest="end", required=True, help="last UTC day, YYYY-MM-DD")
    w.add_argument("--gateway", action="append", help="only calls through this gateway (label or device; repeatable)")
    w.add_argument("--json", action="store_true")
    w.set_defaults(func=run_whatif)


def _terms(p) -> None:
    p.add_argument("--currency", help="currency of a deck or CGRateS plan (default: the company currency)")
    p.add_argument("--time-zone", default="UTC", help="zone of bands and dates (deck, CGRateS; default UTC)")
    p.add_argument("--country", default="", help="country whose national numbers the plan prices (deck)")
    p.add_argument("--billing", default="1/1", help="first block / increment of a deck, such as 60/60 or 30/6")
    p.add_argument("--connect-fee", default="0", help="connect fee of every deck rate")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def read_any(args, settings) -> tuple[list[Plan], str]:
    """The plans at args.path in the given or detected format, and a note on what was detected."""
    from warehouse.tariff_files import Terms, read_tariff

    terms = Terms(
        name=args.name or "",
        currency=args.currency or "",
        time_zone=args.time_zone,
        country=args.country,
        billing=args.billing,
        connect_fee=args.connect_fee,
    )
    try:
        return read_tariff(settings, args.path, args.format, terms)
    except ValueError as exc:
        if isinstance(exc, TariffError):
            raise
        raise CommandError(str(exc).replace("connect fee", "--connect-fee")) from None


def _summary(plan: Plan) -> list[str]:
    out = [
        f"plan {plan.name}: {plan.currency}, zone {plan.time_zone}"
        + (f", country {plan.country}" if plan.country else "")
    ]
    for v in plan.versions:
        frm = f"{v.valid_from:%Y-%m-%d %H:%M} UTC" if v.valid_from else "always"
        to = f"{v.valid_to:%Y-%m-%d %H:%M} UTC" if v.valid_to else "open"
        prefixes = v.rates.filter(v.rates.column("prefix").is_valid()).num_rows
        classes = v.rates.num_rows - prefixes
        bands = sorted({w.band for w in v.windows})
        out.append(
            f"  version {v.id}: {frm} to {to}; {v.rates.num_rows} rate rows ({prefixes} by prefix, "
            f"{classes} by class); bands: {', '.join(bands) or 'none'} ({v.band_mode}); "
            f"rounding {v.rounding_decimals} decimals {v.rounding_method}"
        )
    return out


def run_import(args) -> int:
    """Import a plan into the tariffs folder and mark the days it re-prices."""
    from warehouse.rating import affected_days, load_tariffs, mark_days
    from warehouse.tariff_files import install

    settings = load_settings()
    plans, note = read_any(args, settings)
    valid_from = None
    if args.valid_from:
        from tariffs.model import parse_instant

        valid_from = parse_instant(args.valid_from, plans[0].zone, "--valid-from", None, None)
    print(note)
    for plan in plans:
        target = install(settings, plan, replace_existing=args.replace, valid_from=valid_from)
        for line in _summary(read_plan(target)):
            print(line)
        print(f"  installed in {target}")
    days = affected_days(settings, load_tariffs(settings))
    if days:
        n = mark_days(settings, days)
        print(
            f"{len(days)} day(s) priced with other tariffs are marked for re-rating ({n} new); "
            "the pipeline re-rates them, or run: ringledger rerate"
        )
    return 0


def run_check(args) -> int:
    """Read a plan without installing it and say what it holds."""
    settings = load_settings()
    plans, note = read_any(args, settings)
    print(f"{args.path}: {note}, no problems found")
    for plan in plans:
        for line in _summary(plan):
            print(line)
        for v in plan.versions:
            named = {w.band for w in v.windows}
            used = set(v.rates.column("band").to_pylist())
            for band in sorted(named - used):
                print(f"  note: version {v.id}: band {band!r} has no rates")
    return 0


def run_list(args) -> int:
    """List the installed plans and their versions."""
    from warehouse.rating import load_tariffs

    settings = load_settings()
    book = load_tariffs(settings)
    if not book.plans and not book.errors:
        print(f"no tariff plans in {settings.tariffs_dir}")
    for name in sorted(book.plans):
        for line in _summary(book.plans[name]):
            print(line)
    for name, error in sorted(book.errors.items()):
        print(f"plan {name}: cannot be read: {error}")
    return 1 if book.errors else 0


def _numbering(args, settings):
    from warehouse.rating import numbering_plans

    if args.site:
        plans = numbering_plans(settings)
        if args.site not in plans or not args.site:
            known = ", ".join(s.name for s in settings.sites) or "none configured"
            raise CommandError(f"--site {args.site!r}: no such site (sites: {known})")
        return plans[args.site]
    if not args.country:
        return None
    return numbering_plan(
        args.country,
        args.access_code,
        internal_ranges=getattr(args, "internal", []),
        emergency_numbers=getattr(args, "emergency", []),
    )


def run_classify(args) -> int:
    """Classify numbers as a site dials them."""
    settings = load_settings()
    plan = _numbering(args, settings)
    if plan is None:
        raise CommandError("give --country CC (with --access-code D) or --site NAME")
    if plan.country and len(plan.country) != 2:
        raise CommandError(f"--country {args.country!r} is not an ISO country code such as IT")
    results = [classify(plan, d, "in" if args.incoming else "out") for d in args.digits]
    if args.json:
        json.dump(
            [
                {k: getattr(c, k) for k in ("raw", "e164", "nation", "destination_type", "area", "operator", "valid")}
                for c in results
            ],
            sys.stdout,
            indent=1,
        )
        sys.stdout.write("\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("dialled", "e164", "nation", "destination_type", "area", "operator")
    for c in results:
        table.add_row(c.raw, c.e164 or "", c.nation or "", c.destination_type, c.area or "", c.operator or "")
    Console(width=140).print(table)
    print("operator: the carrier the number range was first allocated to; numbers may have been ported since")
    return 0


def _at(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--at {text!r} is not an ISO 8601 time such as 2026-11-27T10:30") from None


def run_quote(args) -> int:
    """Price one call and print its explanation."""
    from warehouse.rating import load_tariffs

    settings = load_settings()
    if args.duration < 0:
        raise CommandError("--duration must be 0 or more seconds")
    book = load_tariffs(settings)
    try:
        book.plan(args.plan)
    except TariffError as exc:
        raise CommandError(exc.problem) from None
    ex = quote(book, args.plan, args.number, _at(args.at), args.duration, numbering=_numbering(args, settings))
    if args.json:
        json.dump(ex.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print("\n".join(ex.lines()))
    return 0 if ex.status != "unrated" else 1


def run_explain(args) -> int:
    """Explain the prices of a stored call's billable rows."""
    from warehouse.rating import explain_call

    settings = load_settings()
    results = explain_call(settings, args.call_id)
    if args.json:
        out = [
            {"row": {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()}, "explanation": ex.as_dict()}
            for row, ex in results
        ]
        json.dump(out, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    for row, ex in results:
        print(
            f"leg {row['leg_id']}: extension {row['extension']}, {row['direction']} {row['other_number']}, "
            f"{row['duration_s']} s"
        )
        cost = "none" if row["cost"] is None else f"{row['cost']} {settings.company.currency}"
        print(f"  this row: {cost}; {row['rate_ref']}")
        for line in ex.lines():
            print(f"  {line}")
    return 0


def _money(value: Decimal) -> str:
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"


def print_differences(diffs, currency: str, before: str, after: str, as_json: bool) -> None:
    """A table of cost per cost centre and department, before and after, with the change."""
    if as_json:
        json.dump(
            [
                {
                    "cost_centre": d.cost_centre,
                    "department": d.department,
                    "calls": d.calls,
                    before: str(d.before),
                    after: str(d.after),
                    "change": str(d.change),
                    f"unrated_{before}": d.unrated_before,
                    f"unrated_{after}": d.unrated_after,
                }
                for d in diffs
            ],
            sys.stdout,
            indent=1,
        )
        sys.stdout.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "cost centre", "department", "calls", f"{before} ({currency})", f"{after} ({currency})", "change", "unrated"
    )
    total_b = total_a = Decimal(0)
    for d in diffs:
        total_b += d.before
        total_a += d.after
        unrated = (
            f"{d.unrated_before} -> {d.unrated_after}" if d.unrated_before != d.unrated_after else str(d.unrated_after)
        )
        table.add_row(
            d.cost_centre, d.department, str(d.calls), _money(d.before), _money(d.after), _money(d.change), unrated
        )
    table.add_row(
        "total", "", str(sum(d.calls for d in diffs)), _money(total_b), _money(total_a), _money(total_a - total_b), ""
    )
    Console(width=140).print(table)


def run_whatif(args) -> int:
    """Price a period under another plan and show the difference."""
    from warehouse.rating import whatif

    settings = load_settings()
    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    try:
        diffs, plan_currency = whatif(settings, args.plan, start, end, args.gateway)
    except TariffError as exc:
        raise CommandError(exc.problem) from None
    if not args.json:
        print(
            f"billable calls {start} to {end} (UTC days) priced under {args.plan} ({plan_currency}), "
            f"in {settings.company.currency}; stored costs are unchanged"
        )
    print_differences(diffs, settings.company.currency, "now", "under_" + args.plan.replace("-", "_"), args.json)
    return 0
