"""The budget and mail pipelines: sensors fire on new calls, period boundaries and due retries; jobs run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from pipelines.defs.budgets.jobs import budget_evaluation_job, phone_lock_retry_job
from pipelines.defs.budgets.sensors import budget_after_ingest_sensor, budget_period_sensor, phone_lock_retry_sensor
from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.mail.jobs import mail_retry_job, mail_retry_sensor
from tests.lock_data import staff, write_calls
from tests.services import free_port
from warehouse import budgets, enforcement, mail, phonelock
from warehouse.access import load_principal
from warehouse.config import load_settings


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def resources(home):
    return {"ringledger": RingledgerResource(home=str(home))}


def sensor(fn, instance, resources, cursor=None):
    return fn(dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor))


def test_code_location_has_the_budget_and_mail_jobs_and_sensors():
    from pipelines.definitions import defs

    for name in ("budget_after_ingest_sensor", "budget_period_sensor", "phone_lock_retry_sensor", "mail_retry_sensor"):
        assert defs.resolve_sensor_def(name).default_status == dg.DefaultSensorStatus.RUNNING
    for name in ("budget_evaluation_job", "phone_lock_retry_job", "mail_retry_job"):
        assert defs.resolve_job_def(name)


def test_new_calls_trigger_an_evaluation_that_locks_the_phone(settings, instance, resources):
    engine = staff(settings)
    ctx = dg.build_sensor_context(instance=instance, resources=resources)
    assert isinstance(budget_after_ingest_sensor(ctx), dg.SkipReason)  # no budget yet
    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "anna", "weekly", "2")
    ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
    first = budget_after_ingest_sensor(ctx)
    assert isinstance(first, dg.RunRequest)
    ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
    assert isinstance(budget_after_ingest_sensor(ctx), dg.SkipReason)  # nothing changed
    call = {"extension": "2001", "started_at": datetime.now(UTC) - timedelta(minutes=1), "cost": Decimal("2.5")}
    write_calls(settings, [call])
    ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=ctx.cursor)
    second = budget_after_ingest_sensor(ctx)
    assert isinstance(second, dg.RunRequest)
    assert second.run_key != first.run_key
    assert budget_evaluation_job.execute_in_process(instance=instance, resources=resources).success
    assert phonelock.lock_state(engine, "2001").budget_locked


def test_period_boundary_triggers_the_evaluation_that_unlocks(settings, instance, resources):
    engine = staff(settings)
    budgets.assign_budget(settings, engine, load_principal(engine, "root"), "user", "anna", "monthly", "2")
    assert isinstance(sensor(budget_period_sensor, instance, resources), dg.RunRequest)  # never evaluated: due
    last_month = datetime.now(UTC) - timedelta(days=40)
    write_calls(settings, [{"extension": "2001", "started_at": last_month, "cost": Decimal("3")}])
    budgets.evaluate(settings, engine, now=last_month + timedelta(minutes=5))
    assert phonelock.lock_state(engine, "2001").budget_locked
    ctx = dg.build_sensor_context(instance=instance, resources=resources)
    assert isinstance(budget_period_sensor(ctx), dg.RunRequest)
    assert isinstance(sensor(budget_period_sensor, instance, resources, ctx.cursor), dg.SkipReason)
    assert budget_evaluation_job.execute_in_process(instance=instance, resources=resources).success
    assert not phonelock.lock_state(engine, "2001").locked
    assert isinstance(sensor(budget_period_sensor, instance, resources), dg.SkipReason)


def wait_until(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_due_mail_and_lock_retries_start_their_jobs(home, instance, resources):
    (home / "ringledger.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nsecurity = "none"\nretry_base_seconds = 1\n'
        f'[cucm]\naxl_url = "http://127.0.0.1:{free_port()}/axl/"\naxl_user = "axl"\nenforcement = "axl"\n'
        "retry_base_seconds = 1\naxl_timeout_seconds = 2\n"
    )
    settings = load_settings()
    engine = staff(settings)
    assert isinstance(sensor(mail_retry_sensor, instance, resources), dg.SkipReason)
    assert isinstance(sensor(phone_lock_retry_sensor, instance, resources), dg.SkipReason)
    row_id = mail.send(settings, engine, "anna@example.org", "Retry me", text="x")
    phonelock.set_user_lock(settings, engine, load_principal(engine, "anna"), True)
    wait_until(lambda: mail.due_count(engine) > 0)  # the one-second backoff runs out
    assert isinstance(sensor(mail_retry_sensor, instance, resources), dg.RunRequest)
    assert mail_retry_job.execute_in_process(instance=instance, resources=resources).success
    assert mail.message(engine, row_id).attempts == 2
    wait_until(lambda: enforcement.due_count(engine) > 0)
    assert isinstance(sensor(phone_lock_retry_sensor, instance, resources), dg.RunRequest)
    assert phone_lock_retry_job.execute_in_process(instance=instance, resources=resources).success
    assert enforcement.states(engine)["2001"].attempts == 2
