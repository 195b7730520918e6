"""The demo company, Ravello Instruments: sites, devices, people, phones, hunt groups.

Everything here is fixed (built from a constant seed), so the directory, the configuration and
every phone are the same whatever traffic seed a demo run uses; other tests and tariffs rely on
these facts. Only `--users` (more people for big benchmarks) and the moment the reassigned
extension changes owner vary.
"""

from __future__ import annotations

import csv
import io
import random
import socket
import struct
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

COMPANY_NAME = "Ravello Instruments"
CLUSTER = "RavelloCluster"
NODES = (1, 2)
EMAIL_DOMAIN = "ravello-instruments.example"
CURRENCY = "EUR"
COMPANY_ZONE = "Europe/Rome"
DEFAULT_USERS = 300
MIN_USERS = 100
MAX_USERS = 1500  # Milano's 40% must fit in 2100-2799
# The directory never changes with the traffic seed: people, phones and numbers come from this one.
COMPANY_SEED = 20_070_611

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"
EMPLOYEE_PASSWORD = "demo"
# This London desk line passes from a leaver to a new hire halfway through the generated period.
REASSIGNED_EXTENSION = "4110"

DEPARTMENTS = ("Sales", "Engineering", "Support", "Finance", "Operations", "Marketing", "HR", "Management")
DEPARTMENT_CODES = {
    "Sales": "SAL",
    "Engineering": "ENG",
    "Support": "SUP",
    "Finance": "FIN",
    "Operations": "OPS",
    "Marketing": "MKT",
    "HR": "HR",
    "Management": "MGT",
}
# Share of a site's people per department, and how much each person phones (relative).
DEPARTMENT_SHARE = {
    "Sales": 0.20,
    "Engineering": 0.24,
    "Support": 0.17,
    "Finance": 0.08,
    "Operations": 0.11,
    "Marketing": 0.08,
    "HR": 0.05,
    "Management": 0.07,
}
CALL_ACTIVITY = {
    "Sales": 2.2,
    "Engineering": 0.7,
    "Support": 1.6,
    "Finance": 0.9,
    "Operations": 1.1,
    "Marketing": 1.0,
    "HR": 0.8,
    "Management": 1.3,
}


@dataclass(frozen=True)
class SiteSpec:
    """One office: what the configuration says about it, and its numbering and network."""

    name: str
    code: str
    country: str
    time_zone: str
    language: str
    access_codes: tuple[str, ...]
    internal_ranges: tuple[str, ...]
    emergency_numbers: tuple[str, ...]
    share: float  # of the people
    range_base: int  # first number of the internal range
    hunt_pilot: str
    hunt_label: str
    hunt_department: str
    voicemail_pilot: str
    gateway: str
    subnet: str  # first two octets of the site's addresses
    pstn_codec: int  # G.711 A-law (2) in Europe, mu-law (4) in North America

    @property
    def access_code(self) -> str:
        return self.access_codes[0]

    @property
    def dn_partition(self) -> str:
        return f"PT-{self.code}-Internal"


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        name="Milano",
        code="MIL",
        country="IT",
        time_zone="Europe/Rome",
        language="it",
        access_codes=("0",),
        internal_ranges=("2000-2999",),
        emergency_numbers=("0112",),
        share=0.40,
        range_base=2000,
        hunt_pilot="2900",
        hunt_label="Milano customer service",
        hunt_department="Support",
        voicemail_pilot="2999",
        gateway="MIL-GW-01",
        subnet="10.10",
        pstn_codec=2,
    ),
    SiteSpec(
        name="London",
        code="LON",
        country="GB",
        time_zone="Europe/London",
        language="en",
        access_codes=("9",),
        internal_ranges=("4000-4999",),
        emergency_numbers=("9999", "9112"),
        share=0.30,
        range_base=4000,
        hunt_pilot="4900",
        hunt_label="London reception",
        hunt_department="Operations",
        voicemail_pilot="4999",
        gateway="LON-SBC-01",
        subnet="10.20",
        pstn_codec=2,
    ),
    SiteSpec(
        name="New York",
        code="NYC",
        country="US",
        time_zone="America/New_York",
        language="en",
        access_codes=("9",),
        internal_ranges=("6000-6999",),
        emergency_numbers=("9911",),
        share=0.30,
        range_base=6000,
        hunt_pilot="6900",
        hunt_label="New York sales line",
        hunt_department="Sales",
        voicemail_pilot="6999",
        gateway="NYC-SBC-01",
        subnet="10.30",
        pstn_codec=4,
    ),
)
SITE_BY_NAME = {s.name: s for s in SITES}


@dataclass(frozen=True)
class DeviceSpec:
    """A device inventory entry as the configuration lists it."""

    device: str
    kind: str
    label: str
    site: str = ""
    tariff_plan: str = ""
    channels: int | None = None


DEVICES: tuple[DeviceSpec, ...] = (
    DeviceSpec("MIL-GW-01", "gateway", "Milano PSTN", "Milano", "it-carrier", 30),
    DeviceSpec("LON-SBC-01", "trunk", "London SIP trunk", "London", "uk-carrier", 60),
    DeviceSpec("NYC-SBC-01", "trunk", "New York SIP trunk", "New York", "us-carrier", 46),
    DeviceSpec("CUC-VM-*", "voicemail", "Voicemail"),
    DeviceSpec("CFB-*", "conference", "Conference bridge"),
)
# The carrier whose calls sound bad: quality reports should point at it.
POOR_QUALITY_GATEWAY = "NYC-SBC-01"
VOICEMAIL_SERVER_IP = "10.10.0.20"
VOICEMAIL_PORTS = 16
RECORDER_NUMBER = "88001"
RECORDER_DEVICE = "REC-SIP-01"
RECORDER_IP = "10.10.0.40"
RECORDER_PARTITION = "PT-Recording"


def ip_to_int(ip: str) -> int:
    """CUCM's integer form of an IPv4 address: signed 32-bit, little-endian byte order."""
    return int(struct.unpack("<i", socket.inet_aton(ip))[0])


@dataclass(eq=False)
class Endpoint:
    """Something a CDR names on one side of a leg: a phone line, a gateway, a voicemail port, a bridge."""

    kind: str  # phone | gateway | voicemail | conference | recorder
    device: str
    ip: str
    site: SiteSpec | None
    number: str = ""
    node: int = 1
    partition: str = ""
    soft: bool = False  # a soft client (CSF) rather than a desk phone
    mac: str = ""  # lower-case hex, part of the device session IDs
    owner: str = ""
    # set only for the reassigned line: who had it before `change_at` (epoch seconds)
    previous_owner: str = ""
    change_at: int = 0
    weight: float = 1.0
    ip_int: int = field(init=False)
    # CDR attributes of this endpoint as the calling side and as the called side (see prepare())
    as_orig: dict = field(init=False, repr=False)
    as_dest: dict = field(init=False, repr=False)
    as_dest_unreached: dict = field(init=False, repr=False)
    session_suffix: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ip_int = ip_to_int(self.ip)
        self.prepare()

    def prepare(self) -> None:
        """Precompute the CDR fields this endpoint fills on each side of a leg (after any change of owner)."""
        where = {"oip_int": self.ip_int, "oip": self.ip, "odev": self.device}
        if self.kind == "gateway":
            self.as_orig = where | {"in_proto": 1}
            self.as_dest_unreached = {"ddev": self.device, "out_proto": 1}
        else:
            self.as_orig = where | {"onode": self.node, "calling": self.number}
            self.as_dest_unreached = {"ddev": self.device, "dnode": self.node}
        if self.kind == "phone":
            self.as_orig |= {"calling_pt": self.partition, "calling_user": self.owner}
            self.as_dest_unreached["final_user"] = self.owner
        self.as_dest = self.as_dest_unreached | {"dip_int": self.ip_int, "dip": self.ip}
        # CUCM device session IDs end in 00105000a000 and the device's MAC address
        self.session_suffix = "00105000a000" + self.mac


@dataclass
class Employee:
    """A person in the directory, as written to directory.csv."""

    username: str
    first_name: str
    last_name: str
    department: str
    site: SiteSpec | None
    role: str = "user"
    manager: str = ""
    extensions: list[str] = field(default_factory=list)
    valid_from: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"

    @property
    def cost_centre(self) -> str:
        if self.site is None:
            return ""
        return f"CC-{self.site.country}-{DEPARTMENT_CODES[self.department]}"


@dataclass
class SiteStaff:
    """A site's lines and the hunt group and voicemail that serve it."""

    spec: SiteSpec
    lines: list[Endpoint]  # every employee line, desk phones and soft clients
    hunt_members: list[Endpoint]
    voicemail: list[Endpoint]
    bridge: Endpoint
    gateway: Endpoint
    by_department: dict[str, list[Endpoint]]


@dataclass
class Company:
    """The whole demo company."""

    people: list[Employee]
    sites: list[SiteStaff]
    lines: dict[str, Endpoint]
    recorder: Endpoint
    change_at: datetime | None

    def site(self, name: str) -> SiteStaff:
        """The staff and equipment of one site."""
        return next(s for s in self.sites if s.spec.name == name)


# --- names ----------------------------------------------------------------------------------------

_NAMES = {
    "IT": (
        "Marco Luca Giulia Francesca Alessandro Chiara Matteo Sara Lorenzo Martina Andrea Elena Davide Valentina "
        "Simone Federica Stefano Silvia Paolo Laura Giorgio Anna Riccardo Alessia Roberto Elisa Fabio Giorgia "
        "Tommaso Ilaria Emanuele Beatrice Nicola Serena Daniele Camilla Massimo Paola Filippo Marta",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De Luca Mancini "
        "Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara Galli "
        "Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De Santis D'Angelo Marchetti "
        "Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina Sala De Angelis Gatti "
        "Pellegrini Palumbo Sanna Farina Rizzi Monti",
    ),
    "GB": (
        "Oliver George Harry Jack Charlie Thomas James William Emily Olivia Amelia Isla Ava Jessica Sophie Grace "
        "Lily Charlotte Daniel Samuel Joseph Alfie Henry Edward Eleanor Alice Freya Poppy Harriet Imogen Rosie "
        "Matilda Benjamin Oscar Archie Lucy Hannah Ruby Evie Florence",
        "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
        "Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis "
        "Rodriguez Cox Alexander Morgan Moore Hughes Edwards Hill Turner Cooper Ward Harris Martin Baker Allen "
        "King Harrison Young Scott Price Bennett Gray Fletcher Hunt Holmes Chapman Barker Lloyd Shaw Marshall",
    ),
    "US": (
        "Michael Jennifer David Jessica Christopher Ashley Matthew Amanda Joshua Sarah Andrew Stephanie Ryan "
        "Nicole Brandon Elizabeth Tyler Megan Kevin Lauren Justin Rachel Brian Samantha Jason Kayla Eric Brittany "
        "Robert Heather John Emily Daniel Hannah Anthony Madison Jacob Taylor Ethan Olivia",
        "Johnson Williams Miller Davis Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Anderson Thomas Moore "
        "Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen "
        "King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell "
        "Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Murphy",
    ),
}


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _mac(rng: random.Random) -> str:
    # Cisco's own OUIs on desk phones
    oui = rng.choice(("00ebd5", "2c3124", "5006ab", "a4b439", "cc7f75", "f87b20"))
    return oui + f"{rng.getrandbits(24):06x}"


def _department_sizes(total: int) -> dict[str, int]:
    sizes = {d: max(2, round(total * s)) for d, s in DEPARTMENT_SHARE.items()}
    # absorb rounding in Engineering so the site has exactly `total` people
    sizes["Engineering"] += total - sum(sizes.values())
    if sizes["Engineering"] < 2:
        raise ValueError(f"a site needs at least {2 * len(DEPARTMENTS)} people, got {total}")
    return sizes


@lru_cache(maxsize=8)
def build_company(users: int = DEFAULT_USERS, change_at: datetime | None = None) -> Company:
    """The company with `users` employees (about 300 by default); `change_at` is when line 4110 changes hands."""
    if not MIN_USERS <= users <= MAX_USERS:
        raise ValueError(f"--users must be between {MIN_USERS} and {MAX_USERS}, got {users}")
    rng = random.Random(COMPANY_SEED)
    people: list[Employee] = []
    used_names: set[str] = set()
    lines: dict[str, Endpoint] = {}
    staffs: list[SiteStaff] = []
    counts = [round(users * s.share) for s in SITES]
    counts[0] += users - sum(counts)
    change_epoch = int(change_at.timestamp()) if change_at else 0
    ceo = ""
    for spec, count in zip(SITES, counts, strict=True):
        firsts, lasts = (part.split() for part in _NAMES[spec.country])
        sizes = _department_sizes(count)
        next_ext = spec.range_base + 100
        next_soft = spec.range_base + 800
        site_lines: list[Endpoint] = []
        by_dept: dict[str, list[Endpoint]] = {d: [] for d in DEPARTMENTS}
        site_head = ""

        def add_line(number: str, owner: str, soft: bool, dept: str, spec: SiteSpec = spec, site_lines=site_lines,
                     by_dept=by_dept) -> None:  # fmt: skip
            ep = _phone_line(spec, number, owner, soft, CALL_ACTIVITY[dept], len(site_lines), rng)
            lines[number] = ep
            site_lines.append(ep)
            by_dept[dept].append(ep)

        for dept in ("Management", *[d for d in DEPARTMENTS if d != "Management"]):
            head = ""
            for i in range(sizes[dept]):
                first, last = rng.choice(firsts), rng.choice(lasts)
                user = _unique(used_names, first, last)
                is_head = i == 0
                role = "supervisor" if is_head else "user"
                # heads report to the site's general manager (who reports to the first one, in Milano)
                manager = (site_head if dept != "Management" else ceo) if is_head else head
                person = Employee(user, first, last, dept, spec, role=role, manager=manager)
                if next_ext >= spec.range_base + 800:
                    raise ValueError(f"{spec.name}: too many people for the range {spec.internal_ranges[0]}")
                ext = str(next_ext)
                next_ext += 1
                # one person in seven works on a soft client only; one in twenty has both
                roll = rng.random()
                add_line(ext, user, soft=roll < 0.14, dept=dept)
                person.extensions.append(ext)
                if 0.14 <= roll < 0.19 and next_soft < spec.range_base + 900:
                    soft_ext = str(next_soft)
                    next_soft += 1
                    add_line(soft_ext, user, soft=True, dept=dept)
                    person.extensions.append(soft_ext)
                people.append(person)
                if is_head:
                    head = user
                    if dept == "Management":
                        site_head = user
                        if not ceo:
                            ceo = user
        gateway = Endpoint("gateway", spec.gateway, f"{spec.subnet}.0.10", spec, node=1)
        voicemail = [
            Endpoint(
                "voicemail",
                f"CUC-VM-{spec.code}-{i:02d}",
                VOICEMAIL_SERVER_IP,
                spec,
                number=spec.voicemail_pilot,
                node=NODES[i % len(NODES)],
                partition=spec.dn_partition,
            )
            for i in range(1, VOICEMAIL_PORTS + 1)
        ]
        bridge = Endpoint("conference", f"CFB-{spec.code}-01", f"{spec.subnet}.0.30", spec, node=1)
        members = by_dept[spec.hunt_department][1:6]  # the head does not take queue calls
        staffs.append(SiteStaff(spec, site_lines, members, voicemail, bridge, gateway, by_dept))

    # The reassigned line: its first owner leaves halfway through, a new hire takes line and phone.
    line = lines[REASSIGNED_EXTENSION]
    leaver = next(p for p in people if REASSIGNED_EXTENSION in p.extensions)
    newcomer = Employee(
        _unique(used_names, "Priya", "Sharma"),
        "Priya",
        "Sharma",
        leaver.department,
        leaver.site,
        manager=leaver.manager,
        extensions=[REASSIGNED_EXTENSION],
        valid_from=change_at,
    )
    people.append(newcomer)
    line.previous_owner, line.owner, line.change_at = leaver.username, newcomer.username, change_epoch
    line.weight = 6.0  # a busy line, so both owners have plenty of calls
    line.prepare()
    people.append(Employee(ADMIN_USERNAME, "Ringledger", "Administrator", "Management", None, role="administrator"))
    recorder = Endpoint("recorder", RECORDER_DEVICE, RECORDER_IP, SITES[0], number=RECORDER_NUMBER, node=1)
    return Company(people, staffs, lines, recorder, change_at)


def _phone_line(spec: SiteSpec, number: str, owner: str, soft: bool, weight: float, index: int,
                rng: random.Random) -> Endpoint:  # fmt: skip
    """A desk phone (SEP + MAC) or soft client (CSF + user) with the site's next address."""
    host = 17 + index  # phone addresses start at <subnet>.16.x
    mac = _mac(rng)
    return Endpoint(
        kind="phone",
        device=("CSF" + owner.upper())[:15] if soft else "SEP" + mac.upper(),
        ip=f"{spec.subnet}.{16 + host // 250}.{host % 250 + 2}",
        site=spec,
        number=number,
        node=NODES[int(number) % len(NODES)],
        partition=spec.dn_partition,
        soft=soft,
        mac=mac,
        owner=owner,
        weight=weight,
    )


def _unique(used: set[str], first: str, last: str) -> str:
    base = _ascii(first[0] + last)
    name, n = base, 1
    while name in used or name == ADMIN_USERNAME:
        n += 1
        name = f"{base}{n}"
    used.add(name)
    return name


# --- files ----------------------------------------------------------------------------------------


def directory_csv(company: Company) -> str:
    """The directory in the CSV format `ringledger users import` reads (extensions separated by ';').

    The leaver of the reassigned line comes before the new hire: importing in file order closes
    the leaver's assignment at the new hire's `valid_from`.
    """
    from warehouse.directory import CSV_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in company.people:
        site = p.site
        row = {
            "username": p.username,
            "display_name": p.display_name,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "email": p.email,
            "department": p.department,
            "cost_centre": p.cost_centre,
            "manager": p.manager,
            "site": site.name if site else "",
            "language": site.language if site else "en",
            "time_zone": site.time_zone if site else COMPANY_ZONE,
            "role": p.role,
            "extensions": ";".join(p.extensions),
            "valid_from": p.valid_from.astimezone(UTC).isoformat() if p.valid_from else "",
        }
        writer.writerow([row[c] for c in CSV_COLUMNS])
    return out.getvalue()


def config_toml(tariff_folder: str | None = None) -> str:
    """ringledger.toml for the demo company: company, sites, device inventory and exchange rates.

    With `tariff_folder` (relative to the file), the carriers' tariff plans are configured from
    there; otherwise they are expected in the data home's tariffs folder (where load_demo puts them).
    """
    import tomlkit

    from tariffs import demo as demo_tariffs

    doc = tomlkit.document()
    for line in (
        f"Ringledger configuration for the demo company {COMPANY_NAME}, written by `ringledger demo`.",
        "Three offices in three countries and time zones; one PSTN gateway or SIP trunk each;",
        "voicemail (CUC-VM-*) and conference bridges (CFB-*) listed so their legs are never billed.",
        "Edit freely: `ringledger demo` writes this file again only into a folder it is told to use.",
    ):
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc.add("demo", True)
    company = tomlkit.table()
    company.add("name", COMPANY_NAME)
    company.add("time_zone", COMPANY_ZONE)
    company.add("language", "en")
    company.add("currency", CURRENCY)
    doc.add("company", company)
    sites = tomlkit.aot()
    for s in SITES:
        t = tomlkit.table()
        t.add("name", s.name)
        t.add("country", s.country)
        t.add("time_zone", s.time_zone)
        t.add("language", s.language)
        t.add("access_codes", list(s.access_codes))
        t.add("internal_ranges", list(s.internal_ranges))
        t.add("emergency_numbers", list(s.emergency_numbers))
        sites.append(t)
    doc.add("sites", sites)
    devices = tomlkit.aot()
    for d in DEVICES:
        t = tomlkit.table()
        t.add("device", d.device)
        t.add("kind", d.kind)
        t.add("label", d.label)
        if d.site:
            t.add("site", d.site)
        if d.tariff_plan:
            t.add("tariff_plan", d.tariff_plan)
        if d.channels is not None:
            t.add("channels", d.channels)
        devices.append(t)
    doc.add("devices", devices)
    rates = tomlkit.table()
    for code, rate in demo_tariffs.EXCHANGE_RATES.items():
        rates.add(code, float(rate))
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment(f"Exchange rates into {CURRENCY}: the carriers bill in their own currency."))
    doc.add("currencies", rates)
    if tariff_folder is not None:
        tariffs = tomlkit.table()
        plans = tomlkit.table(is_super_table=True)
        for name in demo_tariffs.PLANS:
            entry = tomlkit.table()
            entry.add("path", f"{tariff_folder}/{name}")
            plans.add(name, entry)
        tariffs.add("plans", plans)
        doc.add("tariffs", tariffs)
    return tomlkit.dumps(doc)
