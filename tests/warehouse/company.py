"""The Ravello demo company's facts in a data home: configuration, demo tariffs, directory, one day of calls."""

from __future__ import annotations

from pathlib import Path

from tariffs import demo
from tests.warehouse.cdrgen import leg, write_cdr
from warehouse.config import Settings, load_settings
from warehouse.ingest import Ingestor
from warehouse.lake import Lake

CONFIG = """
[company]
name = "Ravello"
currency = "EUR"

[currencies]
GBP = 1.17
USD = 0.92

[[sites]]
name = "Milano"
country = "IT"
time_zone = "Europe/Rome"
language = "it"
access_codes = ["0"]
internal_ranges = ["2000-2999"]
emergency_numbers = ["0112"]

[[sites]]
name = "London"
country = "GB"
time_zone = "Europe/London"
access_codes = ["9"]
internal_ranges = ["4000-4999"]
emergency_numbers = ["9999", "9112"]

[[sites]]
name = "New York"
country = "US"
time_zone = "America/New_York"
access_codes = ["9"]
internal_ranges = ["6000-6999"]
emergency_numbers = ["9911"]

[[devices]]
device = "MIL-GW-01"
kind = "gateway"
label = "Milano PSTN"
site = "Milano"
tariff_plan = "it-carrier"

[[devices]]
device = "LON-SBC-01"
kind = "trunk"
label = "London SIP"
site = "London"
tariff_plan = "uk-carrier"

[[devices]]
device = "NYC-SBC-01"
kind = "trunk"
label = "New York SIP"
site = "New York"
tariff_plan = "us-carrier"

[[devices]]
device = "OLD-GW-01"
kind = "gateway"
label = "Old gateway"
site = "Milano"
"""

USERS = """username,display_name,department,cost_centre,extensions
anna,Anna Rossi,Sales,CC-100,2101;2105
bruno,Bruno Bianchi,Sales,CC-100,2102;2106
carla,Carla Verdi,Support,CC-200,2103;2104;2107;2108
lucy,Lucy Smith,Sales UK,CC-300,4101
nick,Nick Jones,Sales US,CC-400,6101;6102
"""

# Friday 6 June 2025: 08:00 UTC is 10:00 in Milano (peak), 09:00 in London (day), 04:00 in New York.
LEGS = [
    ("local", leg("2101", "00212345678", "SEP000000002101", "MIL-GW-01", "2025-06-06T08:00:00", 95, call_id=1)),
    ("tim", leg("2102", "03351234567", "SEP000000002102", "MIL-GW-01", "2025-06-06T08:10:00", 61, call_id=2)),
    ("emergency", leg("2103", "0112", "SEP000000002103", "MIL-GW-01", "2025-06-06T08:20:00", 30, call_id=3)),
    ("toll_free", leg("2104", "0800123456", "SEP000000002104", "MIL-GW-01", "2025-06-06T08:30:00", 40, call_id=4)),
    # a transfer: 2105 talks 60 s, then transfers the outside party to 2106 for 90 s; one carrier leg
    (
        "transfer_1",
        leg(
            "2105",
            "00612345678",
            "SEP000000002105",
            "MIL-GW-01",
            "2025-06-06T09:00:00",
            60,
            call_id=5,
            orig_leg=501,
            dest_leg=509,
            destCause_value=393216,
            origCause_value=393216,
        ),
    ),
    (
        "transfer_2",
        leg(
            "2106",
            "00612345678",
            "SEP000000002106",
            "MIL-GW-01",
            "2025-06-06T09:01:05",
            90,
            call_id=5,
            orig_leg=502,
            dest_leg=509,
            ring=0,
        ),
    ),
    ("london", leg("4101", "902079460000", "SEP000000004101", "LON-SBC-01", "2025-06-06T08:00:00", 120, call_id=6)),
    ("new_york", leg("6101", "912125551234", "SEP000000006101", "NYC-SBC-01", "2025-06-06T14:00:00", 45, call_id=7)),
    ("us_emergency", leg("6102", "9911", "SEP000000006102", "NYC-SBC-01", "2025-06-06T14:10:00", 20, call_id=8)),
    ("unknown", leg("2107", "00999", "SEP000000002107", "MIL-GW-01", "2025-06-06T10:00:00", 30, call_id=9)),
    ("no_plan", leg("2108", "00212345678", "SEP000000002108", "OLD-GW-01", "2025-06-06T10:05:00", 30, call_id=10)),
    ("incoming", leg("0212345678", "2101", "MIL-GW-01", "SEP000000002101", "2025-06-06T11:00:00", 300, call_id=11)),
    ("internal", leg("2101", "2102", "SEP000000002101", "SEP000000002102", "2025-06-06T11:30:00", 60, call_id=12)),
    (
        "unanswered",
        leg(
            "2102", "00212345678", "SEP000000002102", "MIL-GW-01", "2025-06-06T12:00:00", 0, call_id=13, answered=False
        ),
    ),
]


def make_company(home: Path) -> Settings:
    """Write the configuration, install the demo tariffs and directory, and ingest LEGS into the home."""
    from warehouse import appdb, directory

    (home / "ringledger.toml").write_text(CONFIG)
    settings = load_settings()
    demo.install(settings.tariffs_dir)
    users = home / "users.csv"
    users.write_text(USERS)
    directory.apply(appdb.open_db(settings), directory.read_csv(users), source="csv", lake=Lake(settings.lake_dir))
    write_cdr(home / "drop", [row for _, row in LEGS])
    Ingestor(settings).ingest([home / "drop"])
    return settings
