"""Classification and pricing inside the pipeline: every billable row carries a cost or the reason it has none."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

import warehouse
from tariffs.book import book_of
from tariffs.numbering import PHONENUMBERS_VERSION
from tariffs.own import read_plan
from tariffs.rating import quote
from tests.warehouse.company import make_company
from warehouse.config import load_settings
from warehouse.lake import Lake


@pytest.fixture
def company(home):
    """The Ravello company with one day of calls ingested."""
    return make_company(home)


def rows(settings, sql: str = "", params=None):
    con = warehouse.connect(settings)
    cur = con.execute(
        "SELECT call_id, extension, direction, billable, e164, nation, area, destination_type, operator, cost, "
        "currency, tariff_plan, rate_ref, plan_cost, plan_currency, duration_s FROM calls "
        + sql
        + " ORDER BY call_id, started_at",
        params or [],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def by_call(settings, n: int) -> list[dict]:
    return rows(settings, "WHERE call_id = ?", [f"Ravello:1:{n}"])


def test_every_billable_row_carries_a_cost_or_the_reason(company):
    billable = rows(company, "WHERE billable")
    assert len(billable) >= 13
    for r in billable:
        assert r["cost"] is not None or r["rate_ref"].startswith("unrated: "), r
        assert r["rate_ref"], r
    internal = rows(company, "WHERE direction = 'internal'")
    assert internal
    assert all(r["cost"] == 0 and r["rate_ref"] == "free: internal" for r in internal)


def test_costs_of_the_demo_company(company):
    local = by_call(company, 1)[0]
    assert (local["e164"], local["destination_type"], local["area"]) == ("+390212345678", "local", "Milan")
    # it-carrier 2025, IT local at peak: 0.062 connect + 96 s (30/6) at 0.009 a minute
    assert local["cost"] == Decimal("0.0764")
    assert local["currency"] == "EUR"
    assert local["rate_ref"] == "it-carrier@2025 IT local peak"
    assert (local["plan_cost"], local["plan_currency"], local["tariff_plan"]) == (
        Decimal("0.0764"),
        "EUR",
        "it-carrier",
    )
    tim = by_call(company, 2)[0]
    assert (tim["operator"], tim["destination_type"], tim["cost"]) == ("TIM", "mobile", Decimal("0.1918"))
    london = by_call(company, 6)[0]
    # uk-carrier, GB local, day band, per second: 120 s at 0.009 GBP = 0.018 GBP = 0.02106 EUR
    assert (london["plan_cost"], london["plan_currency"]) == (Decimal("0.018"), "GBP")
    assert (london["cost"], london["currency"]) == (Decimal("0.02106"), "EUR")
    ny = by_call(company, 7)[0]
    # us-carrier 6/6: 48 s at 0.009 USD = 0.0072 USD = 0.006624 EUR
    assert (ny["plan_cost"], ny["cost"], ny["destination_type"]) == (Decimal("0.0072"), Decimal("0.006624"), "local")


@pytest.mark.parametrize(
    ("call", "cost", "ref", "kind"),
    [
        (3, Decimal(0), "free: emergency (it-carrier@2025)", "emergency"),
        (4, Decimal(0), "free: toll_free (it-carrier@2025)", "toll_free"),
        (8, Decimal(0), "free: emergency (us-carrier@2025)", "emergency"),
        (9, None, "unrated: unknown destination", "unknown"),
        (10, None, "unrated: no tariff plan for gateway Old gateway", "local"),
        (13, Decimal(0), "it-carrier@2025 IT local peak", "local"),
    ],
)
def test_free_and_unrated_calls_say_why(company, call, cost, ref, kind):
    (r,) = by_call(company, call)
    assert (r["cost"], r["rate_ref"], r["destination_type"]) == (cost, ref, kind)


def test_incoming_calls_are_classified_and_cost_nothing(company):
    (r,) = by_call(company, 11)
    assert (r["direction"], r["e164"], r["cost"]) == ("incoming", "+390212345678", Decimal(0))
    assert r["rate_ref"] == "incoming: not charged (it-carrier@2025)"


def test_a_transferred_carrier_leg_is_priced_once_and_shared(company):
    first, second = by_call(company, 5)
    assert (first["extension"], second["extension"]) == ("2105", "2106")
    # the carrier kept the leg up 150 s (answer to final hang-up): priced once, shared by duration
    whole = quote(
        book_of([read_plan(company.tariffs_dir / "it-carrier")]),
        "it-carrier",
        "+390612345678",
        datetime.fromisoformat("2025-06-06T09:00:05+00:00"),
        150,
    )
    assert first["cost"] + second["cost"] == whole.cost == Decimal("0.1095")
    assert first["cost"] == (whole.cost * 60 / 150).quantize(Decimal("0.000001"), rounding="ROUND_FLOOR")
    assert first["rate_ref"] == "it-carrier@2025 IT national peak (60 of 150 s of a transferred carrier leg)"


def test_numbers_are_classified_once_and_cached(company):
    lake = Lake(company.lake_dir)
    files = lake.files("numbers")
    assert len(files) == 1
    cached = pq.read_table(files[0]).to_pylist()
    assert {r["pn_version"] for r in cached} == {PHONENUMBERS_VERSION}
    assert any(r["raw"] == "00212345678" and r["e164"] == "+390212345678" for r in cached)
    from warehouse.ingest import rebuild_days

    rebuild_days(company)
    assert lake.files("numbers") == files  # nothing new to classify


def test_a_new_phonenumbers_version_classifies_again(company):
    lake = Lake(company.lake_dir)
    (old,) = lake.files("numbers")
    table = pq.read_table(old)
    import pyarrow as pa

    stale = table.set_column(
        table.schema.get_field_index("pn_version"), "pn_version", pa.array(["0.0.1"] * table.num_rows)
    )
    pq.write_table(stale, old)
    from warehouse.ingest import rebuild_days

    rebuild_days(company)
    files = lake.files("numbers")
    assert len(files) == 2
    fresh = pq.read_table(files[-1])
    assert fresh.num_rows == table.num_rows
    assert set(fresh.column("pn_version").to_pylist()) == {PHONENUMBERS_VERSION}


def _change_uk_prices(settings, new_price: str) -> None:
    path = settings.tariffs_dir / "uk-carrier" / "rates-2025.csv"
    text = path.read_text()
    assert ",GB local,UK local (same area),day,0.009," in text
    path.write_text(
        text.replace(",GB local,UK local (same area),day,0.009,", f",GB local,UK local (same area),day,{new_price},")
    )


def test_a_tariff_change_finds_the_days_it_touches_and_rerate_shows_the_difference(company):
    from warehouse.rating import affected_days, rerate

    assert affected_days(company) == []
    _change_uk_prices(company, "0.018")
    assert affected_days(company) == [date(2025, 6, 6)]
    # a version that starts later touches nothing already priced
    diffs = {d.cost_centre: d for d in rerate(company, date(2025, 6, 6), date(2025, 6, 6))}
    assert diffs["CC-300"].before == Decimal("0.02106")
    assert diffs["CC-300"].after == Decimal("0.04212")
    assert diffs["CC-100"].change == 0
    assert affected_days(company) == []
    assert by_call(company, 6)[0]["cost"] == Decimal("0.04212")


def test_whatif_prices_under_another_plan_and_stores_nothing(company):
    from warehouse.rating import whatif

    before = rows(company)
    diffs, currency = whatif(company, "uk-carrier", date(2025, 6, 6), date(2025, 6, 6))
    assert currency == "GBP"
    by_cc = {d.cost_centre: d for d in diffs}
    assert by_cc["CC-300"].before == by_cc["CC-300"].after  # the London call was on uk-carrier already
    assert by_cc["CC-100"].after != by_cc["CC-100"].before
    assert rows(company) == before
    only_ny, _ = whatif(company, "it-carrier", date(2025, 6, 6), date(2025, 6, 6), gateways=["New York SIP"])
    assert {d.cost_centre for d in only_ny} == {"CC-400"}


def test_explain_a_stored_call(company):
    from warehouse.rating import explain_call

    results = explain_call(company, "Ravello:1:5")
    assert [row["extension"] for row, _ in results] == ["2105", "2106"]
    for row, ex in results:
        assert ex.cost == Decimal("0.1095")
        assert ex.matched == "IT national"
        assert ex.band == "peak"
        assert ex.billed_s == 150
        assert ex.version == "2025"
        assert row["cost"] in (Decimal("0.0438"), Decimal("0.0657"))
    with pytest.raises(ValueError, match="not found"):
        explain_call(company, "Ravello:1:999")


def test_the_commands(company, capsys):
    from ringledger.cli import main

    assert (
        main(
            [
                "tariff",
                "quote",
                "--plan",
                "it-carrier",
                "--number",
                "3351234567",
                "--at",
                "2025-06-06T10:00",
                "--duration",
                "61",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["cost"], out["matched"], out["band"]) == ("0.1918", "+39335", "")
    assert (
        main(
            [
                "tariff",
                "quote",
                "--plan",
                "it-carrier",
                "--number",
                "+390212345678",
                "--at",
                "2025-06-06T18:25",
                "--duration",
                "301",
                "--site",
                "Milano",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "matched: IT local" in text
    assert "band at answer: peak" in text
    assert "rounding:" in text
    assert main(["tariff", "classify", "--site", "New York", "--json", "912125551234", "9911"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [g["destination_type"] for g in got] == ["local", "emergency"]
    assert main(["tariff", "explain", "Ravello:1:5"]) == 0
    assert "transferred carrier leg" in capsys.readouterr().out
    assert (
        main(["tariff", "whatif", "--plan", "us-carrier", "--from", "2025-06-06", "--to", "2025-06-06", "--json"]) == 0
    )
    assert {d["cost_centre"] for d in json.loads(capsys.readouterr().out)} >= {"CC-100", "CC-300", "CC-400"}
    assert main(["rerate", "--from", "2025-06-06", "--to", "2025-06-06", "--json"]) == 0
    assert all(d["change"] == "0.000000" for d in json.loads(capsys.readouterr().out))
    assert (
        main(["tariff", "quote", "--plan", "nope", "--number", "1", "--at", "2025-06-06T10:00", "--duration", "1"]) == 2
    )
    assert "no tariff plan 'nope'" in capsys.readouterr().err


def test_the_demo_company_calls_all_carry_a_cost(home):
    from ringledger.demo import load_demo

    load_demo(home, legs=3000, days=3, seed=3, end=datetime.fromisoformat("2026-10-02T18:00:00+00:00"))
    settings = load_settings()
    con = warehouse.connect(settings)
    unpriced = con.execute("SELECT rate_ref, count(*) FROM calls WHERE billable AND cost IS NULL GROUP BY 1").fetchall()
    assert unpriced == []
    plans = dict(con.execute("SELECT tariff_plan, sum(cost) FROM calls WHERE billable GROUP BY 1").fetchall())
    assert set(plans) == {"it-carrier", "uk-carrier", "us-carrier"}
    assert all(total > 0 for total in plans.values())
    # the demo spans it-carrier's price change of 1 October 2026
    versions = {r[0] for r in con.execute(
        "SELECT split_part(split_part(rate_ref, ' ', 1), '@', 2) FROM calls "
        "WHERE tariff_plan = 'it-carrier' AND rate_ref LIKE 'it-carrier@%'"
    ).fetchall()}  # fmt: skip
    assert versions == {"2025", "2026-10"}
