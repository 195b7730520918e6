"""Call quality reports on crafted calls: averages and distributions by gateway, site, device and department;
the worst calls; quality filters in any report; the dashboard widget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dashboards.widgets import WIDGETS
from tests.calls_lake import leg, write_calls
from warehouse.access import Principal
from warehouse.reports import Filters, get, run_report

ADMIN = Principal("admin", role="administrator", time_zone="UTC", language="en", assignments=())
T0 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PEOPLE = [("anna", "Anna Neri", "Support", "5101"), ("bruno", "Bruno Verdi", "Sales", "5102")]


def measured(minute: int, ext: str, device: str, gateway: str | None, site: str, mos, jitter, latency, loss):
    start = T0 + timedelta(minutes=minute)
    return leg(
        start,
        start + timedelta(seconds=120),
        start + timedelta(seconds=5),
        direction="outgoing" if gateway else "internal",
        leg_role="caller",
        extension=ext,
        device=device,
        gateway=gateway,
        site=site,
        other_number="0212345678" if gateway else "5102",
        mos=mos,
        jitter_ms=jitter,
        latency_ms=latency,
        packet_loss_pct=loss,
    )


LEGS = [
    # New York trunk: MOS 4.4, 3.0 and 2.5 from desk phones; a soft client reports no MOS but 3 % loss
    measured(0, "5101", "SEPAAA", "NY trunk", "New York", 4.4, 2, 10, 0.0),
    measured(1, "5101", "SEPAAA", "NY trunk", "New York", 3.0, 30, 120, 0.5),
    measured(2, "5102", "SEPBBB", "NY trunk", "New York", 2.5, 50, 200, 2.0),
    measured(3, "5102", "CSFBRUNO", "NY trunk", "New York", None, 10, 40, 3.0),
    # Milano gateway: one good call
    measured(4, "5101", "SEPAAA", "Milano PSTN", "Milano", 4.3, 3, 5, 0.1),
    # no CMR: not measured
    measured(5, "5101", "SEPAAA", "Milano PSTN", "Milano", None, None, None, None),
]


@pytest.fixture
def lake(settings):
    write_calls(settings, LEGS, PEOPLE)
    return settings


DAY = Filters(period="custom", date_from=date(2026, 3, 3), date_to=date(2026, 3, 3), time_zone="UTC")


def test_quality_by_gateway_averages_and_distribution(lake):
    by_gateway = {r["g1"]: r for r in run_report(lake, ADMIN, "quality_by_gateway", DAY).records()}
    ny = by_gateway["NY trunk"]
    assert ny["calls"] == 4
    assert ny["avg_mos"] == pytest.approx((4.4 + 3.0 + 2.5) / 3)
    assert ny["min_mos"] == pytest.approx(2.5)
    assert ny["low_mos_share"] == pytest.approx(2 / 3)  # of the three calls with a MOS
    assert ny["avg_jitter_ms"] == pytest.approx(23)
    # 95th percentile of 2, 10, 30, 50 (interpolated: position 0.95 x 3 = 2.85)
    assert ny["p95_jitter_ms"] == pytest.approx(30 + 0.85 * 20)
    assert ny["p95_latency_ms"] == pytest.approx(120 + 0.85 * 80)
    assert ny["avg_loss_pct"] == pytest.approx(5.5 / 4)
    assert ny["p95_loss_pct"] == pytest.approx(2.0 + 0.85 * 1.0)
    assert ny["poor"] == 3  # MOS 3.0, MOS 2.5, and 3 % loss
    assert ny["poor_share"] == pytest.approx(0.75)
    milano = by_gateway["Milano PSTN"]
    assert (milano["calls"], milano["poor"]) == (1, 0)  # the call without a CMR is not measured


def test_quality_by_site_device_and_department(lake):
    sites = {r["g1"]: r["calls"] for r in run_report(lake, ADMIN, "quality_by_site", DAY).records()}
    assert sites == {"New York": 4, "Milano": 1}
    devices = {r["g1"]: (r["g1_extra"], r["poor"]) for r in run_report(lake, ADMIN, "quality_by_device", DAY).records()}
    assert devices == {"SEPAAA": ("5101", 1), "SEPBBB": ("5102", 1), "CSFBRUNO": ("5102", 1)}
    departments = run_report(lake, ADMIN, "quality_by_department", DAY).records()
    assert {r["g1"]: (r["calls"], r["poor"]) for r in departments} == {"Support": (3, 1), "Sales": (2, 2)}


def test_the_worst_calls_first(lake):
    report = get("poor_quality_calls")
    result = run_report(
        lake, ADMIN, "poor_quality_calls", report.defaults.merged(**DAY.model_dump(exclude_defaults=True))
    )
    rows = result.records()
    # poor calls only; lowest MOS first, then the soft client's call that has no MOS, by its loss
    assert [(r["mos"], r["packet_loss_pct"]) for r in rows] == [(2.5, 2.0), (3.0, 0.5), (None, 3.0)]
    assert {"mos", "jitter_ms", "latency_ms", "packet_loss_pct", "device"} <= {c.key for c in result.columns}


def test_quality_filters_and_columns_in_any_call_report(lake):
    fields = ["started_at", "extension", "gateway", "mos", "jitter_ms", "latency_ms", "packet_loss_pct"]
    poor = run_report(lake, ADMIN, "call_list", DAY.merged(quality="poor", fields=fields))
    assert sorted(r["packet_loss_pct"] for r in poor.records()) == [0.5, 2.0, 3.0]
    assert "Poor voice quality" in poor.description
    good = run_report(lake, ADMIN, "call_list", DAY.merged(quality="good", fields=fields))
    assert sorted(r["mos"] for r in good.records()) == [4.3, 4.4]
    measured_calls = run_report(lake, ADMIN, "cost_by_gateway", DAY.merged(quality="measured"))
    assert {r["g1"]: r["calls"] for r in measured_calls.records()} == {"NY trunk": 4, "Milano PSTN": 1}
    lossy = run_report(
        lake,
        ADMIN,
        "call_list",
        DAY.merged(conditions=[{"field": "packet_loss_pct", "op": "ge", "value": "2"}], fields=fields),
    )
    assert sorted(r["packet_loss_pct"] for r in lossy.records()) == [2.0, 3.0]
    jittery = run_report(
        lake,
        ADMIN,
        "call_status_by_department",
        DAY.merged(conditions=[{"field": "jitter_ms", "op": "gt", "value": "20"}]),
    )
    assert {r["g1"]: r["calls"] for r in jittery.records()} == {"Support": 1, "Sales": 1}


def test_poor_quality_widget_ranks_gateways_by_poor_calls(lake):
    widget = WIDGETS["poor_quality_by_gateway"]
    assert widget.report == "quality_by_gateway"
    assert widget.sort_by == "poor"
    result = run_report(lake, ADMIN, widget.report, widget.filters.merged(**DAY.model_dump(exclude_defaults=True)))
    ranked = sorted(result.records(), key=lambda r: r[widget.sort_by], reverse=True)
    assert [(r["g1"], r["poor"]) for r in ranked] == [("NY trunk", 3), ("Milano PSTN", 0)]


def test_percentiles_and_averages_equal_duckdbs_over_every_call(settings):
    """Many calls with repeated and missing values: the report's figures, read from how many calls had
    each value, are DuckDB's quantile_cont and avg over the calls themselves."""
    import random

    import warehouse

    rng = random.Random(7)
    legs = []
    for n in range(400):
        # a device moves from 5101 to 5102 halfway: its extension is the one of its latest call
        device = rng.choice(["SEPAAA", "SEPBBB", "CSFCCC"])
        ext = "5102" if device == "SEPAAA" and n >= 200 else rng.choice(["5101", "5102"])
        gateway = rng.choice(["NY trunk", "Milano PSTN"])
        legs.append(
            measured(
                n,
                ext,
                device,
                gateway,
                "New York",
                rng.choice([None, round(rng.uniform(1.0, 4.5), 2)]),
                rng.choice([None, rng.randint(0, 60)]),
                rng.choice([None, rng.randint(0, 40) * 5]),
                rng.choice([None, 0.0, 0.0, round(rng.uniform(0, 5), 1)]),
            )
        )
    write_calls(settings, legs, PEOPLE)
    window = Filters(period="custom", date_from=date(2026, 3, 3), date_to=date(2026, 3, 4), time_zone="UTC")
    con = warehouse.connect(settings)
    for report, column, extra in (
        ("quality_by_device", "device", "arg_max(extension, started_at)"),
        ("quality_by_gateway", "gateway", "null"),
    ):
        expected = {
            row[0]: row[1:]
            for row in con.execute(
                f"""
                select {column}, {extra}, count(*), avg(mos), min(mos), avg(jitter_ms),
                       quantile_cont(jitter_ms, 0.95), avg(latency_ms), quantile_cont(latency_ms, 0.95),
                       avg(packet_loss_pct), quantile_cont(packet_loss_pct, 0.95)
                from calls
                where mos is not null or jitter_ms is not null or latency_ms is not null or packet_loss_pct is not null
                group by 1
                """
            ).fetchall()
        }
        rows = run_report(settings, ADMIN, report, window).records()
        assert len(rows) == len(expected) > 1
        for r in rows:
            name, *numbers = expected[r["g1"]]
            assert r.get("g1_extra") == name
            figures = [r[k] for k in ("calls", "avg_mos", "min_mos", "avg_jitter_ms", "p95_jitter_ms")]
            figures += [r[k] for k in ("avg_latency_ms", "p95_latency_ms", "avg_loss_pct", "p95_loss_pct")]
            assert figures == pytest.approx(numbers, rel=1e-9), r["g1"]
    devices = {r["g1"]: r["g1_extra"] for r in run_report(settings, ADMIN, "quality_by_device", window).records()}
    assert devices["SEPAAA"] == "5102"
