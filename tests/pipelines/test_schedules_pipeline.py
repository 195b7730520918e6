"""The scheduled-mail sensor and job: a due schedule starts one run; a long stop is caught up once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.schedules.jobs import scheduled_mail_job
from pipelines.defs.schedules.sensors import scheduled_mail_sensor
from tests.lock_data import staff, write_calls
from warehouse import mail, schedules
from warehouse.access import load_principal
from warehouse.schedules import ScheduleSpec


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def resources(home):
    return {"ringledger": RingledgerResource(home=str(home))}


def tick(instance, resources):
    return scheduled_mail_sensor(dg.build_sensor_context(instance=instance, resources=resources))


def test_the_code_location_runs_the_scheduled_mail_sensor():
    from pipelines.definitions import defs

    assert defs.resolve_sensor_def("scheduled_mail_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_job_def("scheduled_mail_job")


def test_a_due_schedule_starts_one_run_and_a_long_stop_is_caught_up_once(settings, instance, resources):
    engine = staff(settings)
    write_calls(settings, [{"extension": "2001", "started_at": datetime.now(UTC) - timedelta(hours=1)}])
    assert isinstance(tick(instance, resources), dg.SkipReason)
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
            unit="days",
            start_local=datetime(2026, 1, 1, 6, 0),
        ),
    )
    assert isinstance(tick(instance, resources), dg.SkipReason)  # its first run is still to come
    with engine.begin() as conn:  # the pipelines were stopped for ten days
        conn.execute(schedules.schedule.update().values(next_run_at=datetime.now(UTC) - timedelta(days=10)))
    first = tick(instance, resources)
    assert isinstance(first, dg.RunRequest)
    assert tick(instance, resources).run_key == first.run_key  # the same due run, not a second one
    assert scheduled_mail_job.execute_in_process(instance=instance, resources=resources).success
    assert len(mail.outbox_files(settings)) == 1  # once, not ten times
    assert isinstance(tick(instance, resources), dg.SkipReason)
    stored = schedules.get_schedule(engine, item.id)
    assert stored.last_status == schedules.SENT
    assert stored.next_run_at > datetime.now(UTC)
    assert scheduled_mail_job.execute_in_process(instance=instance, resources=resources).success
    assert len(mail.outbox_files(settings)) == 1
