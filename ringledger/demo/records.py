"""CDR and CMR lines exactly as CUCM 14 writes them: 133 and 48 columns, two header lines.

Each line is one `%` format over a template built once from `warehouse.cucm_format`: fields that
never vary in the demo are baked into the template, the rest are read from a record object with
one `operator.attrgetter` call. That keeps the hot loop free of per-field Python formatting.
INTEGER fields are unquoted, VARCHAR and UNIQUEIDENTIFIER fields quoted ("" when empty), empty
CMR integers are bare empty fields.
"""

from __future__ import annotations

from operator import attrgetter

from ringledger.demo.company import CLUSTER
from warehouse.cucm_format import CDR_FIELDS, CMR_FIELDS

# Cisco field -> attribute of Leg; fields not listed keep the constant below (or 0 / "").
CDR_SLOTS = {
    "globalCallID_callManagerId": "cmid",
    "globalCallID_callId": "call_id",
    "origLegCallIdentifier": "oleg",
    "dateTimeOrigination": "t0",
    "origNodeId": "onode",
    "origSpan": "ospan",
    "origIpAddr": "oip_int",
    "callingPartyNumber": "calling",
    "callingPartyUnicodeLoginUserID": "calling_user",
    "origCause_value": "ocause",
    "origMediaTransportAddress_IP": "omedia_ip",
    "origMediaTransportAddress_Port": "omedia_port",
    "origMediaCap_payloadCapability": "ocodec",
    "origMediaCap_maxFramesPerPacket": "oframes",
    "destLegIdentifier": "dleg",
    "destNodeId": "dnode",
    "destSpan": "dspan",
    "destIpAddr": "dip_int",
    "originalCalledPartyNumber": "orig_called",
    "finalCalledPartyNumber": "final_called",
    "finalCalledPartyUnicodeLoginUserID": "final_user",
    "destCause_value": "dcause",
    "destMediaTransportAddress_IP": "dmedia_ip",
    "destMediaTransportAddress_Port": "dmedia_port",
    "destMediaCap_payloadCapability": "dcodec",
    "destMediaCap_maxFramesPerPacket": "dframes",
    "dateTimeConnect": "tc",
    "dateTimeDisconnect": "td",
    "lastRedirectDn": "last_redirect",
    "pkid": "pkid",
    "originalCalledPartyNumberPartition": "orig_called_pt",
    "callingPartyNumberPartition": "calling_pt",
    "finalCalledPartyNumberPartition": "final_called_pt",
    "lastRedirectDnPartition": "last_redirect_pt",
    "duration": "duration",
    "origDeviceName": "odev",
    "destDeviceName": "ddev",
    "origCallTerminationOnBehalfOf": "oterm",
    "destCallTerminationOnBehalfOf": "dterm",
    "origCalledPartyRedirectOnBehalfOf": "oredir_obo",
    "lastRedirectRedirectOnBehalfOf": "lredir_obo",
    "origCalledPartyRedirectReason": "oredir",
    "lastRedirectRedirectReason": "lredir",
    "destConversationId": "dconv",
    "joinOnBehalfOf": "join_obo",
    "comment": "comment",
    "origConversationId": "oconv",
    "origMediaCap_Bandwidth": "obw",
    "destMediaCap_Bandwidth": "dbw",
    "origIpv4v6Addr": "oip",
    "destIpv4v6Addr": "dip",
    "IncomingProtocolID": "in_proto",
    "IncomingProtocolCallRef": "in_ref",
    "OutgoingProtocolID": "out_proto",
    "OutgoingProtocolCallRef": "out_ref",
    "huntPilotPartition": "hunt_pt",
    "huntPilotDN": "hunt_dn",
    "calledPartyPatternUsage": "usage",
    "originalCalledPartyPattern": "orig_pattern",
    "finalCalledPartyPattern": "final_pattern",
    "lastRedirectingPartyPattern": "last_pattern",
    "huntPilotPattern": "hunt_pattern",
    "origDeviceSessionID": "osess",
    "destDeviceSessionID": "dsess",
}
CDR_CONSTANTS = {
    "cdrRecordType": "1",
    "origPrecedenceLevel": "4",
    "destPrecedenceLevel": "4",
    "origRSVPAudioStat": '"0"',
    "origRSVPVideoStat": '"0"',
    "destRSVPAudioStat": '"0"',
    "destRSVPVideoStat": '"0"',
    "globalCallId_ClusterID": f'"{CLUSTER}"',
    "origDTMFMethod": "3",
    "destDTMFMethod": "3",
}

CMR_SLOTS = {
    "globalCallID_callManagerId": "cmid",
    "globalCallID_callId": "call_id",
    "nodeId": "node",
    "directoryNum": "number",
    "callIdentifier": "leg",
    "dateTimeStamp": "stamp",
    "numberPacketsSent": "pkt_sent",
    "numberOctetsSent": "oct_sent",
    "numberPacketsReceived": "pkt_recv",
    "numberOctetsReceived": "oct_recv",
    "numberPacketsLost": "lost",
    "jitter": "jitter",
    "latency": "latency",
    "pkid": "pkid",
    "directoryNumPartition": "partition",
    "deviceName": "device",
    "varVQMetrics": "vq",
    "duration": "duration",
    "localSessionID": "local_sess",
    "remoteSessionID": "remote_sess",
}
CMR_CONSTANTS = {"cdrRecordType": "2", "globalCallId_ClusterID": f'"{CLUSTER}"'}


def header(fields: tuple[tuple[str, str], ...]) -> str:
    """The two header lines: quoted field names, then unquoted types."""
    names = ",".join(f'"{name}"' for name, _ in fields)
    types = ",".join(kind for _, kind in fields)
    return f"{names}\n{types}\n"


def _template(fields, slots, constants, empty_int: str) -> tuple[str, attrgetter]:
    parts, attrs = [], []
    for name, kind in fields:
        integer = kind == "INTEGER"
        if name in slots:
            parts.append("%d" if integer else '"%s"')
            attrs.append(slots[name])
        elif name in constants:
            parts.append(constants[name].replace("%", "%%"))
        else:
            parts.append(empty_int if integer else '""')
    missing = set(slots) - {name for name, _ in fields}
    if missing:  # pragma: no cover - guards a misspelt field name above
        raise RuntimeError(f"unknown fields in demo template: {sorted(missing)}")
    return ",".join(parts), attrgetter(*attrs)


CDR_HEADER = header(CDR_FIELDS)
CMR_HEADER = header(CMR_FIELDS)
# CDR integers default to 0 (as in every real CDR); CMR integers that do not apply are bare empty.
CDR_FORMAT, CDR_VALUES = _template(CDR_FIELDS, CDR_SLOTS, CDR_CONSTANTS, "0")
CMR_FORMAT, CMR_VALUES = _template(CMR_FIELDS, CMR_SLOTS, CMR_CONSTANTS, "")


class Leg:
    """One CDR row. Attributes left alone keep these defaults (an unanswered, unredirected leg)."""

    cmid = 1
    call_id = 0
    oleg = 0
    t0 = 0
    onode = 1
    ospan = 0
    oip_int = 0
    calling = ""
    calling_user = ""
    ocause = 0
    omedia_ip = 0
    omedia_port = 0
    ocodec = 0
    oframes = 0
    dleg = 0
    dnode = 0
    dspan = 0
    dip_int = 0
    orig_called = ""
    final_called = ""
    final_user = ""
    dcause = 0
    dmedia_ip = 0
    dmedia_port = 0
    dcodec = 0
    dframes = 0
    tc = 0
    td = 0
    last_redirect = ""
    pkid = ""
    orig_called_pt = ""
    calling_pt = ""
    final_called_pt = ""
    last_redirect_pt = ""
    duration = 0
    odev = ""
    ddev = ""
    oterm = 0
    dterm = 0
    oredir_obo = 0
    lredir_obo = 0
    oredir = 0
    lredir = 0
    dconv = 0
    join_obo = 0
    comment = ""
    oconv = 0
    obw = 0
    dbw = 0
    oip = ""
    dip = ""
    in_proto = 0
    in_ref = ""
    out_proto = 0
    out_ref = ""
    hunt_pt = ""
    hunt_dn = ""
    usage = 2
    orig_pattern = ""
    final_pattern = ""
    last_pattern = ""
    hunt_pattern = ""
    osess = ""
    dsess = ""


# The CMR values in template order; traffic.py builds this tuple directly (it is the hottest line).
CMR_ORDER = (
    "cmid", "call_id", "node", "number", "leg", "stamp", "pkt_sent", "oct_sent", "pkt_recv", "oct_recv",
    "lost", "jitter", "latency", "pkid", "partition", "device", "vq", "duration", "local_sess", "remote_sess",
)  # fmt: skip
if CMR_VALUES(type("_Names", (), {a: a for a in CMR_SLOTS.values()})) != CMR_ORDER:  # pragma: no cover
    raise RuntimeError("CMR_ORDER does not follow the CMR field order")
