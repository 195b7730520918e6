"""`ringledger schedules` from the command line: list, run what is due, run one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ringledger.cli import main
from tests.lock_data import staff, write_calls
from warehouse import mail, schedules
from warehouse.access import load_principal
from warehouse.schedules import ScheduleSpec

pytestmark = pytest.mark.app_databases


def test_schedules_list_run_due_and_run_one(settings, capsys):
    engine = staff(settings)
    write_calls(settings, [{"extension": "2001", "started_at": datetime.now(UTC) - timedelta(hours=1)}])
    item = schedules.save_schedule(
        settings,
        engine,
        load_principal(engine, "anna"),
        ScheduleSpec(
            kind="report",
            type="call_list",
            options='{"period": "last_7_days"}',
            recipients="anna@example.org",
            every=1,
            unit="weeks",
            start_local=datetime(2026, 1, 5, 7, 0),
            description="Anna's week",
        ),
    )
    assert main(["schedules", "list"]) == 0
    out = capsys.readouterr().out
    assert f"{item.id:>4}  report call_list" in out
    assert "every 1 weeks" in out
    assert "last never UTC: -" in out
    assert "Anna's week" in out
    assert main(["schedules", "run-due"]) == 0
    assert capsys.readouterr().out.strip() == "0 schedule(s) run"
    assert main(["schedules", "run", str(item.id)]) == 0
    assert capsys.readouterr().out.startswith("sent; Call list: 1 row")
    assert len(mail.outbox_files(settings)) == 1
    assert main(["schedules", "run", "999"]) == 2
    assert "schedules run 999: there is no schedule 999" in capsys.readouterr().err
