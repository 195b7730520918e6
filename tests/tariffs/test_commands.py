"""The tariff commands against a throwaway data home: import, add a version, check, list, classify."""

from __future__ import annotations

import json

from ringledger.cli import main
from tests.tariffs.conftest import SAMPLES

ASTERISELL = SAMPLES / "asterisell" / "international_call_rates_example.csv"


def test_import_a_deck_then_a_new_version(home, capsys):
    assert main(["tariff", "import", str(ASTERISELL), "--name", "wholesale", "--billing", "30/6"]) == 0
    out = capsys.readouterr().out
    assert "A-Z deck: comma-separated, a header, decimal comma" in out
    assert "11894 rate rows" in out
    assert (home / "tariffs" / "wholesale" / "plan.toml").is_file()
    # the same name again needs a decision
    assert main(["tariff", "import", str(ASTERISELL), "--name", "wholesale"]) == 2
    assert "already installed" in capsys.readouterr().err
    cheaper = home / "cheaper.csv"
    cheaper.write_text("prefix;destination;rate\n39;Italy;0,0100\n44;United Kingdom;0,0200\n")
    assert main(["tariff", "import", str(cheaper), "--name", "wholesale", "--valid-from", "2026-01-01"]) == 0
    capsys.readouterr()
    assert main(["tariff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "version 1: always to 2026-01-01 00:00 UTC" in listing
    assert "version 2026-01-01: 2026-01-01 00:00 UTC to open; 2 rate rows" in listing
    assert main(["tariff", "quote", "--plan", "wholesale", "--number", "+390212345678", "--at", "2025-12-31T23:00",
                 "--duration", "60", "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["cost"] == "0.0121"
    assert main(["tariff", "quote", "--plan", "wholesale", "--number", "+390212345678", "--at", "2026-01-01T00:00",
                 "--duration", "60", "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out)["cost"] == "0.0100"


def test_import_cgrates_and_check(home, capsys):
    assert main(["tariff", "check", str(SAMPLES / "cgrates_oldtutorial"), "--time-zone", "Europe/Rome"]) == 0
    out = capsys.readouterr().out
    assert "CGRateS tariff plan (4 rating plan(s)), no problems found" in out
    assert "plan RP_RETAIL1: EUR, zone Europe/Rome" in out
    assert not (home / "tariffs").exists()  # check installs nothing
    assert main(["tariff", "import", str(SAMPLES / "cgrates_tutorial"), "--name", "RP_1001"]) == 0
    capsys.readouterr()
    assert (home / "tariffs" / "RP_1001" / "plan.toml").is_file()
    assert not (home / "tariffs" / "RP_1002").exists()


def test_check_reports_file_line_and_field(home, capsys):
    bad = home / "bad"
    bad.mkdir()
    (bad / "plan.toml").write_text('currency = "EUR"\n')
    (bad / "rates.csv").write_text("prefix,price\n39,0.1\n44,cheap\n")
    assert main(["tariff", "check", str(bad)]) == 2
    assert f"{bad / 'rates.csv'}, line 3, field price: 'cheap' is not an amount" in capsys.readouterr().err


def test_classify(home, capsys):
    assert main(["tariff", "classify", "--country", "IT", "--access-code", "0", "--emergency", "0112", "--json",
                 "00212345678", "0112", "03351234567"]) == 0  # fmt: skip
    got = json.loads(capsys.readouterr().out)
    assert [(g["e164"], g["destination_type"]) for g in got] == [
        ("+390212345678", "national"),
        (None, "emergency"),
        ("+393351234567", "mobile"),
    ]
    assert got[2]["operator"] == "TIM"
    assert main(["tariff", "classify", "0212345678"]) == 2
    assert "--country" in capsys.readouterr().err
