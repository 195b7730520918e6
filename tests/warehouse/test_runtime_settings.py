"""Settings changed at run time: stored in the app database over the file, validated, audited, seen at once."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa

from warehouse import appdb, runtime_settings
from warehouse.appdb import audit_log
from warehouse.config import ConfigError, load_settings
from warehouse.runtime_settings import RESET, SettingsRefused

pytestmark = pytest.mark.app_databases

CONFIG = """
[company]
time_zone = "Europe/Rome"

[[sites]]
name = "Milano"
country = "IT"
time_zone = "Europe/Rome"
access_codes = ["0"]
internal_ranges = ["2000-2999"]

[[sites]]
name = "London"
country = "GB"
time_zone = "Europe/London"
internal_ranges = ["4000-4999"]

[[devices]]
device = "MIL-GW-01"
label = "Milano PSTN"
site = "Milano"

[privacy.mask_digits]
user = 4
supervisor = 4
administrator = 2

[portal]
port = 8600
"""


@pytest.fixture
def configured(home):
    """A data home with a configuration file and a migrated app database."""
    (home / "ringledger.toml").write_text(CONFIG)
    settings = load_settings()
    return settings, appdb.open_db(settings)


def audit_entries(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [(r.actor, r.action, r.target) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]


def test_a_change_is_seen_by_the_next_load_and_by_another_process(configured, home):
    settings, engine = configured
    assert settings.site("Milano").time_zone == "Europe/Rome"

    done = runtime_settings.change(settings, engine, "admin", {"sites[Milano]": {"time_zone": "Europe/Paris"}})

    assert done == ["sites[Milano]"]
    fresh = load_settings()
    assert fresh.site("Milano").time_zone == "Europe/Paris"
    assert fresh.site("Milano").access_codes == ["0"]  # the other fields still come from the file
    assert fresh.runtime.applied == ("sites[Milano]",)
    # a process started afterwards (any of pipelines, portal, phone service, CLI) reads the same
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            "from warehouse.config import load_settings; print(load_settings().site('Milano').time_zone)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout.strip() == "Europe/Paris"
    assert ("admin", "settings.changed", "sites[Milano]") in audit_entries(engine)


def test_precedence_environment_then_database_then_file_then_defaults(configured, monkeypatch):
    settings, engine = configured
    runtime_settings.change(settings, engine, "admin", {"privacy.mask_digits.user": 6, "sessions.minutes.gadget": 60})
    monkeypatch.setenv("RINGLEDGER_PORTAL_PORT", "9001")

    s = load_settings()

    assert s.privacy.mask_digits == {"user": 6, "supervisor": 4, "administrator": 2}  # database over file
    assert s.sessions.minutes["gadget"] == 60  # database over the built-in default
    assert s.sessions.minutes["portal"] == 480  # the other channels keep their defaults
    assert s.portal.port == 9001  # the environment over the file
    assert s.phone_service.port == 8502  # the default where nothing says otherwise
    # what a process needs before it can read the database is never stored there
    with pytest.raises(SettingsRefused) as refused:
        runtime_settings.change(s, engine, "admin", {"portal.port": 9002})
    assert refused.value.problems == [("portal.port", "not a setting that can be changed at run time")]


def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_stored(configured):
    settings, engine = configured
    before = runtime_settings.revision(engine)

    with pytest.raises(SettingsRefused) as refused:
        runtime_settings.change(
            settings,
            engine,
            "admin",
            {
                "sites[London]": {"time_zone": "Europe/Londres", "internal_ranges": ["4000-4999"]},
                "privacy.mask_digits.user": 3,
                "sessions.minutes.portal": 0,
            },
        )

    problems = dict(refused.value.problems)
    assert problems["sites[London].time_zone"] == "unknown time zone 'Europe/Londres'"
    assert "portal: a session lasts 1 to 525600 minutes" in problems["sessions.minutes"]
    assert runtime_settings.revision(engine) == before
    assert runtime_settings.stored(engine) == []  # the good value of the same change was not stored either
    assert load_settings().privacy.mask_digits["user"] == 4


def test_a_site_that_a_device_needs_cannot_be_removed_and_a_new_one_can_be_added(configured):
    settings, engine = configured
    with pytest.raises(SettingsRefused) as refused:
        runtime_settings.change(settings, engine, "admin", {"sites[Milano]": None})
    assert refused.value.problems == [("", "devices[MIL-GW-01].site: 'Milano' is not one of the sites")]

    runtime_settings.change(
        settings,
        engine,
        "admin",
        {
            "sites[Roma]": {"country": "IT", "time_zone": "Europe/Rome", "internal_ranges": ["3000-3999"]},
            "devices[ROM-GW-*]": {"kind": "gateway", "label": "Roma PSTN", "site": "Roma", "channels": 8},
            "sites[London]": None,
        },
    )

    s = load_settings()
    assert [x.name for x in s.sites] == ["Milano", "Roma"]
    assert s.device("rom-gw-02").label == "Roma PSTN"
    assert s.device("MIL-GW-01").label == "Milano PSTN"


def test_only_what_differs_from_the_file_is_stored_and_reset_goes_back_to_the_file(configured):
    settings, engine = configured
    runtime_settings.change(
        settings,
        engine,
        "admin",
        {
            "sites[Milano]": {"country": "IT", "time_zone": "Europe/Paris", "access_codes": ["0"]},
            "portal.refresh_seconds": 30,
        },
    )
    assert [(o.path, o.value) for o in runtime_settings.stored(engine)] == [
        ("sites[Milano]", {"time_zone": "Europe/Paris"})
    ]

    # the same values as the file: nothing left to store
    runtime_settings.change(settings, engine, "admin", {"sites[Milano]": {"time_zone": "Europe/Rome"}})
    assert runtime_settings.stored(engine) == []

    runtime_settings.change(settings, engine, "admin", {"smtp.sender": "Billing <billing@example.com>"})
    assert load_settings().smtp.sender == "Billing <billing@example.com>"
    assert runtime_settings.reset(settings, engine, "admin", ["smtp.sender"]) == ["smtp.sender"]
    assert load_settings().smtp.sender == "Ringledger <ringledger@localhost>"
    assert ("admin", "settings.reset", "smtp.sender") in audit_entries(engine)


def test_unchanged_settings_cost_no_new_object_and_a_change_gives_a_new_one(configured):
    settings, engine = configured
    first = load_settings()
    assert load_settings() is first
    runtime_settings.change(first, engine, "admin", {"cucm.enforcement": "curri"})
    second = load_settings()
    assert second is not first
    assert second.cucm.enforcement == "curri"
    assert load_settings() is second


def test_a_stored_change_the_file_no_longer_fits_is_left_out_and_named(configured, home):
    settings, engine = configured
    runtime_settings.change(
        settings,
        engine,
        "admin",
        {"devices[MIL-GW-01]": {"site": "London", "label": "London PSTN"}, "privacy.mask_digits.user": 5},
    )
    # someone edits the file and takes the London site out
    london = CONFIG[CONFIG.index('[[sites]]\nname = "London"') : CONFIG.index("[[devices]]")]
    (home / "ringledger.toml").write_text(CONFIG.replace(london, ""))

    s = load_settings()

    assert s.privacy.mask_digits["user"] == 5
    assert s.device("MIL-GW-01").site == "Milano"
    assert s.runtime.refused == ("devices[MIL-GW-01].site: 'London' is not one of the sites",)
    assert s.runtime.applied == ("privacy.mask_digits.user",)


def test_a_section_that_sets_one_setting_keeps_the_defaults_of_the_others(home):
    (home / "ringledger.toml").write_text(
        '[portal]\nrefresh_seconds = 10\n\n[dagster]\nstorage_url = "postgresql://rl:pw@127.0.0.1/dagster"\n'
    )
    s = load_settings()
    assert (s.portal.port, s.portal.refresh_seconds) == (8501, 10)
    assert (s.dagster.address, s.dagster.port) == ("127.0.0.1", 3000)
    assert s.dagster.storage_url == "postgresql://rl:pw@127.0.0.1/dagster"


def test_reading_the_configuration_creates_no_database(home):
    (home / "ringledger.toml").write_text(CONFIG)
    load_settings()
    assert not (home / "ringledger.db").exists()


def test_an_override_of_a_setting_that_may_not_be_stored_is_refused(configured):
    settings, engine = configured
    for path in ("database.url", "sites", "ldap.bind_dn", "sites[Milano].name"):
        with pytest.raises(SettingsRefused):
            runtime_settings.change(settings, engine, "admin", {path: "x"})
    with pytest.raises(SettingsRefused) as refused:
        runtime_settings.change(settings, engine, "admin", {"sites[Milano]": {"name": "Milan"}})
    assert refused.value.problems[0][0] == "sites[Milano].name"


def test_report_logo_upload_is_kept_under_the_data_home(configured, home):
    settings, engine = configured
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    path = runtime_settings.store_report_logo(settings, engine, "admin", png)
    assert (home / path).read_bytes() == png
    assert load_settings().portal.report_logo == path
    with pytest.raises(SettingsRefused) as refused:
        runtime_settings.store_report_logo(settings, engine, "admin", b"GIF89a not a logo we print")
    assert refused.value.problems[0][0] == "portal.report_logo"


def test_an_unreadable_database_says_so(home, monkeypatch):
    monkeypatch.setenv("RINGLEDGER_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(ConfigError) as failed:
        load_settings()
    assert "secret" not in str(failed.value)
    assert "cannot read the settings stored there" in str(failed.value)


def test_reset_of_a_value_never_stored_changes_nothing(configured):
    settings, engine = configured
    assert runtime_settings.change(settings, engine, "admin", {"smtp.host": RESET}) == []
    assert runtime_settings.revision(engine) == 0
