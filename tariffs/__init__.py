"""Numbering and rating: dialled digits to E.164 and destination classes, tariff plans and their prices.

Pure Python over phonenumbers, DuckDB, Arrow and Polars; nothing here imports the rest of Ringledger.
`numbering` reads numbers per site, `model` is the tariff model, `own`, `deck` and `cgrates` read
tariff files, `book` finds and lays plans out for SQL, `rating` prices and explains calls.
"""
