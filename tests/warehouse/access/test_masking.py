"""Outside numbers are masked by role wherever a person sees them; full numbers only by an audited request."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from tests.ldapserver import SITES_TOML
from tests.warehouse.access.conftest import configure
from warehouse import appdb
from warehouse.access import NUMBER_COLUMNS, Assignment, Principal, is_internal_number, mask_result
from warehouse.audit import query_audit

USER = Principal("ann", assignments=(Assignment("1801"),))
ADMIN = Principal("root", role="administrator")

ROWS = [
    {
        "direction": "outgoing",
        "extension": "1801",
        "other_number": "00390212345678",
        "calling_number": "1801",
        "e164": "+390212345678",
        "original_called_number": "00390212345678",
        "final_called_number": "00390212345678",
        "outpulsed_number": "0390212345678",
        "cost": 1,
    },
    {
        "direction": "internal",
        "extension": "1801",
        "other_number": "1899",
        "calling_number": "1801",
        "e164": None,
        "original_called_number": "1899",
        "final_called_number": "1899",
        "outpulsed_number": None,
        "cost": 0,
    },
    {
        "direction": "incoming",
        "extension": "1801",
        "other_number": "+41 44 668 1999",
        "calling_number": "+41 44 668 1999",
        "e164": "+41446681999",
        "original_called_number": "1801",
        "final_called_number": "1801",
        "outpulsed_number": None,
        "cost": 0,
    },
]


def test_every_number_column_of_an_outside_party_is_masked_by_the_users_digits(sites):
    masked = mask_result(sites, USER, ROWS)
    assert masked[0]["other_number"] == "00390212345***"
    assert masked[0]["e164"] == "+390212345***"
    assert masked[0]["original_called_number"] == "00390212345***"
    assert masked[0]["final_called_number"] == "00390212345***"
    assert masked[0]["outpulsed_number"] == "0390212345***"
    assert masked[0]["calling_number"] == "1801"  # the person's own extension
    assert masked[2]["other_number"] == "+41 44 668 1***"  # the spacing is kept
    assert ROWS[0]["other_number"] == "00390212345678"  # the input is not changed


def test_internal_extensions_are_not_masked(sites):
    masked = mask_result(sites, USER, ROWS)
    assert masked[1]["other_number"] == "1899"
    assert masked[1]["final_called_number"] == "1899"
    assert masked[2]["final_called_number"] == "1801"
    assert is_internal_number(sites, "2050")
    assert not is_internal_number(sites, "2150")  # outside MIL's 2000-2099


def test_digits_per_role_come_from_the_configuration(home):
    settings = configure(
        home, SITES_TOML + "\n[privacy]\nmask_digits = {user = 5, supervisor = 2, administrator = 4}\n"
    )
    assert mask_result(settings, USER, ROWS)[0]["other_number"] == "003902123*****"
    boss = Principal("max", role="supervisor")
    assert mask_result(settings, boss, ROWS)[0]["other_number"] == "003902123456**"
    assert mask_result(settings, ADMIN, ROWS)[0]["other_number"] == "0039021234****"


def test_a_role_configured_with_zero_digits_sees_full_numbers(home):
    settings = configure(home, SITES_TOML + "\n[privacy]\nmask_digits = {user = 0}\n")
    assert mask_result(settings, USER, ROWS)[0]["other_number"] == "00390212345678"


def test_arrow_polars_and_pandas_results_are_masked_alike(sites):
    table = pa.Table.from_pylist(ROWS)
    masked = mask_result(sites, USER, table)
    assert isinstance(masked, pa.Table)
    assert masked.schema == table.schema
    assert masked.column("other_number").to_pylist() == ["00390212345***", "1899", "+41 44 668 1***"]
    frame = mask_result(sites, USER, pl.DataFrame(table))
    assert isinstance(frame, pl.DataFrame)
    assert frame["e164"].to_list() == ["+390212345***", None, "+41446681***"]
    import pandas as pd

    pdf = mask_result(sites, USER, pd.DataFrame(ROWS))
    assert list(pdf["other_number"]) == ["00390212345***", "1899", "+41 44 668 1***"]


def test_columns_of_a_report_can_be_named(sites):
    rows = [{"number": "00390212345678", "calls": 3}]
    assert mask_result(sites, USER, rows, columns=["number"])[0]["number"] == "00390212345***"


def test_administrators_see_full_numbers_only_by_asking_and_it_is_audited(sites):
    engine = appdb.open_db(sites)
    assert mask_result(sites, ADMIN, ROWS)[0]["other_number"] == "00390212345***"
    full = mask_result(sites, ADMIN, pa.Table.from_pylist(ROWS), unmask=True, engine=engine, what="Call list, March")
    assert full.column("other_number").to_pylist()[0] == "00390212345678"
    entry = query_audit(engine, action="numbers.unmasked").entries[0]
    assert (entry.actor, entry.target) == ("root", "Call list, March")
    assert entry.detail_data == {"rows": 3, "columns": list(NUMBER_COLUMNS)}


def test_only_administrators_may_unmask_and_never_without_the_audit(sites):
    engine = appdb.open_db(sites)
    with pytest.raises(PermissionError):
        mask_result(sites, USER, ROWS, unmask=True, engine=engine)
    with pytest.raises(ValueError, match="audited"):
        mask_result(sites, ADMIN, ROWS, unmask=True)
    assert query_audit(engine, action="numbers.unmasked").total == 0
