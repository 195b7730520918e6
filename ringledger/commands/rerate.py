"""`ringledger rerate --from DATE --to DATE`: re-price a period with today's tariffs, show the change."""

from __future__ import annotations

import sys
from datetime import date

from ringledger.cli import CommandError
from ringledger.commands.tariff import print_differences
from warehouse.config import load_settings


def register(sub) -> None:
    """Add `ringledger rerate`."""
    p = sub.add_parser("rerate", help="re-price the calls of a period with today's tariffs and exchange rates")
    p.add_argument("--from", dest="start", required=True, help="first UTC day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, help="last UTC day, YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="the change per cost centre as JSON")
    p.set_defaults(func=run)


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None


def run(args) -> int:
    """Re-price a period and print the change per cost centre."""
    from warehouse.rating import rerate

    settings = load_settings()
    start, end = _day(args.start, "--from"), _day(args.end, "--to")

    def progress(done: int, total: int, day) -> None:
        if not args.json and (done == total or done % 30 == 0):
            print(f"  re-rated {done}/{total} day(s)", file=sys.stderr)

    diffs = rerate(settings, start, end, progress=progress)
    if not args.json:
        print(f"calls {start} to {end} (UTC days) re-priced; cost per cost centre in {settings.company.currency}:")
    print_differences(diffs, settings.company.currency, "before", "after", args.json)
    return 0
