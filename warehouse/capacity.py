"""Trunk sizing with Erlang B: the blocking a number of channels gives, and the channels a load needs.

Erlang B is the probability that a call finds every channel busy, for an offered traffic of A
erlangs (the mean number of calls in progress in the busy hour) on n channels, when blocked calls
are lost. It is computed with the recursion that stays exact for large n and A,

    B(0) = 1,    B(n) = A * B(n-1) / (n + A * B(n-1)),

rather than with the factorial formula, which overflows beyond a few dozen channels.
"""

from __future__ import annotations

import math

# No trunk group is larger than this; a load that would need more is reported as not sizeable.
MAX_CHANNELS = 100_000


def erlang_b(traffic: float, channels: int) -> float:
    """The blocking probability (0..1) of `channels` channels offered `traffic` erlangs."""
    if traffic < 0 or not math.isfinite(traffic):
        raise ValueError(f"traffic must be a finite number of erlangs >= 0, got {traffic!r}")
    if channels < 0:
        raise ValueError(f"channels must be >= 0, got {channels!r}")
    b = 1.0
    for n in range(1, channels + 1):
        b = traffic * b / (n + traffic * b)
    return b


def channels_for(traffic: float, blocking: float) -> int | None:
    """The fewest channels that carry `traffic` erlangs with a blocking of at most `blocking` (None: too many)."""
    if not 0 < blocking < 1:
        raise ValueError(f"the target blocking must be between 0 and 1 (exclusive), got {blocking!r}")
    if traffic < 0 or not math.isfinite(traffic):
        raise ValueError(f"traffic must be a finite number of erlangs >= 0, got {traffic!r}")
    if traffic == 0:
        return 0
    b, n = 1.0, 0
    while b > blocking:
        n += 1
        if n > MAX_CHANNELS:
            return None
        b = traffic * b / (n + traffic * b)
    return n


def size_gateways(rows: list[dict], blocking: float) -> list[dict]:
    """Add to each gateway's row the channels its busy-hour traffic needs and the blocking its channels give."""
    out = []
    for row in rows:
        traffic = float(row.get("busy_hour_erlangs") or 0.0)
        channels = row.get("channels")
        needed = channels_for(traffic, blocking)
        sized = dict(row)
        sized["target_blocking"] = blocking
        sized["channels_needed"] = needed
        sized["blocking"] = erlang_b(traffic, int(channels)) if channels is not None else None
        sized["spare_channels"] = int(channels) - needed if channels is not None and needed is not None else None
        out.append(sized)
    return out
