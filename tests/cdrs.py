"""Crafted CUCM CDR files for tests: a few calls with chosen numbers, devices and times.

`cdr_file(dir, calls)` writes a file in CUCM's flat-file format (header of names, header of types,
then one quoted CSV line per leg) that `warehouse.ingest` loads like a real one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warehouse.cucm_format import CDR_FIELDS

_ids = itertools.count(1000)


@dataclass
class Leg:
    """One call leg: who called whom, from which device to which, when, and for how long."""

    calling: str
    called: str
    start: datetime
    seconds: int = 60
    ring: int = 5
    orig_device: str = "SEP000000000001"
    dest_device: str = "GW-ZRH-1"
    answered: bool = True


def _value(name: str, typ: str, values: dict) -> str:
    if name in values:
        v = values[name]
        return str(v) if typ == "INTEGER" else f'"{v}"'
    return "0" if typ == "INTEGER" else '""'


def cdr_file(directory: Path, legs: list[Leg], *, seq: int | None = None) -> Path:
    """Write the legs as one CDR file in `directory`; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        ",".join(f'"{n}"' for n, _ in CDR_FIELDS),
        ",".join(f'"{t}"' for _, t in CDR_FIELDS),
    ]
    first = min(leg.start for leg in legs)
    for leg in legs:
        call_id = next(_ids)
        origin = int(leg.start.astimezone(UTC).timestamp())
        connect = origin + leg.ring if leg.answered else 0
        end = (connect or origin + leg.ring) + (leg.seconds if leg.answered else 0)
        external_dest = leg.dest_device.upper().startswith("GW-")
        external_orig = leg.orig_device.upper().startswith("GW-")
        values = {
            "cdrRecordType": 1,
            "globalCallID_callManagerId": 1,
            "globalCallID_callId": call_id,
            "origLegCallIdentifier": call_id * 10 + 1,
            "destLegIdentifier": call_id * 10 + 2,
            "dateTimeOrigination": origin,
            "origNodeId": 1,
            "origSpan": 1 if external_orig else 0,
            "destSpan": 1 if external_dest else 0,
            "callingPartyNumber": leg.calling,
            "originalCalledPartyNumber": leg.called,
            "finalCalledPartyNumber": leg.called,
            "dateTimeConnect": connect,
            "dateTimeDisconnect": end,
            "pkid": f"00000000-0000-0000-0000-{call_id:012d}",
            "duration": leg.seconds if leg.answered else 0,
            "origDeviceName": leg.orig_device,
            "destDeviceName": leg.dest_device,
            "destCause_value": 16,
            "globalCallId_ClusterID": "TestCluster",
        }
        lines.append(",".join(_value(n, t, values) for n, t in CDR_FIELDS))
    stamp = first.astimezone(UTC).strftime("%Y%m%d%H%M")
    path = directory / f"cdr_TestCluster_01_{stamp}_{seq if seq is not None else next(_ids)}"
    path.write_text("\n".join(lines) + "\n")
    return path


def utc(*args: int) -> datetime:
    """A UTC time: utc(2026, 3, 3, 9, 0)."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
