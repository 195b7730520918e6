"""`ringledger ingest PATH...`: load CDR/CMR files now, with the same code the pipeline runs."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ringledger.cli import CommandError
from warehouse.config import load_settings
from warehouse.ingest import IngestError, Ingestor


def register(sub) -> None:
    p = sub.add_parser("ingest", help="load CUCM CDR/CMR files or folders into the lake now")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders of CDR/CMR files")
    p.add_argument("--move", action="store_true", help="delete each file once its data is safely stored")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.set_defaults(func=run)


class _Progress:
    """Prints files, legs and legs/s as a long ingest goes."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.started = time.perf_counter()

    def __call__(self, event: str, data: dict) -> None:
        if self.quiet and event != "skipped":
            return
        elapsed = time.perf_counter() - self.started
        if event == "batch":
            rate = data["cdr_rows"] / elapsed if elapsed else 0
            print(
                f"  {data['files']} files parsed; {data['cdr_rows']:,} legs so far ({rate:,.0f} legs/s), "
                f"{data['rejects']:,} rejected lines",
                file=sys.stderr,
            )
        elif event == "calls":
            print(f"  building calls for {data['days']} day(s)", file=sys.stderr)
        elif event == "calls_day" and (data["done"] % 30 == 0 or data["done"] == data["of"]):
            print(f"  calls: {data['done']}/{data['of']} days", file=sys.stderr)
        elif event == "skipped":
            print(f"  skipped {data['file']}: {data['reason']}", file=sys.stderr)
        elif event == "continued":
            print(
                f"  {data['file']}: a longer version of a file loaded before; reading from line {data['from_line']}",
                file=sys.stderr,
            )
        elif event == "recovered":
            state = "finished" if data["finished"] else "rolled back and redone"
            print(f"  interrupted batch {data['batch']} {state}", file=sys.stderr)


def run(args) -> int:
    settings = load_settings()
    for p in args.paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
    try:
        report = Ingestor(settings, progress=_Progress(args.quiet)).ingest(args.paths, move=args.move)
    except IngestError as exc:
        raise CommandError(str(exc)) from None
    print(
        f"{report.loaded} file(s) loaded, {report.duplicates} already loaded, "
        f"{len(report.failed)} unreadable, {report.incomplete} still being written; "
        f"{report.cdr_rows:,} CDR legs, {report.cmr_rows:,} CMR records, {report.rejects:,} rejected lines; "
        f"{report.calls_rows:,} call rows over {len(report.days)} day(s) in {report.seconds:.1f} s "
        f"({report.legs_per_second:,.0f} legs/s)"
    )
    for name, error in report.failed:
        print(f"  {name}: {error}", file=sys.stderr)
    return 1 if report.failed else 0
