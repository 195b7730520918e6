"""Tariff uploads from the portal: every wrong line reported, nothing broken installed, versions added and ended."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tariffs.model import TariffError
from warehouse import appdb, tariff_files
from warehouse.audit import query_audit
from warehouse.config import load_settings

DEMO = Path(__file__).resolve().parents[2] / "tariffs" / "demo"
CGRATES = Path(__file__).resolve().parents[3] / "shared" / "samples" / "tariffs" / "cgrates_oldtutorial"

BROKEN_DECK = b"""prefix,destination,rate
39,Italy,0.0100
3902,Milano,0.012
39abc,Bad prefix,0.02
44,United Kingdom,0.1.2
4420,London,
1,North America,0.01
"""
GOOD_DECK = b"""prefix;destination;rate
39;Italy;0,0100
3902;Milano;0,0120
44;United Kingdom;0,0300
1;North America;0,0100
"""


@pytest.fixture
def admin(home):
    (home / "ringledger.toml").write_text('[company]\ncurrency = "EUR"\n[currencies]\nUSD = 0.92\n')
    settings = load_settings()
    return settings, appdb.open_db(settings)


def zipped(folder: Path, inside: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{inside}/{path.name}" if inside else path.name)
    return buffer.getvalue()


def test_a_broken_deck_reports_each_wrong_line_with_its_field(admin):
    settings, _engine = admin
    check = tariff_files.check_upload(settings, "carrier.csv", BROKEN_DECK)
    assert not check.ok
    assert check.plans == []
    assert [(p.file, p.line, p.field) for p in check.problems] == [
        ("carrier.csv", 4, "prefix"),
        ("carrier.csv", 5, "rate"),
        ("carrier.csv", 6, "rate"),
    ]
    assert check.problems[1].problem == "'0.1.2' is not an amount"


def test_a_broken_deck_is_never_installed(admin):
    settings, engine = admin
    check = tariff_files.check_upload(settings, "carrier.csv", BROKEN_DECK)
    with pytest.raises(TariffError, match="never installed"):
        tariff_files.install_checked(settings, engine, "admin", check)
    assert tariff_files.installed(settings) == []


def test_a_good_deck_installs_as_a_plan_then_as_a_new_version(admin):
    settings, engine = admin
    check = tariff_files.check_upload(
        settings, "Wholesale Carrier.csv", GOOD_DECK, terms=tariff_files.Terms(billing="30/6")
    )
    assert check.ok, check.problems
    assert "semicolon-separated" in check.note
    assert "decimal comma" in check.note
    assert check.plans[0].name == "wholesale-carrier"
    done = tariff_files.install_checked(settings, engine, "admin", check)
    assert done.plans == ["wholesale-carrier"]
    with pytest.raises(TariffError, match="already installed"):
        tariff_files.install_checked(settings, engine, "admin", check)

    start = datetime(2026, 10, 1, tzinfo=UTC)
    tariff_files.install_checked(settings, engine, "admin", check, valid_from=start)
    (plan,) = tariff_files.plans_overview(settings)
    assert [(v.id, v.valid_from, v.valid_to) for v in plan.versions] == [
        ("1", None, start),
        ("2026-10-01", start, None),
    ]
    assert [v.rates for v in plan.versions] == [4, 4]
    entries = query_audit(engine, action="tariff").entries
    assert [(e.action, e.target) for e in entries] == [("tariff.installed", "wholesale-carrier")] * 2


def test_an_own_format_plan_in_a_zip_installs_and_a_version_can_be_ended(admin):
    settings, engine = admin
    check = tariff_files.check_upload(settings, "us.zip", zipped(DEMO / "us-carrier", inside="us-carrier"))
    assert check.ok
    assert check.note == "own format"
    tariff_files.install_checked(settings, engine, "admin", check)

    end = datetime(2026, 12, 1, 5, tzinfo=UTC)
    tariff_files.close_version(settings, engine, "admin", "us-carrier", "2025", end)
    (plan,) = tariff_files.plans_overview(settings)
    assert plan.versions[0].valid_to == end
    with pytest.raises(TariffError, match="starts after"):
        tariff_files.close_version(settings, engine, "admin", "us-carrier", "2025", datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(TariffError, match="no version"):
        tariff_files.close_version(settings, engine, "admin", "us-carrier", "1999", end)
    assert query_audit(engine, action="tariff.version_closed").total == 1


def test_a_cgrates_plan_reads_and_its_wrong_lines_name_the_file(admin, tmp_path):
    settings, _engine = admin
    check = tariff_files.check_upload(settings, "tp.zip", zipped(CGRATES), terms=tariff_files.Terms(currency="EUR"))
    assert check.ok, check.problems
    assert len(check.plans) > 1

    broken = tmp_path / "tp"
    broken.mkdir()
    for path in CGRATES.iterdir():
        (broken / path.name).write_bytes(path.read_bytes())
    rates = (broken / "Rates.csv").read_text().split("\n")
    rates[1] = rates[1].replace("0.1,", "zero,", 1)
    (broken / "Rates.csv").write_text("\n".join(rates))
    check = tariff_files.check_upload(settings, "tp.zip", zipped(broken, inside="tp"))
    assert [(p.file, p.line, p.field) for p in check.problems][0] == ("tp/Rates.csv", 2, "Rate")


def test_an_archive_that_leaves_its_folder_is_refused(admin):
    settings, _engine = admin
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../../evil.csv", "prefix,rate\n39,0.1\n")
    check = tariff_files.check_upload(settings, "evil.zip", buffer.getvalue())
    assert not check.ok
    assert check.problems[0].problem == "a path outside the archive's folder"
    assert tariff_files.check_upload(settings, "x.zip", b"not a zip").problems[0].problem == "not a zip archive"


def test_a_plan_that_cannot_be_read_is_listed_with_why(admin):
    settings, _engine = admin
    folder = settings.tariffs_dir / "broken"
    folder.mkdir(parents=True)
    (folder / "plan.toml").write_text('name = "broken"\ncurrency = "EURO"\n')
    (plan,) = tariff_files.plans_overview(settings)
    assert plan.name == "broken"
    assert plan.error
    assert plan.versions == ()


def test_an_upload_name_with_folders_stays_a_name(admin, tmp_path):
    settings, _engine = admin
    deck = b"prefix,destination,rate\n39,Italy,0.01\n"
    outside = tmp_path / "escaped.csv"
    for name in (f"../../../../{tmp_path.name}/escaped.csv", str(outside)):
        check = tariff_files.check_upload(settings, name, deck)
        assert check.ok, check.problems
        assert not outside.exists()
    # backslashes are no folders here: such a name is no plan name, and says so
    windows = tariff_files.check_upload(settings, "..\\..\\escaped.csv", deck)
    assert not windows.ok
    assert windows.problems[0].field == "name"
    broken = tariff_files.check_upload(settings, "../../x/bad.csv", b"prefix,destination,rate\n39x,Italy,0.01\n")
    assert broken.problems
    assert {p.file for p in broken.problems} == {"bad.csv"}
