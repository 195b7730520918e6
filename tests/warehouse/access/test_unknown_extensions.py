"""Extensions seen in calls while nobody had them: listed with first and last seen and a call count."""

from __future__ import annotations

import pytest

import warehouse
from tests.cdrs import Leg, cdr_file, utc
from warehouse import appdb
from warehouse.accounts import assign_extension, create_user
from warehouse.directory import unknown_extensions
from warehouse.ingest import Ingestor
from warehouse.lake import Lake

pytestmark = pytest.mark.app_databases


def test_unknown_extensions_are_listed_and_one_click_assignment_clears_them(sites, home):
    engine = appdb.open_db(sites)
    lake = Lake(sites.lake_dir)
    create_user(engine, "cli:test", "ann", extensions=["1801"], lake=lake)
    legs = [
        Leg("1801", "0041446680000", utc(2026, 3, 3, 9, 0)),  # ann's
        Leg("1850", "0041446680001", utc(2026, 3, 4, 9, 0)),  # in ZRH's range, nobody's
        Leg("1850", "0041446680002", utc(2026, 3, 6, 9, 0)),
        Leg("0041446681111", "1850", utc(2026, 3, 5, 9, 0), orig_device="GW-ZRH-1", dest_device="SEPAAAABBBBCCCC"),
        Leg("777", "0041446680003", utc(2026, 3, 7, 9, 0), orig_device="SEP112233445566"),  # a phone outside any range
        Leg("1801", "9999", utc(2026, 3, 8, 9, 0), dest_device="CTIRP-1"),  # 9999: no range, no phone device
    ]
    Ingestor(sites).ingest([cdr_file(home / "in", legs)])
    found = {u.extension: u for u in unknown_extensions(sites)}
    assert set(found) == {"1850", "777"}
    assert found["1850"].calls == 3
    assert found["1850"].site == "ZRH"
    assert (found["1850"].first_seen, found["1850"].last_seen) == (utc(2026, 3, 4, 9, 0), utc(2026, 3, 6, 9, 0))
    assert "SEPAAAABBBBCCCC" in found["1850"].devices
    assert [u.extension for u in unknown_extensions(sites, since=utc(2026, 3, 7))] == ["777"]

    assign_extension(engine, "root", "ann", "1850", lake=lake)  # nobody ever had it: ann had it all along
    assert [u.extension for u in unknown_extensions(sites)] == ["777"]
    con = warehouse.connect(sites)
    assert con.execute("select distinct user_id from calls where extension = '1850'").fetchall() == [("ann",)]
