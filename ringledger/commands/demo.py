"""`ringledger demo --out DIR --legs N`: CUCM CDR/CMR files, directory and configuration of a made-up company."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from ringledger.cli import CommandError


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="write CUCM CDR/CMR files, directory.csv and ringledger.toml for the demo company Ravello Instruments",
        description=(
            "Writes DIR/cdr/cdr_* and cmr_* (CUCM 14 layout and names), DIR/directory.csv and DIR/ringledger.toml. "
            "Load them with: RINGLEDGER_CONFIG=DIR/ringledger.toml ringledger users import DIR/directory.csv; "
            "ringledger ingest DIR/cdr"
        ),
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write into (created if missing)")
    p.add_argument("--legs", type=int, required=True, metavar="N", help="CDR rows to write (within 1%%)")
    p.add_argument("--days", type=float, default=30, metavar="D", help="days of traffic before --end (default 30)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="same seed, same files (default 1)")
    p.add_argument(
        "--end",
        type=_iso_time,
        default=None,
        metavar="ISO-DATETIME",
        help="end of the period, e.g. 2024-05-06T18:00:00+02:00 (default now; UTC if no zone is given)",
    )
    p.add_argument(
        "--file-minutes",
        type=int,
        default=1,
        metavar="M",
        help="minutes per file and node (default 1, as CUCM; more for very large runs)",
    )
    p.add_argument("--users", type=int, default=None, metavar="N", help="people in the directory (default about 300)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


def _iso_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date and time (for example 2024-05-06T18:00:00Z)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run(args) -> int:
    from ringledger.demo import generate
    from ringledger.demo.company import DEFAULT_USERS
    from ringledger.demo.generator import print_progress

    if args.out.exists() and not args.out.is_dir():
        raise CommandError(f"--out {args.out}: exists and is not a folder")
    summary = generate(
        args.out,
        legs=args.legs,
        days=args.days,
        seed=args.seed,
        end=args.end,
        file_minutes=args.file_minutes,
        users=args.users or DEFAULT_USERS,
        progress=None if args.quiet else print_progress,
    )
    span = f"{summary.first:%Y-%m-%d %H:%M} to {summary.last:%Y-%m-%d %H:%M} UTC" if summary.first else "no files"
    print(
        f"{summary.legs:,} CDR legs and {summary.cmrs:,} CMR records of {summary.calls:,} calls in "
        f"{summary.files:,} files ({span}) in {summary.seconds:.1f} s ({summary.legs_per_second:,.0f} legs/s)"
    )
    print(f"  files:     {args.out / 'cdr'}")
    print(f"  directory: {args.out / 'directory.csv'}")
    print(f"  config:    {args.out / 'ringledger.toml'}")
    if summary.pending:
        print(f"  {summary.pending} records of calls still in progress at the end are kept for the live feed")
    sys.stdout.flush()
    return 0
