"""Fixtures of the reliability tests: the demo company's CDR files and one clean ingest of them."""

from __future__ import annotations

import pytest

from bench import faults

# Small enough for `make test`; `python -m bench.soak` uses a larger set.
LEGS = 5000


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory):
    """(config, cdr folder) of a one-day demo feed in one-minute files."""
    out = tmp_path_factory.mktemp("demo")
    cdr = faults.demo_files(out, legs=LEGS, days=1)
    return out / "ringledger.toml", cdr


@pytest.fixture(scope="session")
def clean_ingest(demo_set, tmp_path_factory):
    """(snapshot, seconds) of one uninterrupted ingest of the demo set."""
    config, cdr = demo_set
    return faults.clean_run(tmp_path_factory.mktemp("clean"), config, [cdr])
