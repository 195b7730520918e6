"""Write CUCM CDR files (the 129-column layout of a real cluster) with the legs a test describes."""

from __future__ import annotations

import csv
import io
import itertools
import uuid
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import SAMPLES

_TEMPLATE_FILE = SAMPLES / "denikond__CUCM_CDR__cdr_StandAloneCluster_02_202112131408_515359"
_LINES = _TEMPLATE_FILE.read_text().split("\n")
HEADER_LINES = _LINES[:2]
NAMES = next(csv.reader([_LINES[0]]))
TEMPLATE = dict(zip(NAMES, next(csv.reader([_LINES[2]])), strict=True))
_ids = itertools.count(1000)


def epoch(text: str) -> int:
    """'2025-06-06T08:00:00' (UTC) as CUCM's epoch seconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def leg(
    calling: str,
    called: str,
    orig_device: str,
    dest_device: str,
    start: str,
    seconds: int,
    *,
    ring: int = 5,
    call_id: int | None = None,
    orig_leg: int | None = None,
    dest_leg: int | None = None,
    answered: bool = True,
    **fields: str | int,
) -> dict[str, str]:
    """One CDR row: who called whom, through which devices, when (UTC) and for how long."""
    t0 = epoch(start)
    connect = t0 + ring if answered else 0
    end = (connect + seconds) if answered else t0 + ring
    row = dict(TEMPLATE)
    row.update(
        {
            "globalCallID_callManagerId": "1",
            "globalCallID_callId": str(call_id if call_id is not None else next(_ids)),
            "origLegCallIdentifier": str(orig_leg if orig_leg is not None else next(_ids) * 10),
            "destLegIdentifier": str(dest_leg if dest_leg is not None else next(_ids) * 10 + 1),
            "dateTimeOrigination": str(t0),
            "dateTimeConnect": str(connect),
            "dateTimeDisconnect": str(end),
            "duration": str(seconds if answered else 0),
            "callingPartyNumber": calling,
            "originalCalledPartyNumber": called,
            "finalCalledPartyNumber": called,
            "lastRedirectDn": called,
            "origDeviceName": orig_device,
            "destDeviceName": dest_device,
            "origSpan": "0",
            "destSpan": "0",
            "origCause_value": "16",
            "destCause_value": "0" if answered else "16",
            "origCallTerminationOnBehalfOf": "0",
            "destCallTerminationOnBehalfOf": "0",
            "lastRedirectRedirectReason": "0",
            "origCalledPartyRedirectReason": "0",
            "joinOnBehalfOf": "0",
            "huntPilotDN": "",
            "outpulsedCalledPartyNumber": "",
            "pkid": str(uuid.uuid4()),
            "globalCallId_ClusterID": "Ravello",
        }
    )
    for key, value in fields.items():
        if key not in row:
            raise KeyError(f"no CDR field {key!r}")
        row[key] = str(value)
    return row


def write_cdr(folder: Path, legs: list[dict[str, str]], seq: int = 1) -> Path:
    """A CDR file named as CUCM names them, holding the given legs."""
    folder.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    out.write(HEADER_LINES[0] + "\n" + HEADER_LINES[1] + "\n")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for row in legs:
        writer.writerow([row[n] for n in NAMES])
    path = folder / f"cdr_Ravello_01_202506060800_{seq}"
    path.write_text(out.getvalue())
    return path
