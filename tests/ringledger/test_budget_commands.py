"""`ringledger budgets` and `ringledger mail` from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ringledger.cli import main
from tests.lock_data import staff, write_calls
from warehouse import budgets, mail
from warehouse.access import load_principal

pytestmark = pytest.mark.app_databases


def test_budgets_evaluate_and_list(settings, capsys):
    engine = staff(settings)
    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "anna", "monthly", "1")
    write_calls(
        settings, [{"extension": "2001", "started_at": datetime.now(UTC) - timedelta(minutes=1), "cost": Decimal("2")}]
    )
    assert main(["budgets", "evaluate"]) == 0
    assert "locked: 2001" in capsys.readouterr().out
    assert main(["budgets", "list"]) == 0
    out = capsys.readouterr().out
    assert "user:anna  monthly" in out
    assert "spent 2 of 1 EUR (200%)  locked 2001" in out


def test_mail_test_writes_to_the_outbox_and_the_log_shows_it(settings, capsys):
    assert main(["mail", "test", "anna@example.org"]) == 0
    assert capsys.readouterr().out.startswith("sent: ")
    assert len(mail.outbox_files(settings)) == 1
    assert main(["mail", "log"]) == 0
    assert "anna@example.org  Ringledger test message" in capsys.readouterr().out
    assert main(["mail", "test", "nobody"]) == 2
    assert "is not a mail address" in capsys.readouterr().err
