"""Load the demo company into a data home: configuration, directory, passwords and call history."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from ringledger.demo.company import ADMIN_PASSWORD, ADMIN_USERNAME, EMPLOYEE_PASSWORD, config_toml
from ringledger.demo.generator import CDR_FOLDER, DEMO_DAYS, DEMO_LEGS, STATE_NAME, generate
from warehouse.config import CONFIG_NAME, load_settings

# Sized so an empty home is ready in well under a minute on a 2-core machine (see README).
DEFAULT_LEGS = DEMO_LEGS
DEFAULT_DAYS = DEMO_DAYS
# One file per node per day keeps the file count (and the per-file work of ingesting) low.
LOAD_FILE_MINUTES = 1440


@dataclass
class LoadResult:
    """What load_demo put into the home."""

    config: Path
    directory: Path
    state_file: Path  # where write_minute() continues from (in the inbox, hidden from ingest)
    users: int
    legs: int
    cmrs: int
    files: int
    calls_rows: int
    rejects: int
    seconds: float


def load_demo(
    settings_home: Path,
    legs: int = DEFAULT_LEGS,
    days: int = DEFAULT_DAYS,
    seed: int = 1,
    end: datetime | None = None,
) -> LoadResult:
    """Make `settings_home` a working demo: ringledger.toml, directory with logins, and `days` days of calls up to now.

    Writes the demo configuration (refuses to replace a configuration that is not a demo one),
    imports directory.csv (source "csv"), gives `admin` the password "admin" and every employee
    "demo", generates the CDR/CMR files in a temporary folder and ingests them with the pipeline's
    Ingestor. The live-feed state is left in the inbox, so `write_minute(settings.inbox_dir)`
    continues the same cluster from where the history ends.
    """
    from tariffs import demo as demo_tariffs
    from warehouse import appdb, directory
    from warehouse.ingest import Ingestor
    from warehouse.lake import Lake

    started = time.perf_counter()
    home = Path(settings_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_NAME
    if config.exists() and not _is_demo_config(config):
        raise ValueError(f"{config}: a configuration that is not the demo's is already there; not replacing it")
    config.write_text(config_toml(), encoding="utf-8")
    settings = load_settings(path=config, home=home)
    demo_dir = home / "demo"
    demo_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ringledger-demo-") as tmp:
        out = Path(tmp)
        summary = generate(out, legs=legs, days=days, seed=seed, end=end, file_minutes=LOAD_FILE_MINUTES)
        csv_path = demo_dir / "directory.csv"
        shutil.copyfile(out / "directory.csv", csv_path)
        engine = appdb.open_db(settings)
        people = directory.read_csv(csv_path)
        directory.apply(engine, people, source="csv", lake=Lake(settings.lake_dir))
        _set_passwords(engine, [p.username for p in people])
        # the carriers' tariff plans, so the history is priced as it is ingested
        demo_tariffs.install(settings.tariffs_dir)
        report = Ingestor(settings).ingest([out / CDR_FOLDER])
        inbox = settings.inbox_dir
        inbox.mkdir(parents=True, exist_ok=True)
        state_file = inbox / STATE_NAME
        shutil.copyfile(out / CDR_FOLDER / STATE_NAME, state_file)
    return LoadResult(
        config=config,
        directory=csv_path,
        state_file=state_file,
        users=len(people),
        legs=summary.legs,
        cmrs=summary.cmrs,
        files=summary.files,
        calls_rows=report.calls_rows,
        rejects=report.rejects,
        seconds=time.perf_counter() - started,
    )


def _is_demo_config(path: Path) -> bool:
    import tomllib

    try:
        return bool(tomllib.loads(path.read_text(encoding="utf-8")).get("demo"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False


def _set_passwords(engine: sa.Engine, usernames: list[str]) -> None:
    """admin/admin, and "demo" for every employee.

    Argon2 is slow on purpose (about 80 ms a hash here), so the employees' hash is made once with
    set_password and copied: the same password verifies against the same salted hash.
    """
    from warehouse.access import set_password
    from warehouse.appdb import users, utcnow

    set_password(engine, ADMIN_USERNAME, ADMIN_PASSWORD)
    employees = [u for u in usernames if u != ADMIN_USERNAME]
    if not employees:
        return
    set_password(engine, employees[0], EMPLOYEE_PASSWORD)
    with engine.begin() as conn:
        hashed = conn.execute(sa.select(users.c.password_hash).where(users.c.id == employees[0])).scalar()
        conn.execute(
            users.update().where(users.c.id.in_(employees[1:])).values(password_hash=hashed, updated_at=utcnow())
        )
