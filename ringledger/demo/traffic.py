"""Calls of the demo company, leg by leg, as CUCM writes them (reference cucm-cdr-format.md, section 4).

`Traffic.call()` places one call starting at a given second at one site and hands every CDR and
CMR line it produces to a sink, stamped with the second the record is written (when the leg
ends). Scenarios and their CDR shape:

- internal (same site, other site), calls to voicemail, abandoned off-hook legs;
- outgoing through the site's gateway, dialled with the access code (national, mobile,
  international, toll-free, premium, emergency), answered / abandoned / busy (17) / no answer (19);
- incoming to a direct line: answered, missed (19), busy (17), forwarded on no answer (2) or busy (1)
  to voicemail, forwarded unconditionally (15) to the employee's mobile (a tandem leg);
- hunt pilots: unanswered member legs (pattern usage 7, empty huntPilotDN) then the member who
  answers (huntPilotDN set), or voicemail when nobody does; callers who give up while members ring;
- call-backs: for most outside calls nobody answered (missed, abandoned, or left to voicemail) the
  line's owner or a hunt member calls the number back minutes to hours later, as the site dials it;
- transfers: split rows (cause 393216, on-behalf-of 10) then the joined row (joinOnBehalfOf 10,
  redirect reason 4, or 34 for a blind transfer);
- ad-hoc conferences: split rows (on-behalf-of 4) and one row per participant to a b00... bridge;
- recording legs (on-behalf-of 27, redirect reason 354) for half the calls Milano customer service
  agents take from their hunt pilot.

Every phone side of an answered leg gets a CMR whose packet counts follow the talk time; calls
through POOR_QUALITY_GATEWAY often sound bad, so quality reports have something to show.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from ringledger.demo.company import NODES, POOR_QUALITY_GATEWAY, RECORDER_PARTITION, Company, Endpoint, SiteStaff
from ringledger.demo.numbers import Destination, SiteNumbers, site_numbers
from ringledger.demo.records import CDR_FORMAT, CDR_VALUES, CMR_FORMAT, Leg

# A sink receives (kind "cdr"/"cmr", node that writes the file, epoch second of the record, line).
Sink = Callable[[str, int, int, str], None]

CALL_ID_LIMIT = 1 << 24  # globalCallID_callId is 24 bits and wraps to 1
LEG_ID_LIMIT = 1 << 31
SPLIT = 393216  # cause of a leg ended by a transfer or conference (call split)

SCENARIOS = (
    ("internal", 24.0),
    ("internal_remote", 6.0),
    ("voicemail_check", 2.0),
    ("outgoing", 27.0),
    ("incoming", 20.0),
    ("incoming_forward_outside", 1.5),
    ("internal_forward_outside", 0.5),
    ("hunt", 8.5),
    ("transfer", 5.0),
    ("conference", 1.5),
    ("offhook", 2.0),
)
# How many CDR rows a call makes on average; only a starting point, the generator keeps its own mean.
PRIOR_LEGS_PER_CALL = 1.45
OUTGOING_MIX = {
    "IT": (("national", 36), ("mobile", 30), ("international", 24), ("toll_free", 6), ("premium", 3.6),
           ("emergency", 0.4)),
    "GB": (("national", 36), ("mobile", 30), ("international", 24), ("toll_free", 6), ("premium", 3.6),
           ("emergency", 0.4)),
    "US": (("national", 62), ("international", 28), ("toll_free", 6), ("premium", 3.6), ("emergency", 0.4)),
}  # fmt: skip
# Median talk time (s) and spread (sigma of the log) per kind of call.
TALK = {
    "internal": (70, 1.0),
    "national": (100, 1.1),
    "mobile": (80, 1.1),
    "international": (240, 1.0),
    "toll_free": (180, 0.8),
    "premium": (150, 0.9),
    "emergency": (90, 0.6),
    "incoming": (130, 1.05),
    "hunt": (240, 0.8),
    "message": (25, 0.5),
    "voicemail": (50, 0.6),
    "consult": (15, 0.6),
    "conference": (1200, 0.6),
}
MAX_TALK_S = 7200
CFNA_TIMER_S = 12  # CUCM's default Forward No Answer timer
HUNT_RNA_S = 12  # ring time per hunt member before the next one
# Share of unanswered outside calls someone calls back: to a line (missed or voicemail), to a hunt pilot.
CALL_BACK_LINE = 0.55
CALL_BACK_HUNT = 0.8
CALL_BACK_MEDIAN_S = 1500  # a call back comes after about 25 minutes, sometimes hours
BYTES_PER_PACKET = {2: 160, 4: 160, 6: 160, 11: 20}  # 20 ms of payload
CODEC_NAME = {2: "G.711 A-la", 4: "G.711 u-la", 6: "G.722", 11: "G.729"}


@dataclass
class Counters:
    """Identifiers that must keep increasing across runs: call ids per node, leg ids, bridge ports."""

    call_ids: dict[int, int] = field(default_factory=dict)
    leg_id: int = 0
    conference: int = 0
    recording: int = 0

    @classmethod
    def start(cls, rng: random.Random) -> Counters:
        """Counters as a running cluster would have them (random but plausible)."""
        return cls(
            call_ids={n: rng.randrange(1_000_000, 9_000_000) for n in NODES},
            leg_id=rng.randrange(20_000_000, 60_000_000),
            conference=rng.randrange(1000, 9000),
            recording=rng.randrange(10**11, 9 * 10**11),
        )


@dataclass(frozen=True)
class _Quality:
    classic: str  # K-factor metrics without CS/SCS (desk phones)
    ccr: tuple[float, float, float]  # CCR, ICR, ICRmx (soft clients' newer format)
    jitter: int  # ms
    latency: int  # ms
    loss: float  # ratio of packets lost
    cs_rate: float  # concealed seconds per second of talk
    scs_rate: float


Range = tuple[float, float]


def _quality_pool(
    seed: str, mos: Range, top: float, jitter: tuple[int, int], latency: tuple[int, int], loss: Range, ccr: Range,
    cs: Range, scs: Range, size: int = 512,
) -> tuple[_Quality, ...]:  # fmt: skip
    rng = random.Random(seed)
    pool = []
    for _ in range(size):
        av = rng.uniform(*mos)
        last = min(top, max(1.0, av + rng.uniform(-0.08, 0.05)))
        low = max(1.0, av - rng.uniform(0.0, 0.25 if av > 4 else 1.0))
        high = min(top, av + rng.uniform(0.0, 0.1))
        c = rng.uniform(*ccr)
        icr = 0.0 if rng.random() < 0.8 else c * rng.uniform(0.5, 2.0)
        icrmx = c * rng.uniform(2.0, 12.0)
        pool.append(
            _Quality(
                classic=(
                    f"MLQK={last:.4f};MLQKav={av:.4f};MLQKmn={low:.4f};MLQKmx={high:.4f};MLQKvr=0.95;"
                    f"CCR={c:.4f};ICR={icr:.4f};ICRmx={icrmx:.4f}"
                ),
                ccr=(c, icr, icrmx),
                jitter=rng.randint(*jitter),
                latency=rng.randint(*latency),
                loss=rng.uniform(*loss),
                cs_rate=rng.uniform(*cs),
                scs_rate=rng.uniform(*scs),
            )
        )
    return tuple(pool)


QUALITY = {
    "good": _quality_pool("good", (4.25, 4.5), 4.5, (0, 6), (0, 2), (0.0, 0.0006), (0.0, 0.002), (0, 0.01), (0, 0)),
    "wan": _quality_pool("wan", (3.8, 4.1), 4.1, (2, 15), (12, 45), (0.0, 0.003), (0.0, 0.006), (0, 0.02), (0, 0.002)),
    "poor": _quality_pool(
        "poor", (2.4, 3.6), 4.2, (20, 80), (60, 250), (0.01, 0.08), (0.02, 0.12), (0.05, 0.25), (0.01, 0.08)
    ),
}


class _Picker:
    """Weighted choice over a fixed list with one random() and a bisect."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, r: float):
        return self.items[bisect(self.cum, r * self.total)]


class _Site:
    """Per-site lookup tables for the generator."""

    def __init__(self, staff: SiteStaff, numbers: SiteNumbers):
        self.staff = staff
        self.spec = staff.spec
        self.numbers = numbers
        self.lines = _Picker(staff.lines, [ep.weight for ep in staff.lines])
        country = staff.spec.country
        self.outgoing = _Picker([k for k, _ in OUTGOING_MIX[country]], [w for _, w in OUTGOING_MIX[country]])
        self.recorded = {ep.number for ep in staff.by_department["Support"]} if staff.spec.code == "MIL" else set()


class Traffic:
    """Places calls and turns them into CDR and CMR lines."""

    def __init__(self, company: Company, rng: random.Random, counters: Counters, sink: Sink):
        self.company = company
        self.rng = rng
        self.counters = counters
        self.sink = sink
        self.sites = {s.spec.name: _Site(s, site_numbers(s.spec.name)) for s in company.sites}
        self.scenarios = _Picker([name for name, _ in SCENARIOS], [w for _, w in SCENARIOS])
        self.handlers = {name: getattr(self, f"_{name}") for name, _ in SCENARIOS}
        self.legs = 0  # CDR rows produced so far
        self.cmrs = 0
        self._random = rng.random
        self._bits = rng.getrandbits
        h = f"{rng.getrandbits(128):032x}"
        self._pk_prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-"
        self._pk = rng.getrandbits(48)

    # -- entry point -----------------------------------------------------------------------------
    def call(self, t: int, site_name: str) -> int:
        """Place one call starting at epoch second `t` at a site; returns the CDR rows it made."""
        before = self.legs
        site = self.sites[site_name]
        self.handlers[self.scenarios.pick(self.rng.random())](t, site)
        return self.legs - before

    # -- identifiers and small helpers -----------------------------------------------------------
    def _call_id(self, node: int) -> int:
        value = self.counters.call_ids[node] + 1
        if value >= CALL_ID_LIMIT:
            value = 1
        self.counters.call_ids[node] = value
        return value

    def _leg_id(self) -> int:
        value = self.counters.leg_id + 1 + (self.rng.random() < 0.3)
        if value >= LEG_ID_LIMIT:
            value = 1
        self.counters.leg_id = value
        return value

    def _uuid(self) -> str:
        # a random UUID prefix per run and a counter in the last 48 bits: unique, and cheap
        self._pk += 1
        return f"{self._pk_prefix}{self._pk & 0xFFFFFFFFFFFF:012x}"

    def _between(self, low: int, high: int) -> int:
        """A whole number in [low, high], uniformly."""
        return low + int(self._random() * (high - low + 1))

    def _any(self, items: list):
        return items[int(self._random() * len(items))]

    def _talk(self, kind: str) -> int:
        median, sigma = TALK[kind]
        return max(1, min(MAX_TALK_S, int(median * math.exp(sigma * self.rng.gauss(0.0, 1.0)))))

    def _ring(self) -> int:
        return 2 + min(40, int(5.0 * math.exp(0.6 * self.rng.gauss(0.0, 1.0))))

    def _port(self) -> int:
        return 16384 + 2 * int(self._random() * 8192)

    def _other_line(self, site: _Site, not_this: Endpoint) -> Endpoint:
        ep = site.lines.pick(self.rng.random())
        if ep is not_this or ep.owner == not_this.owner:
            ep = site.lines.items[(site.lines.items.index(ep) + 1) % len(site.lines.items)]
        return ep

    def _destination(self, site: _Site, kind: str) -> Destination:
        pool = site.numbers.outgoing[kind]
        # a few numbers are called far more often than the rest
        return pool[int(len(pool) * self.rng.random() ** 2)]

    def _mobile_of(self, site: _Site, ep: Endpoint) -> Destination:
        mobiles = site.numbers.mobiles
        return mobiles[int(ep.number) % len(mobiles)]

    def _caller(self, site: _Site) -> int:
        """Which of the site's outside callers rings (a few call far more often than the rest)."""
        return int(len(site.numbers.callers) * self.rng.random() ** 1.5)

    def _caller_number(self, site: _Site) -> str:
        return site.numbers.callers[self._caller(site)]

    def _node(self) -> int:
        return NODES[self.rng.random() < 0.5]

    # -- building legs ---------------------------------------------------------------------------
    def _leg(self, cmid: int, call_id: int, o: Endpoint, oleg: int, d: Endpoint | None, dleg: int,
             t0: int, tc: int, td: int, codec: int, reached: bool = True) -> Leg:  # fmt: skip
        """A leg between two endpoints with times, devices, addresses and media filled in."""
        leg = Leg()
        attrs = leg.__dict__
        attrs.update(o.as_orig)
        leg.cmid, leg.call_id, leg.oleg, leg.dleg, leg.t0, leg.tc, leg.td = cmid, call_id, oleg, dleg, t0, tc, td
        if tc:
            leg.duration = td - tc
        leg.pkid = self._uuid()
        kind = o.kind
        if kind == "phone":
            if o.previous_owner and t0 < o.change_at:
                leg.calling_user = o.previous_owner
            leg.osess = f"{self._bits(32):08x}{o.session_suffix}"
        elif kind == "gateway":
            leg.onode, leg.ospan, leg.in_ref = cmid, oleg, f"{self._bits(128):032X}"
        if d is not None:
            attrs.update(d.as_dest if reached else d.as_dest_unreached)
            dkind = d.kind
            if dkind == "phone":
                if d.previous_owner and t0 < d.change_at:
                    leg.final_user = d.previous_owner
                leg.dsess = f"{self._bits(32):08x}{d.session_suffix}"
            elif dkind == "gateway":
                leg.dnode, leg.dspan, leg.out_ref = cmid, dleg, f"{self._bits(128):032X}"
        if tc:
            port = self._port
            bw = 8 if codec == 11 else 64
            leg.omedia_ip, leg.omedia_port, leg.ocodec, leg.oframes, leg.obw = o.ip_int, port(), codec, 20, bw
            if d is not None:
                leg.dmedia_ip, leg.dmedia_port, leg.dcodec, leg.dframes, leg.dbw = d.ip_int, port(), codec, 20, bw
        return leg

    def _hangup(self, leg: Leg, cause: int = 16) -> None:
        """Set who cleared an answered leg (the caller a little more often)."""
        if self.rng.random() < 0.55:
            leg.ocause, leg.oterm = cause, 12
        else:
            leg.dcause, leg.dterm = cause, 12

    def _internal_numbers(self, leg: Leg, called: Endpoint) -> None:
        number, pt = called.number, called.partition
        leg.orig_called = leg.final_called = leg.last_redirect = number
        leg.orig_called_pt = leg.final_called_pt = leg.last_redirect_pt = pt
        leg.orig_pattern = leg.final_pattern = leg.last_pattern = number

    def _pstn_numbers(self, leg: Leg, dest: Destination) -> None:
        leg.orig_called = leg.final_called = leg.last_redirect = dest.dialled
        leg.orig_called_pt = leg.final_called_pt = leg.last_redirect_pt = dest.partition
        leg.orig_pattern = leg.final_pattern = leg.last_pattern = dest.pattern
        leg.usage = 5

    def _forwarded(self, leg: Leg, by: Endpoint, reason: int) -> None:
        """Mark a leg as forwarded by a line (reason 1 busy, 2 no answer, 15 all)."""
        leg.orig_called, leg.orig_called_pt, leg.orig_pattern = by.number, by.partition, by.number
        leg.last_redirect, leg.last_redirect_pt, leg.last_pattern = by.number, by.partition, by.number
        leg.oredir = leg.lredir = reason
        leg.oredir_obo = leg.lredir_obo = leg.join_obo = 5

    def _emit(self, leg: Leg, o: Endpoint, d: Endpoint | None, quality: str | None = "good") -> None:
        """Hand the CDR line and the CMRs of its phone sides to the sink."""
        self.sink("cdr", leg.cmid, leg.td, CDR_FORMAT % CDR_VALUES(leg))
        self.legs += 1
        if quality is None or leg.duration <= 0:
            return
        if o.kind == "phone":
            self._cmr(leg, o, leg.oleg, leg.osess, leg.dsess, leg.ocodec, quality)
        if d is not None and d.kind == "phone":
            self._cmr(leg, d, leg.dleg, leg.dsess, leg.osess, leg.dcodec, quality)

    def _cmr(self, leg: Leg, ep: Endpoint, leg_id: int, mine: str, theirs: str, codec: int, level: str) -> None:
        r = self._random
        q = QUALITY[level][self._bits(9)]
        duration = leg.duration
        packets = duration * 50  # 20 ms packets
        lost = int(packets * q.loss * (0.5 + r()))
        sent = packets - int(r() * 3)
        received = packets - lost - int(r() * 3)
        if received < 0:
            received = 0
        size = BYTES_PER_PACKET[codec]
        cs = int(duration * q.cs_rate + r())
        scs = min(cs, int(duration * q.scs_rate))
        if ep.soft:
            ccr, icr, icrmx = q.ccr
            vq = (
                f"CCR={ccr:.4f};ICR={icr:.4f};ICRmx={icrmx:.4f};CS={cs};SCS={scs};Ver=0.90;"
                f"VoRxCodec={CODEC_NAME[codec]};CID={codec};VoPktSizeMs=20;VoPktLost={lost};"
                f"VoPktDis={int(r() * 3)};VoOneWayDelayMs={q.latency // 2};maxJitter={q.jitter + int(r() * 6)}"
            )
        else:
            vq = f"{q.classic};CS={cs};SCS={scs}"
        stamp = leg.td + (r() < 0.3)
        # the order of CMR_ORDER (checked when records.py is imported)
        line = CMR_FORMAT % (
            leg.cmid, leg.call_id, ep.node, ep.number, leg_id, stamp, sent, sent * size, received, received * size,
            lost, q.jitter, q.latency, self._uuid(), ep.partition, ep.device, vq, duration, mine, theirs,
        )  # fmt: skip
        self.sink("cmr", ep.node, stamp, line)
        self.cmrs += 1

    def _pstn_quality(self, site: _Site) -> str:
        if site.spec.gateway == POOR_QUALITY_GATEWAY and self.rng.random() < 0.3:
            return "poor"
        return "poor" if self.rng.random() < 0.01 else "good"

    def _lan_quality(self) -> str:
        return "poor" if self.rng.random() < 0.005 else "good"

    # -- scenarios -------------------------------------------------------------------------------
    def _internal(self, t: int, site: _Site, remote: bool = False) -> None:
        rng = self.rng
        a = site.lines.pick(rng.random())
        if remote:
            others = [s for s in self.sites.values() if s is not site]
            b = others[rng.random() < 0.5].lines.pick(rng.random())
            codec, quality = 11, "wan"
        else:
            b = self._other_line(site, a)
            codec, quality = 6, self._lan_quality()
        cmid = a.node
        call_id = self._call_id(cmid)
        oleg, dleg = self._leg_id(), self._leg_id()
        roll = rng.random()
        if roll < 0.78:  # answered
            tc = t + self._ring()
            leg = self._leg(cmid, call_id, a, oleg, b, dleg, t, tc, tc + self._talk("internal"), codec)
            self._internal_numbers(leg, b)
            self._hangup(leg)
        elif roll < 0.87:  # the caller gives up while it rings
            leg = self._leg(cmid, call_id, a, oleg, b, dleg, t, 0, t + self._between(4, 30), codec)
            self._internal_numbers(leg, b)
            leg.ocause, leg.oterm = 16, 12
        elif roll < 0.90:  # busy
            leg = self._leg(cmid, call_id, a, oleg, b, dleg, t, 0, t + self._between(1, 4), codec, reached=False)
            self._internal_numbers(leg, b)
            leg.dcause, leg.dterm = 17, 12
        else:  # forwarded to voicemail on no answer (or busy)
            self._to_voicemail(t, site, a, b, cmid, call_id, oleg, codec)
            return
        self._emit(leg, a, b, quality)

    def _internal_remote(self, t: int, site: _Site) -> None:
        self._internal(t, site, remote=True)

    def _to_voicemail(self, t: int, site: _Site, caller: Endpoint, line: Endpoint, cmid: int, call_id: int,
                      oleg: int, codec: int) -> None:  # fmt: skip
        """`caller` rang `line`, which forwarded to its site's voicemail (no answer, or busy)."""
        rng = self.rng
        home = self.sites[line.site.name] if line.site else site
        port = self._any(home.staff.voicemail)
        busy = rng.random() < 0.2
        tc = t + (1 if busy else CFNA_TIMER_S) + (rng.random() < 0.5)
        leg = self._leg(cmid, call_id, caller, oleg, port, self._leg_id(), t, tc, tc + self._talk("message"), codec)
        self._forwarded(leg, line, 1 if busy else 2)
        leg.final_called = port.number
        leg.final_called_pt = port.partition
        leg.final_pattern = port.number
        leg.ocause, leg.oterm = 16, 12
        who = -1
        if caller.kind == "gateway":
            who = self._caller(site)
            leg.calling = site.numbers.callers[who]
        self._emit(leg, caller, port, self._lan_quality())
        if who >= 0:
            self._call_back(leg.td, site, line, who, CALL_BACK_LINE)

    def _voicemail_check(self, t: int, site: _Site) -> None:
        a = site.lines.pick(self.rng.random())
        port = self._any(site.staff.voicemail)
        cmid = a.node
        tc = t + 1
        leg = self._leg(cmid, self._call_id(cmid), a, self._leg_id(), port, self._leg_id(), t, tc,
                        tc + self._talk("voicemail"), site.spec.pstn_codec)  # fmt: skip
        self._internal_numbers(leg, port)
        leg.ocause, leg.oterm = 16, 12
        self._emit(leg, a, port, self._lan_quality())

    def _outgoing(self, t: int, site: _Site) -> None:
        rng = self.rng
        a = site.lines.pick(rng.random())
        kind = site.outgoing.pick(rng.random())
        dest = self._destination(site, kind)
        gw = site.staff.gateway
        cmid = a.node
        leg_args = (cmid, self._call_id(cmid), a, self._leg_id(), gw, self._leg_id())
        roll = 0.0 if kind == "emergency" else rng.random()
        codec = site.spec.pstn_codec
        if roll < 0.74:
            tc = t + 3 + self._ring()
            leg = self._leg(*leg_args, t, tc, tc + self._talk(kind), codec)
            self._hangup(leg)
        elif roll < 0.84:  # the caller gives up
            leg = self._leg(*leg_args, t, 0, t + self._between(6, 35), codec)
            leg.ocause, leg.oterm = 16, 12
        elif roll < 0.91:  # nobody answers: the network gives up
            leg = self._leg(*leg_args, t, 0, t + self._between(40, 75), codec)
            leg.dcause, leg.dterm = 19, 12
        elif roll < 0.98:  # busy
            leg = self._leg(*leg_args, t, 0, t + self._between(2, 6), codec)
            leg.dcause, leg.dterm = 17, 12
        else:  # a number that does not exist, or no circuit
            leg = self._leg(*leg_args, t, 0, t + self._between(1, 5), codec)
            leg.dcause, leg.dterm = (1 if rng.random() < 0.7 else 34), 12
        self._pstn_numbers(leg, dest)
        self._emit(leg, a, gw, self._pstn_quality(site))

    def _incoming(self, t: int, site: _Site) -> None:
        rng = self.rng
        gw = site.staff.gateway
        b = site.lines.pick(rng.random())
        cmid = self._node()
        call_id, oleg = self._call_id(cmid), self._leg_id()
        codec = site.spec.pstn_codec
        roll = rng.random()
        if roll >= 0.90:
            self._to_voicemail(t, site, gw, b, cmid, call_id, oleg, codec)
            return
        if roll < 0.72:
            tc = t + self._ring()
            leg = self._leg(cmid, call_id, gw, oleg, b, self._leg_id(), t, tc, tc + self._talk("incoming"), codec)
            self._hangup(leg)
        elif roll < 0.83:  # missed: rang out
            leg = self._leg(cmid, call_id, gw, oleg, b, self._leg_id(), t, 0, t + self._between(25, 45), codec)
            leg.dcause, leg.dterm = 19, 12
        elif roll < 0.87:  # busy
            leg = self._leg(cmid, call_id, gw, oleg, b, self._leg_id(), t, 0, t + self._between(1, 3), codec, False)
            leg.dcause, leg.dterm = 17, 12
        else:  # the caller gives up
            leg = self._leg(cmid, call_id, gw, oleg, b, self._leg_id(), t, 0, t + self._between(3, 20), codec)
            leg.ocause, leg.oterm = 16, 12
        who = self._caller(site)
        leg.calling = site.numbers.callers[who]
        self._internal_numbers(leg, b)
        self._emit(leg, gw, b, self._pstn_quality(site))
        if not leg.tc:
            self._call_back(leg.td, site, b, who, CALL_BACK_LINE)

    def _incoming_forward_outside(self, t: int, site: _Site) -> None:
        """An outside caller rings a line forwarded (all calls) to its owner's mobile: a tandem leg."""
        rng = self.rng
        gw = site.staff.gateway
        b = site.lines.pick(rng.random())
        mobile = self._mobile_of(site, b)
        cmid = self._node()
        args = (cmid, self._call_id(cmid), gw, self._leg_id(), gw, self._leg_id())
        codec = site.spec.pstn_codec
        if rng.random() < 0.85:
            tc = t + 4 + self._ring()
            leg = self._leg(*args, t, tc, tc + self._talk("mobile"), codec)
            self._hangup(leg)
        else:
            leg = self._leg(*args, t, 0, t + self._between(30, 60), codec)
            leg.dcause, leg.dterm = 19, 12
        leg.calling = self._caller_number(site)
        self._pstn_numbers(leg, mobile)
        self._forwarded(leg, b, 15)
        self._emit(leg, gw, gw, None)

    def _internal_forward_outside(self, t: int, site: _Site) -> None:
        """A colleague rings a line forwarded (all calls) to its owner's mobile: an outgoing leg."""
        rng = self.rng
        a = site.lines.pick(rng.random())
        b = self._other_line(site, a)
        mobile = self._mobile_of(site, b)
        gw = site.staff.gateway
        cmid = a.node
        tc = t + 4 + self._ring()
        leg = self._leg(cmid, self._call_id(cmid), a, self._leg_id(), gw, self._leg_id(), t, tc,
                        tc + self._talk("mobile"), site.spec.pstn_codec)  # fmt: skip
        self._hangup(leg)
        self._pstn_numbers(leg, mobile)
        self._forwarded(leg, b, 15)
        self._emit(leg, a, gw, self._pstn_quality(site))

    def _hunt(self, t: int, site: _Site) -> None:
        """An outside caller rings the site's hunt pilot; members are tried in turn."""
        rng = self.rng
        spec = site.spec
        gw = site.staff.gateway
        members = site.staff.hunt_members
        pilot = spec.hunt_pilot
        cmid = self._node()
        call_id, oleg = self._call_id(cmid), self._leg_id()
        who = self._caller(site)
        caller = site.numbers.callers[who]
        codec = spec.pstn_codec
        first = int(rng.random() * len(members))
        start = t
        for i in range(len(members)):
            m = members[(first + i) % len(members)]
            last = i == len(members) - 1
            answered = rng.random() < 0.62
            if answered:
                tc = start + self._ring()
                leg = self._leg(cmid, call_id, gw, oleg, m, self._leg_id(), start, tc, tc + self._talk("hunt"), codec)
                self._hangup(leg)
                leg.hunt_dn, leg.hunt_pt, leg.hunt_pattern = pilot, spec.dn_partition, pilot
            elif rng.random() < (0.35 if last else 0.05):  # the caller gives up while this member rings
                leg = self._leg(
                    cmid, call_id, gw, oleg, m, self._leg_id(), start, 0, start + self._between(3, 11), codec
                )
                leg.ocause, leg.oterm = 16, 12
            else:  # rings out; the pilot moves on (CUCM leaves huntPilotDN empty on these)
                leg = self._leg(cmid, call_id, gw, oleg, m, self._leg_id(), start, 0, start + HUNT_RNA_S, codec)
                leg.dcause, leg.dterm = 19, 12
            leg.calling = caller
            leg.orig_called, leg.orig_called_pt, leg.orig_pattern = pilot, spec.dn_partition, pilot
            leg.final_called, leg.final_called_pt, leg.final_pattern = m.number, m.partition, pilot
            leg.last_redirect, leg.last_redirect_pt, leg.last_pattern = pilot, spec.dn_partition, pilot
            leg.usage = 7
            self._emit(leg, gw, m, self._pstn_quality(site))
            if answered:
                if m.number in site.recorded and rng.random() < 0.5:  # half the queue calls are recorded
                    self._record(leg, m, dleg=True)
                return
            if leg.ocause:  # abandoned
                self._call_back(leg.td, site, self._any(members), who, CALL_BACK_HUNT)
                return
            start = leg.td
        # nobody answered: the pilot forwards to voicemail
        port = self._any(site.staff.voicemail)
        tc = start + 1
        leg = self._leg(cmid, call_id, gw, oleg, port, self._leg_id(), start, tc, tc + self._talk("message"), codec)
        leg.calling = caller
        leg.orig_called, leg.orig_called_pt, leg.orig_pattern = pilot, spec.dn_partition, pilot
        leg.last_redirect, leg.last_redirect_pt, leg.last_pattern = pilot, spec.dn_partition, pilot
        leg.final_called, leg.final_called_pt, leg.final_pattern = port.number, port.partition, port.number
        leg.oredir = leg.lredir = 2
        leg.oredir_obo = leg.lredir_obo = leg.join_obo = 5
        leg.ocause, leg.oterm = 16, 12
        self._emit(leg, gw, port, self._pstn_quality(site))
        self._call_back(leg.td, site, self._any(members), who, CALL_BACK_HUNT)

    def _call_back(self, after: int, site: _Site, line: Endpoint, who: int, share: float) -> None:
        """Maybe call back outside caller `who` of the site from `line`, some time after second `after`."""
        rng = self.rng
        if rng.random() >= share:
            return
        t = after + 30 + int(CALL_BACK_MEDIAN_S * math.exp(0.9 * rng.gauss(0.0, 1.0)))
        dest = site.numbers.call_back[who]
        gw = site.staff.gateway
        cmid = line.node
        leg_args = (cmid, self._call_id(cmid), line, self._leg_id(), gw, self._leg_id())
        codec = site.spec.pstn_codec
        if rng.random() < 0.75:
            tc = t + 3 + self._ring()
            leg = self._leg(*leg_args, t, tc, tc + self._talk("incoming"), codec)
            self._hangup(leg)
        else:  # not reached this time
            leg = self._leg(*leg_args, t, 0, t + self._between(25, 45), codec)
            leg.dcause, leg.dterm = 19, 12
        self._pstn_numbers(leg, dest)
        self._emit(leg, line, gw, self._pstn_quality(site))

    def _transfer(self, t: int, site: _Site) -> None:
        """An outside caller is answered by A, who hands the call to B (consult transfer, or blind)."""
        rng = self.rng
        gw = site.staff.gateway
        a = site.lines.pick(rng.random())
        b = self._other_line(site, a) if rng.random() < 0.85 else self._other_site_line(site)
        cmid = self._node()
        call_id, l0, la = self._call_id(cmid), self._leg_id(), self._leg_id()
        caller = self._caller_number(site)
        codec = site.spec.pstn_codec
        quality = self._pstn_quality(site)
        t1 = t + self._ring()
        t2 = t1 + self._talk("consult") + self._between(5, 60)
        lb = self._leg_id()
        if rng.random() < 0.7:  # consult transfer: A talks to B first
            t3 = t2 + self._ring()
            t4 = t3 + self._talk("consult")
            first = self._leg(cmid, call_id, gw, l0, a, la, t, t1, t4, codec)
            consult_node = a.node
            consult = self._leg(consult_node, self._call_id(consult_node), a, self._leg_id(), b, lb, t2, t3, t4,
                                6 if b.site is a.site else 11)  # fmt: skip
            self._internal_numbers(consult, b)
            for leg in (first, consult):
                leg.ocause = leg.dcause = SPLIT
                leg.oterm = leg.dterm = 10
            first.calling = caller
            self._internal_numbers(first, a)
            self._emit(first, gw, a, quality)
            self._emit(consult, a, b, "good" if b.site is a.site else "wan")
            joined = self._leg(cmid, call_id, gw, l0, b, lb, t4, t4, t4 + self._talk("incoming"), codec)
            self._hangup(joined)
            reason = 4
        else:  # blind transfer: B just rings
            first = self._leg(cmid, call_id, gw, l0, a, la, t, t1, t2, codec)
            first.ocause = first.dcause = SPLIT
            first.oterm = first.dterm = 10
            first.calling = caller
            self._internal_numbers(first, a)
            self._emit(first, gw, a, quality)
            if rng.random() < 0.8:
                tc = t2 + self._ring()
                joined = self._leg(cmid, call_id, gw, l0, b, lb, t2, tc, tc + self._talk("incoming"), codec)
                self._hangup(joined)
            else:
                joined = self._leg(cmid, call_id, gw, l0, b, lb, t2, 0, t2 + self._between(20, 40), codec)
                joined.dcause, joined.dterm = 19, 12
            reason = 34
        joined.calling = caller
        self._internal_numbers(joined, b)
        joined.last_redirect, joined.last_redirect_pt, joined.last_pattern = a.number, a.partition, a.number
        joined.lredir, joined.lredir_obo, joined.join_obo = reason, 10, 10
        self._emit(joined, gw, b, quality)

    def _other_site_line(self, site: _Site) -> Endpoint:
        others = [s for s in self.sites.values() if s is not site]
        return others[self.rng.random() < 0.5].lines.pick(self.rng.random())

    def _conference(self, t: int, site: _Site) -> None:
        """A calls B, consults C (a colleague or an outside number), and joins all three on a bridge."""
        rng = self.rng
        spec = site.spec
        a = site.lines.pick(rng.random())
        b = self._other_line(site, a)
        outside = rng.random() < 0.3
        cmid = a.node
        c1, la, lb = self._call_id(cmid), self._leg_id(), self._leg_id()
        c2, la2, lc = self._call_id(cmid), self._leg_id(), self._leg_id()
        t1 = t + self._ring()
        t2 = t1 + self._talk("consult") + self._between(10, 90)
        t3 = t2 + self._ring() + (4 if outside else 0)
        t4 = t3 + self._talk("consult")
        first = self._leg(cmid, c1, a, la, b, lb, t, t1, t4, 6)
        self._internal_numbers(first, b)
        gw = site.staff.gateway
        calling_outside = ""  # how the outside participant shows on its bridge row
        if outside:
            c_ep = gw
            consult = self._leg(cmid, c2, a, la2, gw, lc, t2, t3, t4, spec.pstn_codec)
            dest = self._destination(site, "national" if rng.random() < 0.7 else "international")
            self._pstn_numbers(consult, dest)
            calling_outside = dest.e164
        else:
            c_ep = self._other_line(site, a)
            consult = self._leg(cmid, c2, a, la2, c_ep, lc, t2, t3, t4, 6)
            self._internal_numbers(consult, c_ep)
        for leg in (first, consult):
            leg.ocause = leg.dcause = SPLIT
            leg.oterm = leg.dterm = 4
        self._emit(first, a, b, self._lan_quality())
        self._emit(consult, a, c_ep, self._pstn_quality(site) if outside else self._lan_quality())
        # one row per participant to the bridge, all in the same conversation
        self.counters.conference = self.counters.conference % 99_999 + 1
        bridge_number = f"b00{NODES.index(cmid) + 1}99{self.counters.conference:05d}"
        bridge = site.staff.bridge
        conversation = self._leg_id()
        comment = (
            f"ConfControllerDn={a.number};ConfControllerDeviceName={a.device};"
            f"ConfRequestorDn={a.number};ConfRequestorDeviceName={a.device}"
        )
        end = t4 + self._talk("conference")
        for ep, call_id, leg_id in ((a, c1, la), (b, c1, lb), (c_ep, c2, lc)):
            td = end + (0 if ep is a else self._between(-60, 30))
            leg = self._leg(cmid, call_id, ep, leg_id, bridge, self._leg_id(), t4, t4, max(td, t4 + 1),
                            spec.pstn_codec)  # fmt: skip
            if ep.kind == "gateway":
                leg.calling = calling_outside
            leg.orig_called = leg.final_called = leg.last_redirect = bridge_number
            leg.lredir, leg.lredir_obo, leg.join_obo = 98, 4, 4
            leg.dconv, leg.comment = conversation, comment
            self._hangup(leg)
            self._emit(leg, ep, bridge, self._pstn_quality(site) if ep.kind == "gateway" else self._lan_quality())

    def _offhook(self, t: int, site: _Site) -> None:
        """A phone goes off hook and back on without dialling: no called number, no destination."""
        a = site.lines.pick(self.rng.random())
        leg = self._leg(a.node, self._call_id(a.node), a, self._leg_id(), None, 0, t, 0, t + self._between(2, 12), 0)
        leg.ocause, leg.oterm = 16, 12
        leg.usage = 2
        self._emit(leg, a, None, None)

    def _record(self, call: Leg, agent: Endpoint, dleg: bool) -> None:
        """Built-in-bridge recording of an agent's call: two streams to the recorder, never billed."""
        recorder = self.company.recorder
        agent_leg = call.dleg if dleg else call.oleg
        for _ in range(2):
            self.counters.recording += 1
            node = agent.node
            leg = self._leg(node, self._call_id(node), agent, self._leg_id(), recorder, self._leg_id(), call.tc,
                            call.tc, call.td, agent.site.pstn_codec if agent.site else 4)  # fmt: skip
            leg.calling = f"b00{self.counters.recording:013d}"
            leg.calling_pt = ""
            leg.calling_user = ""
            leg.osess = ""
            leg.orig_called = leg.final_called = recorder.number
            leg.orig_called_pt = leg.final_called_pt = RECORDER_PARTITION
            leg.orig_pattern = leg.final_pattern = recorder.number
            leg.dcause, leg.oterm, leg.dterm = 16, 0, 12
            leg.oredir_obo = leg.lredir_obo = leg.join_obo = 27
            leg.oredir = leg.lredir = 354
            leg.oconv = agent_leg
            leg.usage = 5
            leg.out_proto, leg.out_ref = 1, f"{self._bits(128):032X}"
            self._emit(leg, agent, recorder, None)
