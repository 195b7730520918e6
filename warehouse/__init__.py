"""Ringledger's data layer: the lake, its views, the app database and the query functions."""

from warehouse.views import connect

__all__ = ["connect"]
