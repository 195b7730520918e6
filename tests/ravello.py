"""A small "Ravello Instruments" data home for portal and report tests: real CUCM files, real ingest.

`build_home(home, now)` writes a configuration (three sites, gateways), a directory of people with
passwords, and a CUCM CDR file of calls around `now` made from the layout of a real sample file,
then ingests it with the production Ingestor. Run `python -m tests.ravello DIR` to make one by hand.
"""

from __future__ import annotations

import csv
import io
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "cucm"
TEMPLATE = SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_01_202112131402_168485"

CONFIG = """
[company]
name = "Ravello Instruments"
time_zone = "Europe/Rome"
language = "en"
currency = "EUR"

[[sites]]
name = "Milano"
country = "IT"
time_zone = "Europe/Rome"
language = "it"
access_codes = ["0"]
internal_ranges = ["2000-2999"]

[[sites]]
name = "London"
country = "GB"
time_zone = "Europe/London"
language = "en"
access_codes = ["9"]
internal_ranges = ["4000-4999"]

[[sites]]
name = "New York"
country = "US"
time_zone = "America/New_York"
language = "en"
access_codes = ["9"]
internal_ranges = ["6000-6999"]

[[devices]]
device = "MIL-GW-01"
kind = "gateway"
label = "Milano PSTN"
site = "Milano"

[[devices]]
device = "LON-GW-01"
kind = "gateway"
label = "London PSTN"
site = "London"

[[devices]]
device = "NYC-SBC-01"
kind = "trunk"
label = "New York SIP trunk"
site = "New York"
"""

DIRECTORY_HEADER = (
    "username,display_name,first_name,last_name,email,department,cost_centre,manager,site,language,time_zone,role,"
    "extensions\n"
)
DIRECTORY = (
    DIRECTORY_HEADER
    + """admin,Administrator,,,admin@ravello.example,,,,Milano,en,Europe/Rome,administrator,
marco.bianchi,Marco Bianchi,Marco,Bianchi,marco@ravello.example,Sales,CC-100,,Milano,,,supervisor,2303
giulia.rossi,Giulia Rossi,Giulia,Rossi,giulia@ravello.example,Sales,CC-100,marco.bianchi,Milano,en,,user,2302
james.carter,James Carter,James,Carter,james@ravello.example,Finance,CC-200,,London,en,,user,4410
layla.haddad,Layla Haddad,Layla,Haddad,layla@ravello.example,Finance,CC-200,,London,ar,,user,4420
emily.wong,Emily Wong,Emily,Wong,emily@ravello.example,Engineering,CC-300,,New York,en,,user,6120
"""
)

PHONES = {
    "2302": "SEP0011A0000302",
    "2303": "SEP0011A0000303",
    "4410": "SEP0022B0000410",
    "4420": "SEP0022B0000420",
    "6120": "SEP0033C0000120",
}


@dataclass(frozen=True)
class Call:
    """A call to put in the CDR file: who called whom, when (minutes before now), how long."""

    calling: str
    called: str
    minutes_ago: int
    duration_s: int  # 0: not answered
    gateway_in: str = ""  # device the call came in on (incoming PSTN)
    gateway_out: str = ""  # device the call left on (outgoing PSTN)
    ring_s: int = 6


# The distinctive numbers let tests tell whose call they see.
CALLS = (
    Call("2302", "00212345678", 30, 185, gateway_out="MIL-GW-01"),  # Giulia -> Milano landline
    Call("0298765432", "2302", 120, 60, gateway_in="MIL-GW-01"),  # Milano landline -> Giulia
    Call("3471234567", "2302", 180, 0, gateway_in="MIL-GW-01", ring_s=25),  # missed mobile call
    Call("2302", "00612345678", 240, 0, gateway_out="MIL-GW-01", ring_s=30),  # unanswered outgoing
    Call("2302", "4410", 300, 240),  # internal Milano -> London
    Call("2303", "00287654321", 60, 600, gateway_out="MIL-GW-01"),  # Marco
    Call("4410", "902079460000", 360, 300, gateway_out="LON-GW-01"),  # James
    Call("6120", "912125550100", 100, 120, gateway_out="NYC-SBC-01"),  # Emily
    Call("442079460123", "4420", 420, 90, gateway_in="LON-GW-01"),  # -> Layla
    Call("2302", "00299887766", 60 * 24 * 15, 420, gateway_out="MIL-GW-01"),  # Giulia, two weeks ago
    Call("2302", "00611223344", 60 * 24 * 40, 75, gateway_out="MIL-GW-01"),  # Giulia, about 40 days ago
)


def _template() -> tuple[list[str], list[str], dict[str, str]]:
    with TEMPLATE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1], dict(zip(rows[0], rows[2], strict=True))


def cdr_file(calls=CALLS, now: datetime | None = None) -> tuple[str, bytes]:
    """A CUCM CDR file (name, bytes) with these calls, in the layout of a real CUCM 12.5 file."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    names, types, base = _template()
    out = io.StringIO()
    out.write(",".join(f'"{n}"' for n in names) + "\r\n")
    out.write(",".join(types) + "\r\n")
    for i, call in enumerate(calls, start=1):
        start = int((now - timedelta(minutes=call.minutes_ago)).timestamp())
        answered = call.duration_s > 0
        connect = start + call.ring_s if answered else 0
        end = (connect + call.duration_s) if answered else start + call.ring_s
        row = dict(base)
        row.update(
            {
                "globalCallID_callManagerId": "1",
                "globalCallID_callId": str(900000 + i),
                "origLegCallIdentifier": str(50000000 + 2 * i),
                "destLegIdentifier": str(50000001 + 2 * i),
                "dateTimeOrigination": str(start),
                "dateTimeConnect": str(connect),
                "dateTimeDisconnect": str(end),
                "duration": str(call.duration_s),
                "callingPartyNumber": call.calling,
                "originalCalledPartyNumber": call.called,
                "finalCalledPartyNumber": call.called,
                "lastRedirectDn": call.called,
                "pkid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ravello-{i}-{start}")),
                "origDeviceName": call.gateway_in or PHONES.get(call.calling, "SEP000000000000"),
                "destDeviceName": call.gateway_out or PHONES.get(call.called, "SEP000000000001"),
                "origSpan": "1" if call.gateway_in else "0",
                "destSpan": "1" if call.gateway_out else "0",
                "origCause_value": "16" if answered else "0",
                "destCause_value": "0" if answered else "16",
                "huntPilotDN": "",
                "origCalledPartyRedirectReason": "0",
                "lastRedirectRedirectReason": "0",
            }
        )
        values = []
        for name, kind in zip(names, types, strict=True):
            value = row[name]
            values.append(value if kind.upper().startswith("INTEGER") else '"' + value.replace('"', '""') + '"')
        out.write(",".join(values) + "\r\n")
    name = f"cdr_StandAloneCluster_01_{now:%Y%m%d%H%M}_{int(now.timestamp()) % 1000000}"
    return name, out.getvalue().encode("utf-8")


def build_home(home: Path, now: datetime | None = None) -> None:
    """Write configuration, directory (passwords: admin/admin, everyone else 'demo') and calls; ingest."""
    from warehouse import appdb
    from warehouse.access import set_password
    from warehouse.config import load_settings
    from warehouse.directory import apply, read_csv
    from warehouse.ingest import Ingestor
    from warehouse.lake import Lake

    home.mkdir(parents=True, exist_ok=True)
    (home / "ringledger.toml").write_text(CONFIG, encoding="utf-8")
    settings = load_settings(home=home, path=home / "ringledger.toml")
    engine = appdb.open_db(settings)
    directory = home / "directory.csv"
    directory.write_text(DIRECTORY, encoding="utf-8")
    people = read_csv(directory)
    apply(engine, people, source="csv", lake=Lake(settings.lake_dir))
    for person in people:
        set_password(engine, person.username, "admin" if person.username == "admin" else "demo")
    drop = home / "drop"
    drop.mkdir(exist_ok=True)
    name, data = cdr_file(now=now)
    (drop / name).write_bytes(data)
    Ingestor(settings).ingest([drop])


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var")
    build_home(target.resolve())
    print(f"Ravello Instruments data home ready in {target}")


# --- pytest fixtures (imported by the conftest.py of the test folders that use them) ----------------
import pytest  # noqa: E402


@contextmanager
def home_environment(home: Path) -> Iterator[None]:
    """RINGLEDGER_HOME set to this home, and no other configuration, while a test builds it; the
    environment put back and the cached databases closed afterwards."""
    import os

    from warehouse import appdb, views

    names = ("RINGLEDGER_HOME", "RINGLEDGER_CONFIG", "RINGLEDGER_DATABASE_URL")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["RINGLEDGER_HOME"] = str(home)
    os.environ.pop("RINGLEDGER_CONFIG", None)
    os.environ.pop("RINGLEDGER_DATABASE_URL", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        views.reset()
        appdb.dispose_all()


@pytest.fixture(scope="session")
def ravello_home(tmp_path_factory) -> tuple[Path, datetime]:
    """A Ravello data home built once per test session, and the moment its calls are relative to."""
    home = tmp_path_factory.mktemp("ravello") / "home"
    now = datetime.now(UTC).replace(microsecond=0)
    with home_environment(home):
        build_home(home, now)
    return home, now


@pytest.fixture
def ravello(ravello_home, monkeypatch):
    """Settings of the shared Ravello home, with RINGLEDGER_HOME pointing at it for this test."""
    from warehouse import appdb, views
    from warehouse.config import load_settings

    home, _now = ravello_home
    monkeypatch.setenv("RINGLEDGER_HOME", str(home))
    monkeypatch.delenv("RINGLEDGER_CONFIG", raising=False)
    monkeypatch.delenv("RINGLEDGER_DATABASE_URL", raising=False)
    yield load_settings()
    views.reset()
    appdb.dispose_all()
