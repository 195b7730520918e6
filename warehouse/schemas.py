"""Arrow schemas of the raw lake datasets, so an empty dataset still has every column."""

from __future__ import annotations

import pyarrow as pa

from warehouse.cucm_format import CDR_FIELDS, CMR_FIELDS, field_type

_ARROW = {"BIGINT": pa.int64(), "VARCHAR": pa.string()}


def raw_schema(kind: str) -> pa.Schema:
    """The lake schema of raw CDR ('cdr') or CMR ('cmr') rows: Cisco's fields, then the source."""
    fields = CDR_FIELDS if kind == "cdr" else CMR_FIELDS
    cols = [pa.field(name, _ARROW[field_type(kind, name)]) for name, _ in fields]
    cols += [
        pa.field("source_file", pa.string()),
        pa.field("source_line", pa.int64()),
        pa.field("day", pa.date32()),
    ]
    return pa.schema(cols)


def empty_raw(kind: str) -> pa.Table:
    """An empty table with the raw schema of 'cdr' or 'cmr'."""
    return raw_schema(kind).empty_table()
