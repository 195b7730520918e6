"""Plotly charts and tables of report results, in the viewer's language."""

from __future__ import annotations

from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from warehouse.reports import ReportResult
from warehouse.reports.engine import format_value
from warehouse.reports.export import PALETTE


def _num(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


_ARABIC = range(0x0600, 0x0700)


def cell_text(text: str, tr) -> str:
    """A table cell's text, kept left to right when it has no right-to-left letters (numbers, dates).

    In an Arabic page the table draws text right to left, which would turn '00212345***' into
    '***00212345'; marks around such values keep them in their own order.
    """
    if not tr.rtl or not text or any(ord(ch) in _ARABIC for ch in text):
        return text
    return "\u200e" + text.replace("\u200f", "").replace("\u061c", "") + "\u200e"


def figure(result: ReportResult, kind: str | None = None, top: int | None = None, height: int = 360):
    """The chart of a grouping result (bars, stacked bars, line or pie), or None when there is nothing to draw."""
    measures = result.chart_measures()
    if not measures or not result.rows or not result.group_keys:
        return None
    chart = result.chart
    kind = kind or (chart.kind if chart else "bar")
    limit = top or (chart.top if chart else 15)
    rows = result.rows[-limit:] if result.kind == "trend" else result.rows[:limit]
    labels = [result.group_label(r) for r in rows]
    names = {c.key: c.label for c in result.columns}
    kinds = {c.key: c.kind for c in result.columns}
    fig = go.Figure()
    if kind == "pie":
        key = measures[0]
        values = [_num(r[result.index(key)]) or 0 for r in rows]
        text = [format_value(r[result.index(key)], kinds[key], result.tr, result.currency) for r in rows]
        fig.add_trace(
            go.Pie(
                labels=labels,
                values=values,
                text=text,
                hole=0.45,
                sort=False,
                marker={"colors": list(PALETTE) * 5},
                textinfo="percent",
                hovertemplate="%{label}: %{text}",
            )
        )
    else:
        stacked = kind in ("stacked", "line") and len(measures) > 1
        for n, key in enumerate(measures if stacked else measures[:1]):
            values = [_num(r[result.index(key)]) for r in rows]
            text = [format_value(r[result.index(key)], kinds[key], result.tr, result.currency) for r in rows]
            color = PALETTE[n % len(PALETTE)]
            if kind == "line":
                fig.add_trace(
                    go.Scatter(
                        x=labels,
                        y=values,
                        name=names[key],
                        mode="lines+markers",
                        line={"color": color},
                        hovertext=text,
                        hoverinfo="x+text+name",
                    )
                )
            else:
                fig.add_trace(
                    go.Bar(
                        x=labels, y=values, name=names[key], marker_color=color, hovertext=text, hoverinfo="x+text+name"
                    )
                )
        fig.update_layout(barmode="stack" if kind == "stacked" else "group")
        if len(measures) == 1 or not stacked:
            fig.update_layout(yaxis_title=names[measures[0]], showlegend=False)
        fig.update_xaxes(type="category")
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.2}
    )
    return fig


def table(result: ReportResult, with_totals: bool = True) -> pl.DataFrame:
    """The result as text formatted for the viewer's locale, with a totals row."""
    tr = result.tr
    data: dict[str, list[str]] = {}
    labels = []
    for c in result.columns:
        label = c.label
        while label in data:
            label += " "
        labels.append(label)
        data[label] = [
            cell_text(format_value(r[result.index(c.key)], c.kind, tr, result.currency), tr) for r in result.rows
        ]
    if with_totals and result.totals and result.rows:
        for i, (c, label) in enumerate(zip(result.columns, labels, strict=True)):
            if i == 0:
                data[label].append(tr.gettext("Total"))
            elif c.key in result.totals:
                data[label].append(cell_text(format_value(result.totals[c.key], c.kind, tr, result.currency), tr))
            else:
                data[label].append("")
    return pl.DataFrame(data, schema={k: pl.String for k in data})
