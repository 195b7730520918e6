"""The report engine: catalogue, options, queries and exports, shared by portal, CLI and mail.

from warehouse.reports import Filters, run_report, export
result = run_report(settings, principal, "cost_by_department", Filters(period="last_month"))
data = export(result, "xlsx")          # or "pdf", "csv"
"""

from warehouse.reports.catalogue import CATEGORIES, Category, Chart, Measure, ReportDef, get, register
from warehouse.reports.catalogue import catalogue as list_reports
from warehouse.reports.engine import Column, ReportResult, run_report
from warehouse.reports.export import FORMATS, export
from warehouse.reports.filters import Condition, FilterError, Filters

__all__ = [
    "CATEGORIES",
    "FORMATS",
    "Category",
    "Chart",
    "Column",
    "Condition",
    "FilterError",
    "Filters",
    "Measure",
    "ReportDef",
    "ReportResult",
    "export",
    "get",
    "list_reports",
    "register",
    "run_report",
]
