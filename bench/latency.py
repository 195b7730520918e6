"""Inbox to visible: how long a new CDR file takes from the inbox to the `calls` view, with the daemon running.

    python -m bench.latency [--samples 5]

Prepares a demo home with a few days of history (about 20,000 legs a day, a 10M-calls-a-year
company), starts the real daemon (`ringledger run --no-demo --no-feed` on free ports), then, one
minute at a time, moves the demo cluster's next minute of CDR and CMR files into the inbox (written
beside it and renamed in, as CUCM's push does) and times until `calls` shows that minute's calls.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import OUT, load, median

TARGET_S = 10.0
READY_TIMEOUT_S = 240
SAMPLE_TIMEOUT_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(home: Path, legs_per_day: int, days: int, ahead_minutes: int) -> datetime:
    """A demo home whose history ends `ahead_minutes` ago; returns that end."""
    from ringledger.demo import load_demo

    shutil.rmtree(home, ignore_errors=True)
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=ahead_minutes)
    load_demo(home, legs=legs_per_day * days, days=days, end=end)
    return end


def minute_files(home: Path, start: datetime, minutes: int, staging: Path) -> list[tuple[datetime, list[Path]]]:
    """The demo cluster's files for each of the next minutes, written into a staging folder."""
    from ringledger.demo import write_minute

    state = home / "inbox" / ".ringledger-demo-state.json"
    out = []
    for i in range(1, minutes + 1):
        folder = staging / f"m{i:03d}"
        write_minute(folder, start + timedelta(minutes=i), state_file=state)
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if files:
            out.append((start + timedelta(minutes=i), files))
    return out


def _visible(settings, names: list[str]) -> int:
    """Call rows of these files the `calls` view shows now (a new connection sees the latest manifests)."""
    import warehouse

    con = warehouse.connect(settings)
    return con.execute(
        "SELECT count(*) FROM calls WHERE list_contains($names, source_file)", {"names": names}
    ).fetchall()[0][0]


def measure(samples: int = 5, legs_per_day: int = 20_000, days: int = 3) -> dict:
    """Start the daemon on a prepared home and time `samples` files from inbox to `calls`."""
    from warehouse.config import load_settings

    home = OUT / "homes" / "latency"
    end = prepare(home, legs_per_day, days, ahead_minutes=samples * 3 + 5)
    staging = OUT / "homes" / "latency-staging"
    shutil.rmtree(staging, ignore_errors=True)
    drops = minute_files(home, end, samples * 3 + 4, staging)
    settings = load_settings(path=home / "ringledger.toml", home=home)
    ports = {"dagster": _free_port(), "portal": _free_port(), "phone": _free_port()}
    env = dict(os.environ, RINGLEDGER_HOME=str(home), RINGLEDGER_CONFIG=str(home / "ringledger.toml"))
    cli = Path(sys.executable).with_name("ringledger")
    argv = [
        str(cli), "run", "--no-demo", "--no-feed", "--dagster-port", str(ports["dagster"]),
        "--portal-port", str(ports["portal"]), "--phone-port", str(ports["phone"]),
    ]  # fmt: skip
    log = (OUT / "homes" / "latency-run.log").open("w")
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    results = []
    try:
        while True:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            log.write(line)
            if "Stop with Ctrl-C" in line:
                break
            if (not line and proc.poll() is not None) or time.monotonic() - started > READY_TIMEOUT_S:
                raise SystemExit(f"ringledger run did not come up; see {log.name}")
        ready_s = time.monotonic() - started
        inbox = settings.inbox_dir
        time.sleep(5)  # let the sensors settle into their rhythm
        for when, files in drops:
            if len(results) >= samples:
                break
            names = [p.name for p in files if p.name.startswith("cdr_")]
            if not names:
                continue
            load_before = load()
            dropped = time.monotonic()
            for p in files:
                tmp = inbox / f"_{p.name}"
                shutil.copyfile(p, tmp)
                tmp.rename(inbox / p.name)  # complete: written under '_' and renamed, as CUCM does
            seen = 0
            while not seen and time.monotonic() - dropped < SAMPLE_TIMEOUT_S:
                time.sleep(0.1)
                seen = _visible(settings, names)
            seconds = time.monotonic() - dropped
            results.append(
                {"minute": when.isoformat(), "files": len(files), "rows": seen, "seconds": seconds, "load": load_before}
            )
            print(
                f"  {when:%H:%M} files: visible after {seconds:.1f} s ({seen} call rows)", file=sys.stderr, flush=True
            )
            time.sleep(3)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    times = [r["seconds"] for r in results]
    return {
        "samples": results,
        "median_s": median(times) if times else None,
        "max_s": max(times) if times else None,
        "ready_s": ready_s,
        "target_s": TARGET_S,
        "history_legs_per_day": legs_per_day,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args(argv)
    result = measure(args.samples)
    print(f"inbox to calls: median {result['median_s']:.1f} s, max {result['max_s']:.1f} s (target {TARGET_S} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
