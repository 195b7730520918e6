"""The budget and mail pipelines: sensors fire on new calls, period boundaries and due retries; jobs run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from pipelines import definitions
from pipelines.defs.budgets import defs as budget_defs
from pipelines.defs.budgets.jobs import budget_evaluation_job, phone_lock_retry_job
from pipelines.defs.budgets.sensors import budget_after_ingest_sensor, budget_period_sensor, phone_lock_retry_sensor
from pipelines.defs.mail import defs as mail_defs
from pipelines.defs.mail.jobs import mail_retry_job, mail_retry_sensor
from tests.lock_data import staff, write_calls
from tests.services import free_port
from warehouse import budgets, mail, phonelock
from warehouse.access import load_principal
from warehouse.config import load_settings


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_domains_are_in_the_code_location_and_load():
    assert {"pipelines.defs.budgets", "pipelines.defs.mail"} <= set(definitions.DOMAINS)
    merged = dg.Definitions.merge(budget_defs, mail_defs)
    dg.Definitions.validate_loadable(merged)
    repo = merged.get_repository_def()
    assert {s.name for s in repo.sensor_defs} == {
        "budget_after_ingest_sensor",
        "budget_period_sensor",
        "phone_lock_retry_sensor",
        "mail_retry_sensor",
    }
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in repo.sensor_defs)


def test_new_calls_trigger_an_evaluation_that_locks_the_phone(settings, instance):
    engine = staff(settings)
    ctx = dg.build_sensor_context(instance=instance)
    assert isinstance(budget_after_ingest_sensor(ctx), dg.SkipReason)  # no budget yet
    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "anna", "weekly", "2")
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    first = budget_after_ingest_sensor(ctx)
    assert isinstance(first, dg.RunRequest)
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    assert isinstance(budget_after_ingest_sensor(ctx), dg.SkipReason)  # nothing changed
    write_calls(
        settings,
        [{"extension": "2001", "started_at": datetime.now(UTC) - timedelta(minutes=1), "cost": Decimal("2.5")}],
    )
    ctx = dg.build_sensor_context(instance=instance, cursor=ctx.cursor)
    second = budget_after_ingest_sensor(ctx)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key
    result = budget_evaluation_job.execute_in_process(instance=instance)
    assert result.success
    assert phonelock.lock_state(engine, "2001").budget_locked


def test_period_boundary_triggers_the_evaluation_that_unlocks(settings, instance):
    engine = staff(settings)
    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "anna", "monthly", "2")
    ctx = dg.build_sensor_context(instance=instance)
    assert isinstance(budget_period_sensor(ctx), dg.RunRequest)  # never evaluated: due now
    last_month = datetime.now(UTC) - timedelta(days=40)
    write_calls(settings, [{"extension": "2001", "started_at": last_month, "cost": Decimal("3")}])
    budgets.evaluate(settings, engine, now=last_month + timedelta(minutes=5))
    assert phonelock.lock_state(engine, "2001").budget_locked
    ctx = dg.build_sensor_context(instance=instance)
    request = budget_period_sensor(ctx)
    assert isinstance(request, dg.RunRequest)
    assert isinstance(
        budget_period_sensor(dg.build_sensor_context(instance=instance, cursor=ctx.cursor)), dg.SkipReason
    )
    assert budget_evaluation_job.execute_in_process(instance=instance).success
    assert not phonelock.lock_state(engine, "2001").locked
    assert isinstance(budget_period_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)


def test_due_mail_and_lock_retries_start_their_jobs(home, instance, monkeypatch):
    (home / "ringledger.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nretry_base_seconds = 1\n'
        f'[cucm]\naxl_url = "http://127.0.0.1:{free_port()}/axl/"\naxl_user = "axl"\nenforcement = "axl"\n'
        "retry_base_seconds = 1\naxl_timeout_seconds = 2\n"
    )
    settings = load_settings()
    engine = staff(settings)
    assert isinstance(mail_retry_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)
    assert isinstance(phone_lock_retry_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)
    row_id = mail.send(settings, engine, "anna@example.org", "Retry me", text="x")
    phonelock.set_user_lock(settings, engine, load_principal(engine, "anna"), True)
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    while (mail.due_count(engine) == 0) and datetime.now(UTC) < deadline:
        pass  # the one-second backoff runs out
    assert isinstance(mail_retry_sensor(dg.build_sensor_context(instance=instance)), dg.RunRequest)
    assert mail_retry_job.execute_in_process(instance=instance).success
    assert mail.message(engine, row_id).attempts == 2
    while phonelock.enforcement.due_count(engine) == 0 and datetime.now(UTC) < deadline:
        pass
    assert isinstance(phone_lock_retry_sensor(dg.build_sensor_context(instance=instance)), dg.RunRequest)
    assert phone_lock_retry_job.execute_in_process(instance=instance).success
    assert phonelock.enforcement.states(engine)["2001"].attempts == 2
