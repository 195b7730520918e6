"""`ringledger retention run [--dry-run]`: remove and anonymise what `[retention]` says is too old."""

from __future__ import annotations

import json

from warehouse import appdb
from warehouse.audit import cli_actor
from warehouse.config import load_settings


def register(sub) -> None:
    """Add `ringledger retention`."""
    p = sub.add_parser("retention", help="remove data older than [retention] allows; anonymise old numbers")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = actions.add_parser("run", help="remove and anonymise now (what the daily retention job does)")
    r.add_argument("--dry-run", action="store_true", help="only say what would be removed and anonymised")
    r.add_argument("--json", action="store_true", help="print what was done as JSON")
    r.set_defaults(func=run)


def run(args) -> int:
    """Apply the retention settings (or, with --dry-run, list what they would remove)."""
    from warehouse import retention

    settings = load_settings()
    if not settings.retention.configured:
        print("nothing to do: [retention] keeps everything (set archive_days, raw_days, ... in ringledger.toml)")
        return 0
    result = retention.run(settings, appdb.open_db(settings), dry_run=args.dry_run, actor=cli_actor())
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return 0
    print(f"retention {'dry run' if args.dry_run else 'run'} on {result.today} (UTC):")
    for line in result.lines():
        print(f"  {line}")
    if result.frozen_before:
        print(f"  days before {result.frozen_before} are kept as they are (never rebuilt from raw legs)")
    return 0
