"""`ringledger ingest` killed with SIGKILL at random moments, then run again: the lake ends as after one clean run."""

from __future__ import annotations

import pytest

from bench import faults


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_ingest_killed_at_a_random_moment_ends_as_a_clean_run(demo_set, clean_ingest, tmp_path, seed):
    config, cdr = demo_set
    expected, seconds = clean_ingest
    run = faults.kill_run(tmp_path, config, [cdr], expected, seconds, seed)
    assert run.delays
    assert run.differences == []
    assert sum(len(rows) for rows in expected.values()) > 10_000
