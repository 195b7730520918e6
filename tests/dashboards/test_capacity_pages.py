"""The portal's Options for the quality, capacity and incoming reports: their own options reach the report."""

from __future__ import annotations

from tests.dashboards.test_pages import captions, frame_text, page
from warehouse import appdb
from warehouse.reports.store import history


def test_erlang_b_options_reach_the_report(ravello):
    at = page(ravello, "app_pages/reports.py", "admin")
    at.button(key="cat_opt_erlang_b_sizing").click().run()
    at.number_input(key="opt_blocking_pct").set_value(2.0)
    at.number_input(key="opt_busy_days").set_value(1)
    at.button(key="opt_execute").click().run()
    assert not at.exception
    assert at.title[0].value == "Trunk sizing (Erlang B)"
    text = frame_text(at)
    assert "Milano PSTN" in text
    assert "2.0%" in text  # the blocking aimed for, in its column
    assert any("Blocking aimed for: 2.0%" in c for c in captions(at))
    saved = history(appdb.open_db(ravello), "admin")[0]
    assert (saved.report, saved.filters.blocking_pct, saved.filters.busy_days) == ("erlang_b_sizing", 2.0, 1)


def test_interval_and_answer_target_options(ravello):
    at = page(ravello, "app_pages/reports.py", "admin")
    at.button(key="cat_opt_concurrent_calls").click().run()
    at.selectbox(key="opt_interval").select("day")
    at.button(key="opt_execute").click().run()
    assert not at.exception
    assert any("Interval: Day" in c for c in captions(at))
    at = page(ravello, "app_pages/reports.py", "admin")
    at.button(key="cat_opt_answer_rate_by_extension").click().run()
    at.number_input(key="opt_answer_within_s").set_value(10)
    at.button(key="opt_execute").click().run()
    assert not at.exception
    assert "Answered within 10 s" in at.dataframe[-1].value.columns


def test_voice_quality_option_on_any_report(ravello):
    at = page(ravello, "app_pages/reports.py", "admin")
    at.button(key="cat_opt_call_list").click().run()
    # a call list takes none of the capacity options
    assert not [w for w in at.number_input if w.key == "opt_blocking_pct"]
    at.selectbox(key="opt_quality").select("poor")
    at.button(key="opt_execute").click().run()
    assert not at.exception
    assert any("Poor voice quality" in c for c in captions(at))
    # the Ravello calls have no CMRs: none is poor
    assert at.info[0].value == "No calls match these options."
