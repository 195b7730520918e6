"""Hostile values in report options and in the data a report shows: no injection, nothing runs on opening."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import openpyxl
import pypdf
import pytest

from tariffs.model import TariffError
from tariffs.own import read_plan
from tests.warehouse.reports.test_exports import admin, priced_result
from warehouse.reports import FilterError, Filters, export, list_reports, run_report
from warehouse.reports.fields import FIELDS

PAYLOADS = ["' or 1=1 --", "x') or ('1'='1", "%", "_", "\\", "'; drop view calls; --", "${zone}", "$limit"]
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "@SUM(1+1)*cmd|' /C calc'!A0", "<script>alert(1)</script>"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_report_filter_and_field_condition_takes_values_as_values(ravello, payload):
    viewer = admin(ravello)
    conditions = [{"field": f, "op": "contains", "value": payload} for f, d in FIELDS.items() if d.condition][:12]
    for report in list_reports():
        baseline = run_report(ravello, viewer, report.name, Filters(period="all"))
        for filters in (
            Filters(period="all", extensions=[payload], gateways=[payload], departments=[payload], numbers=[payload]),
            Filters(period="all", cost_centres=[payload], conditions=conditions),
        ):
            try:
                result = run_report(ravello, viewer, report.name, filters)
            except FilterError:
                continue
            assert len(result.rows) <= len(baseline.rows), report.name


def test_unknown_fields_operators_and_groupings_are_refused_by_name():
    for text in (
        '{"conditions": [{"field": "cost; drop", "op": "eq", "value": "1"}]}',
        '{"conditions": [{"field": "cost", "op": "or 1=1", "value": "1"}]}',
        '{"fields": ["started_at) from calls --"]}',
        '{"group_by": ["site, (select 1)"]}',
        '{"period": "all\' --"}',
    ):
        with pytest.raises(FilterError):
            Filters.from_json(text)


def hostile_result(settings):
    result = priced_result(settings, name="cost_by_department")
    text = [i for i, c in enumerate(result.columns) if c.kind == "text"]
    assert text
    rows = [list(r) for r in result.rows]
    for n, row in enumerate(rows):
        row[text[0]] = HOSTILE[n % len(HOSTILE)]
    return dataclasses.replace(result, rows=[tuple(r) for r in rows])


def test_exports_never_turn_a_name_into_a_formula_or_markup(ravello):
    result = hostile_result(ravello)
    csv_text = export(result, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK(" in csv_text
    assert "'@SUM(" in csv_text
    assert "\n=" not in csv_text
    assert ",=" not in csv_text

    book = openpyxl.load_workbook(io.BytesIO(export(result, "xlsx")))
    cells = [c for row in book.active.iter_rows() for c in row if isinstance(c.value, str) and c.value in HOSTILE]
    assert {c.value for c in cells} == set(HOSTILE)
    assert all(c.data_type == "s" for c in cells)  # text, never a formula

    pdf = pypdf.PdfReader(io.BytesIO(export(result, "pdf")))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "<script>alert(1)</script>" in text  # shown as the literal text it is
    assert "/JavaScript" not in str(pdf.trailer["/Root"])


def test_a_tariff_plan_cannot_read_a_rates_file_outside_its_folder(tmp_path):
    source = Path(__file__).resolve().parents[3] / "tariffs" / "demo" / "us-carrier"
    folder = tmp_path / "us-carrier"
    shutil.copytree(source, folder)
    plan = folder / "plan.toml"
    plan.write_text(plan.read_text().replace('rates = "rates.csv"', 'rates = "../../../../etc/passwd"'))
    if "etc/passwd" not in plan.read_text():
        plan.write_text(plan.read_text() + '\nrates = "../../../../etc/passwd"\n')
    with pytest.raises(TariffError, match="rates must name a CSV file next to plan.toml") as err:
        read_plan(folder)
    assert err.value.field is not None
    assert err.value.field.endswith("rates")
