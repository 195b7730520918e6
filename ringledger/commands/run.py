"""`ringledger run`: start the pipelines, the portal and the phone service, and stop them together.

Each service runs as its own process in its own process group, so stopping Ringledger (Ctrl-C or
SIGTERM) stops every child and grandchild, and nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from ringledger.cli import CommandError
from warehouse.config import Settings, config_path, home_dir, load_settings
from warehouse.lake import Lake

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_S = 20
READY_TIMEOUT_S = 120


def register(sub) -> None:
    p = sub.add_parser(
        "run", help="start pipelines, portal and phone service (loads the demo company on an empty home)"
    )
    p.add_argument("--no-demo", action="store_true", help="do not load the demo company into an empty home")
    p.add_argument("--no-feed", action="store_true", help="do not write new demo calls every minute")
    p.add_argument("--demo-legs", type=int, default=None, help="size of the demo company's history, in CDR legs")
    p.add_argument("--demo-days", type=int, default=None, help="days of demo history up to now")
    p.add_argument("--dagster-port", type=int, help="port of the pipelines' web UI (default from the configuration)")
    p.add_argument("--portal-port", type=int, help="port of the portal (default from the configuration)")
    p.add_argument("--phone-port", type=int, help="port of the phone service (default from the configuration)")
    p.set_defaults(func=run)


@dataclass
class Service:
    """One child process and how to tell it is up."""

    name: str
    argv: list[str]
    url: str
    health: str
    process: subprocess.Popen | None = None


def _bin(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    return str(path) if path.exists() else name


def dagster_home(settings: Settings) -> Path:
    """Prepare $RINGLEDGER_HOME/dagster with the instance settings (PostgreSQL storage if configured)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    instance = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text()) or {}
    if settings.dagster.storage_url:
        # Dagster's PostgreSQL storage speaks through psycopg2 (its NOTIFY takes client-side parameters),
        # whichever driver the URL names: the URL form of [database] url works here too
        url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg2://", settings.dagster.storage_url)
        instance["storage"] = {"postgres": {"postgres_url": url}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance, sort_keys=False))
    return home


def services(settings: Settings) -> list[Service]:
    """The three processes Ringledger is made of."""
    d, p, ph = settings.dagster, settings.portal, settings.phone_service
    app = Path(__import__("dashboards").__file__).with_name("app.py")
    return [
        Service(
            "pipelines (Dagster webserver)",
            [_bin("dagster-webserver"), "-m", "pipelines.definitions", "-h", d.address, "-p", str(d.port)],
            f"http://{d.address}:{d.port}/",
            f"http://{d.address}:{d.port}/server_info",
        ),
        Service(
            "pipelines (Dagster daemon)",
            [_bin("dagster-daemon"), "run", "-m", "pipelines.definitions"],
            "",
            "",
        ),
        Service(
            "portal",
            [
                sys.executable, "-m", "streamlit", "run", str(app),
                "--server.address", p.address, "--server.port", str(p.port), "--server.headless", "true",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
                "--global.developmentMode", "false", "--client.toolbarMode", "minimal",
                "--theme.primaryColor", "#0f766e", "--server.runOnSave", "false",
            ],
            f"http://{p.address}:{p.port}/",
            f"http://{p.address}:{p.port}/_stcore/health",
        ),
        Service(
            "phone service",
            [sys.executable, "-m", "phone_xml.server"],
            f"http://{ph.address}:{ph.port}/",
            f"http://{ph.address}:{ph.port}/healthz",
        ),
    ]  # fmt: skip


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own loopback service
            return resp.status == 200
    except OSError:
        return False


def stop_all(started: list[Service]) -> None:
    """SIGTERM every service's process group, then SIGKILL what is still there after a grace period."""
    for svc in started:
        if svc.process and svc.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(svc.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for svc in started:
        if not svc.process:
            continue
        try:
            svc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(svc.process.pid, signal.SIGKILL)
            svc.process.wait()
        # grandchildren (Dagster's code server, run workers) share the group: make sure they are gone
        with contextlib.suppress(ProcessLookupError):
            os.killpg(svc.process.pid, signal.SIGKILL)


def _needs_demo(settings: Settings) -> bool:
    return not settings.cucm_configured and not Lake(settings.lake_dir).days("raw_cdr") and settings.config_path is None


def _feed(settings: Settings, stop: threading.Event) -> None:
    """Write one more minute of demo traffic into the inbox every minute, until stopped."""
    from ringledger.demo import write_minute

    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    while not stop.wait(60 - datetime.now(UTC).second):
        try:
            write_minute(inbox, datetime.now(UTC).replace(second=0, microsecond=0))
        except OSError as exc:
            print(f"demo feed: {exc}", file=sys.stderr)


def _an_employee(settings: Settings) -> str:
    import sqlalchemy as sa

    from warehouse import appdb

    with appdb.open_db(settings).connect() as conn:
        return (
            conn.execute(
                sa.select(appdb.users.c.id).where(appdb.users.c.role == "user").order_by(appdb.users.c.id).limit(1)
            ).scalar()
            or "admin"
        )


def run(args) -> int:
    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    settings = load_settings()
    demo = False
    if not args.no_demo and _needs_demo(settings):
        from ringledger.demo import load_demo

        print(f"Empty data home {home}: loading the demo company (takes a minute)...", flush=True)
        sizes = {k: v for k, v in (("legs", args.demo_legs), ("days", args.demo_days)) if v}
        load_demo(home, **sizes)
        settings = load_settings(path=config_path(home), home=home)
        demo = True
    elif settings.demo:
        demo = True
    # ports given on the command line reach every process through the environment
    for name, port in (("DAGSTER", args.dagster_port), ("PORTAL", args.portal_port), ("PHONE", args.phone_port)):
        if port:
            os.environ[f"RINGLEDGER_{name}_PORT"] = str(port)
    settings = load_settings(path=settings.config_path, home=home)
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RINGLEDGER_HOME=str(home), DAGSTER_HOME=str(dagster_home(settings)))
    if settings.config_path:
        env["RINGLEDGER_CONFIG"] = str(settings.config_path)
    env.setdefault("PYTHONUNBUFFERED", "1")
    logs = home / "logs"
    logs.mkdir(exist_ok=True)

    # create Dagster's storage before its processes start, so they do not race to create it
    subprocess.run([_bin("dagster"), "instance", "migrate"], env=env, cwd=home, check=True, capture_output=True)
    started: list[Service] = []
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for svc in services(settings):
            log = (logs / f"{svc.name.split()[0]}.log").open("ab")
            svc.process = subprocess.Popen(
                svc.argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=home
            )
            started.append(svc)
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = [s for s in started if s.health]
        while waiting and not stop.is_set():
            for svc in list(waiting):
                if svc.process.poll() is not None:
                    raise CommandError(f"{svc.name} exited at start-up (code {svc.process.returncode}); see {logs}")
                if _ready(svc.health):
                    waiting.remove(svc)
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise CommandError(f"{names} did not come up within {READY_TIMEOUT_S} s; see {logs}")
            time.sleep(0.5)
        if stop.is_set():
            return 130
        print("\nRingledger is running:")
        for svc in started:
            if svc.url:
                print(f"  {svc.name:32s} {svc.url}")
        if demo:
            employee = _an_employee(settings)
            print("\nDemo company loaded. Log in to the portal as  admin / admin  (administrator),")
            print(f"or as any employee (for example  {employee} ) with the password  demo .")
        print(f"\nData home: {home}   Logs: {logs}   Stop with Ctrl-C.", flush=True)
        feeder = None
        if demo and not args.no_feed:
            feeder = threading.Thread(target=_feed, args=(settings, stop), daemon=True)
            feeder.start()
        while not stop.is_set():
            for svc in started:
                if svc.process.poll() is not None:
                    print(f"{svc.name} stopped (code {svc.process.returncode}); see {logs}", file=sys.stderr)
                    stop.set()
            stop.wait(1)
        return 0
    finally:
        stop.set()
        print("Stopping Ringledger...", flush=True)
        stop_all(started)
