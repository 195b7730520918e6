"""Erlang B: the blocking of n channels at A erlangs, and the channels a load needs, against the standard table."""

from __future__ import annotations

import math

import pytest

from warehouse.capacity import channels_for, erlang_b, size_gateways


def erlang_b_by_factorials(traffic: float, channels: int) -> float:
    """The textbook formula, (A^N / N!) / sum(A^k / k!), computed independently (small N only)."""
    top = traffic**channels / math.factorial(channels)
    return top / sum(traffic**k / math.factorial(k) for k in range(channels + 1))


@pytest.mark.parametrize(
    ("traffic", "channels", "blocking"),
    # the standard Erlang B table (offered traffic in erlangs that N channels carry at a blocking of P)
    [
        (9.650, 17, 0.01),
        (10.437, 18, 0.01),
        (5.084, 10, 0.02),
        (5.842, 11, 0.02),
        (2.501, 7, 0.01),
        (1.909, 6, 0.01),
    ],
)
def test_blocking_matches_the_erlang_b_table(traffic, channels, blocking):
    assert erlang_b(traffic, channels) == pytest.approx(blocking, rel=2e-3)


def test_channels_needed_match_the_table():
    # table: 17 channels carry 9.65 Erl at 1 %, 18 carry 10.44 Erl, so 10 Erl need 18
    assert channels_for(10, 0.01) == 18
    # table: 10 channels carry 5.08 Erl at 2 %, so 5 Erl need 10 (B(10) = 1.84 %), and 11 would be one too many
    assert channels_for(5, 0.02) == 10
    assert erlang_b(5, 10) == pytest.approx(0.018385, abs=1e-6)
    assert erlang_b(5, 9) > 0.02


@pytest.mark.parametrize(("traffic", "channels"), [(0.5, 1), (2.0, 3), (7.3, 12), (30.0, 40)])
def test_recursion_agrees_with_the_factorial_formula(traffic, channels):
    assert erlang_b(traffic, channels) == pytest.approx(erlang_b_by_factorials(traffic, channels), rel=1e-12)


def test_large_trunk_groups_stay_exact():
    # the factorial formula overflows here; the recursion does not
    b = erlang_b(1000.0, 1050)
    assert 0 < b < 0.05
    needed = channels_for(1000.0, 0.01)
    assert needed is not None
    assert erlang_b(1000.0, needed) <= 0.01 < erlang_b(1000.0, needed - 1)


def test_edges_and_bad_input():
    assert erlang_b(3.0, 0) == 1.0  # no channel: every call is blocked
    assert channels_for(0.0, 0.01) == 0
    with pytest.raises(ValueError, match="blocking"):
        channels_for(1.0, 0)
    with pytest.raises(ValueError, match="traffic"):
        erlang_b(-1.0, 3)
    with pytest.raises(ValueError, match="channels"):
        erlang_b(1.0, -3)


def test_size_gateways_adds_needed_channels_and_blocking():
    rows = size_gateways(
        [{"gateway": "A", "channels": 3, "busy_hour_erlangs": 2.0}, {"gateway": "B", "channels": None}], 0.01
    )
    assert rows[0]["channels_needed"] == 7  # table: 6 channels carry 1.91 Erl at 1 %, 7 carry 2.50
    # B(3, 2) = (8/6) / (1 + 2 + 2 + 8/6) = 4/19, by hand
    assert rows[0]["blocking"] == pytest.approx(4 / 19)
    assert rows[0]["spare_channels"] == -4
    assert rows[0]["target_blocking"] == 0.01
    assert rows[1]["channels_needed"] == 0
    assert rows[1]["blocking"] is None
