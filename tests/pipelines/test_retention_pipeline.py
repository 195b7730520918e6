"""The retention domain in Dagster: a nightly schedule that skips while nothing is to be removed, and the job."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.ingest.resources import RingledgerResource
from pipelines.defs.retention import defs
from pipelines.defs.retention.jobs import retention_job
from pipelines.defs.retention.schedules import retention_schedule
from tests.cdrs import utc
from warehouse import appdb, retention
from warehouse.audit import audit, query_audit
from warehouse.config import load_settings


def tick(home):
    return dg.build_schedule_context(
        scheduled_execution_time=utc(2026, 3, 5, 3, 40), resources={"ringledger": RingledgerResource(home=str(home))}
    )


def test_the_schedule_skips_while_retention_keeps_everything(home):
    result = retention_schedule(tick(home))
    assert isinstance(result, dg.SkipReason)
    assert "keeps everything" in result.skip_message


def test_the_schedule_runs_nightly_once_an_age_is_set(home):
    (home / "ringledger.toml").write_text("[retention]\naudit_days = 30\n")
    assert isinstance(retention_schedule(tick(home)), dg.RunRequest)
    bound = dg.Definitions.merge(defs, dg.Definitions(resources={"ringledger": RingledgerResource(home=str(home))}))
    schedule = bound.resolve_schedule_def("retention_schedule")
    assert schedule.cron_schedule == "40 3 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_job_removes_old_entries_and_audits_it(home):
    (home / "ringledger.toml").write_text("[retention]\naudit_days = 30\n")
    settings = load_settings()
    engine = appdb.open_db(settings)
    audit(engine, "someone", "login", "someone", at=utc(2020, 1, 1))
    result = retention_job.execute_in_process(resources={"ringledger": RingledgerResource(home=str(home))})
    assert result.success
    entries = query_audit(engine).entries
    assert [e.action for e in entries] == [retention.AUDIT_ACTION]
    assert entries[0].actor == "system:retention_job"


def test_the_code_location_has_the_retention_job_and_schedule():
    from pipelines.definitions import defs as location

    assert location.resolve_job_def("retention_job")
    assert location.resolve_schedule_def("retention_schedule")
