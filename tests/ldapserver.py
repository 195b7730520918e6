"""A throwaway OpenLDAP server (Debian slapd) on 127.0.0.1 with an AD-like and an OpenLDAP-like tree.

`Slapd.start(dir)` writes a configuration, a small schema that gives OpenLDAP the Active Directory
attributes Ringledger reads (sAMAccountName, ipPhone, department, extensionAttribute1, memberOf,
objectCategory, userAccountControl with AD's bitwise matching rule), a CA and a server certificate
(for ldaps:// and StartTLS), loads the entries with slapadd and runs slapd in the foreground.
`reset()` puts the entries back as they were, so every test starts from the same directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"

OL_SUFFIX = "dc=example,dc=org"
AD_SUFFIX = "DC=corp,DC=example,DC=com"
ROOT_PASSWORD = "rootpw-test"
OL_SERVICE_DN = f"cn=svc-ringledger,ou=service,{OL_SUFFIX}"
AD_SERVICE_DN = f"CN=svc-ringledger,OU=Service,{AD_SUFFIX}"
SERVICE_PASSWORD = "svc-Secret-1"

# Active Directory's attributes, with Microsoft's OIDs, for an OpenLDAP that plays a domain controller.
AD_SCHEMA = """
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
    EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
    SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.721 NAME 'ipPhone'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( 1.2.840.113556.1.2.141 NAME 'department'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.423 NAME 'extensionAttribute1'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.2.102 NAME 'memberOf'
    EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
attributetype ( 1.2.840.113556.1.4.782 NAME 'objectCategory'
    EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.2.840.113556.1.5.9 NAME 'user' SUP inetOrgPerson STRUCTURAL
    MAY ( sAMAccountName $ ipPhone $ department $ extensionAttribute1 $ memberOf $
          objectCategory $ userAccountControl ) )
objectclass ( 1.2.840.113556.1.5.8 NAME 'group' SUP top STRUCTURAL
    MUST cn MAY ( member $ description $ objectCategory ) )
"""

SLAPD_CONF = """
include  /etc/ldap/schema/core.schema
include  /etc/ldap/schema/cosine.schema
include  /etc/ldap/schema/inetorgperson.schema
include  {d}/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile  {d}/slapd.pid
argsfile {d}/slapd.args
loglevel none
TLSCACertificateFile {d}/ca.pem
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key

database mdb
maxsize  104857600
suffix   "{ol}"
rootdn   "cn=admin,{ol}"
rootpw   {root}
directory {d}/db-ol
index objectClass eq
index uid,mail eq,sub
index member,uniqueMember eq
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by users read
    by * none

database mdb
maxsize  104857600
suffix   "{ad}"
rootdn   "CN=admin,{ad}"
rootpw   {root}
directory {d}/db-ad
index objectClass eq
index sAMAccountName eq,sub
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by users read
    by * none
"""


def _ol(rdn: str) -> str:
    return f"{rdn},{OL_SUFFIX}"


def _ad(rdn: str) -> str:
    return f"{rdn},{AD_SUFFIX}"


def person_ol(uid: str, cn: str, password: str, **attrs) -> tuple[str, dict]:
    """An inetOrgPerson under ou=people of the OpenLDAP tree."""
    first, _, last = cn.partition(" ")
    entry = {
        "objectClass": ["inetOrgPerson"],
        "uid": uid,
        "cn": cn,
        "sn": last or cn,
        "givenName": first,
        "mail": f"{uid}@example.org",
        "userPassword": password,
    }
    entry.update({k: v for k, v in attrs.items() if v is not None})
    return _ol(f"uid={uid},ou=people"), entry


def person_ad(sam: str, cn: str, password: str, **attrs) -> tuple[str, dict]:
    """An AD-like user under OU=Staff of the AD tree."""
    first, _, last = cn.partition(" ")
    entry = {
        "objectClass": ["user"],
        "cn": cn,
        "sn": last or cn,
        "givenName": first,
        "displayName": cn,
        "sAMAccountName": sam,
        "mail": f"{sam}@corp.example.com",
        "objectCategory": "person",
        "userAccountControl": "512",
        "userPassword": password,
    }
    entry.update({k: v for k, v in attrs.items() if v is not None})
    return _ad(f"CN={cn},OU=Staff"), entry


OL_ADMINS = _ol("cn=ringledger-admins,ou=groups")
OL_SUPERVISORS = _ol("cn=ringledger-supervisors,ou=groups")
OL_CONTROLLERS = _ol("cn=finance-controllers,ou=groups")
AD_ADMINS = _ad("CN=Ringledger Admins,OU=Groups")
AD_SUPERVISORS = _ad("CN=Ringledger Supervisors,OU=Groups")


def base_entries() -> list[tuple[str, dict]]:
    """Every entry of both trees, parents first."""
    carol = _ol("uid=carol,ou=people")
    fiona = _ad("CN=Fiona Weiss,OU=Staff")
    return [
        (OL_SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": "example", "o": "Example"}),
        *[
            (_ol(f"ou={ou}"), {"objectClass": ["organizationalUnit"], "ou": ou})
            for ou in ("people", "groups", "service")
        ],
        (
            OL_SERVICE_DN,
            {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": "svc-ringledger",
                "userPassword": SERVICE_PASSWORD,
            },
        ),
        person_ol(
            "alice",
            "Alice Muster",
            "alicepw",
            telephoneNumber="+41 44 668 1801",
            ou="Sales",
            departmentNumber="CC-100",
            manager=carol,
            preferredLanguage="de-CH",
        ),
        person_ol(
            "bob", "Bob Keller", "bobpw", telephoneNumber="1802", ou="Sales", departmentNumber="CC-100", manager=carol
        ),
        person_ol(
            "carol",
            "Carol Frei",
            "carolpw",
            telephoneNumber="+41 44 668 1810",
            ou="Sales Management",
            departmentNumber="CC-900",
        ),
        person_ol("dave", "Dave Admin", "davepw", ou="IT", departmentNumber="CC-300"),
        person_ol(
            "erin", "Erin Moser", "erinpw", telephoneNumber="+41 79 555 12 34", ou="Support", departmentNumber="CC-400"
        ),
        person_ol("frank", "Frank Huber", "frankpw", telephoneNumber="1820", ou="Finance", departmentNumber="CC-500"),
        (
            OL_ADMINS,
            {"objectClass": ["groupOfNames"], "cn": "ringledger-admins", "member": [_ol("uid=dave,ou=people")]},
        ),
        (
            OL_SUPERVISORS,
            {"objectClass": ["groupOfNames"], "cn": "ringledger-supervisors", "member": [carol]},
        ),
        (
            OL_CONTROLLERS,
            {
                "objectClass": ["groupOfUniqueNames"],
                "cn": "finance-controllers",
                "uniqueMember": [_ol("uid=frank,ou=people")],
            },
        ),
        (AD_SUFFIX, {"objectClass": ["dcObject", "organization"], "dc": "corp", "o": "Corp"}),
        *[
            (_ad(f"OU={ou}"), {"objectClass": ["organizationalUnit"], "ou": ou})
            for ou in ("Staff", "Groups", "Service")
        ],
        (
            AD_SERVICE_DN,
            {
                "objectClass": ["organizationalRole", "simpleSecurityObject"],
                "cn": "svc-ringledger",
                "userPassword": SERVICE_PASSWORD,
            },
        ),
        (AD_ADMINS, {"objectClass": ["group"], "cn": "Ringledger Admins", "objectCategory": "group"}),
        (AD_SUPERVISORS, {"objectClass": ["group"], "cn": "Ringledger Supervisors", "objectCategory": "group"}),
        person_ad(
            "erik",
            "Erik Berg",
            "erikpw",
            ipPhone="2001",
            telephoneNumber="+39 02 1234 5601",
            department="Finance",
            extensionAttribute1="CC-200",
            manager=fiona,
        ),
        person_ad(
            "fiona",
            "Fiona Weiss",
            "fionapw",
            ipPhone="2002",
            department="Finance",
            extensionAttribute1="CC-200",
            memberOf=[AD_ADMINS],
        ),
        person_ad(
            "gino",
            "Gino Rossi",
            "ginopw",
            telephoneNumber="+39 02 1234 2003",
            department="Sales",
            extensionAttribute1="CC-210",
            manager=fiona,
        ),
        person_ad(
            "hugo",
            "Hugo Brandt",
            "hugopw",
            ipPhone="2010",
            department="Logistics",
            extensionAttribute1="CC-220",
            memberOf=[AD_SUPERVISORS],
        ),
        person_ad(
            "dan",
            "Dan Gone",
            "danpw",
            ipPhone="2020",
            department="Sales",
            extensionAttribute1="CC-210",
            userAccountControl="514",  # ACCOUNTDISABLE set
        ),
    ]


def _ldif(entries: list[tuple[str, dict]]) -> str:
    out = []
    for dn, attrs in entries:
        out.append(f"dn: {dn}")
        for name, value in attrs.items():
            for v in value if isinstance(value, list) else [value]:
                out.append(f"{name}: {v}")
        out.append("")
    return "\n".join(out) + "\n"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificates(d: Path) -> None:
    """A CA, and a server certificate it signed for localhost and 127.0.0.1."""
    openssl = shutil.which("openssl") or "/usr/bin/openssl"

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, cwd=d, capture_output=True)

    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
        "-subj", "/CN=Ringledger Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "3", "-extfile", "server.ext",
    )  # fmt: skip
    # a second CA that signed nothing: a client trusting only it must refuse the server
    run(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem",
        "-days", "3", "-subj", "/CN=Some Other CA",
    )  # fmt: skip


@dataclass
class Slapd:
    """A running slapd; stop() ends it by its PID."""

    dir: Path
    port: int
    tls_port: int
    process: subprocess.Popen | None = None
    entries: list[tuple[str, dict]] = field(default_factory=base_entries)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def other_ca_file(self) -> Path:
        return self.dir / "other-ca.pem"

    @classmethod
    def start(cls, d: Path) -> Slapd:
        """Configure, load and start slapd in `d`; waits until it accepts connections."""
        server = cls(d, free_port(), free_port())
        (d / "db-ol").mkdir()
        (d / "db-ad").mkdir()
        (d / "ad.schema").write_text(AD_SCHEMA)
        _certificates(d)
        (d / "slapd.conf").write_text(SLAPD_CONF.format(d=d, ol=OL_SUFFIX, ad=AD_SUFFIX, root=ROOT_PASSWORD))
        for suffix in (OL_SUFFIX, AD_SUFFIX):
            part = [(dn, a) for dn, a in server.entries if dn.lower().endswith(suffix.lower())]
            name = d / f"{'ad' if suffix == AD_SUFFIX else 'ol'}.ldif"
            name.write_text(_ldif(part))
            subprocess.run(
                [SLAPADD, "-q", "-f", str(d / "slapd.conf"), "-b", suffix, "-l", str(name)],
                check=True,
                capture_output=True,
            )
        log = (d / "slapd.log").open("w")
        server.process = subprocess.Popen(
            [
                SLAPD,
                "-f",
                str(d / "slapd.conf"),
                "-h",
                f"ldap://127.0.0.1:{server.port}/ ldaps://127.0.0.1:{server.tls_port}/",
                "-d",
                "0",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(d / 'slapd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError("slapd did not start listening within 30 s") from None
                time.sleep(0.02)
        return server

    def stop(self) -> None:
        """Stop slapd (SIGTERM to its PID) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def admin(self, suffix: str = OL_SUFFIX):
        """An ldap3 connection bound as the tree's root (to change entries in a test)."""
        from ldap3 import Connection, Server

        root = f"cn=admin,{OL_SUFFIX}" if suffix == OL_SUFFIX else f"CN=admin,{AD_SUFFIX}"
        return Connection(Server(self.url), user=root, password=ROOT_PASSWORD, auto_bind=True)

    def reset(self) -> None:
        """Put every entry back as `base_entries()` has it (removing any a test added)."""
        from ldap3 import SUBTREE

        for suffix in (OL_SUFFIX, AD_SUFFIX):
            conn = self.admin(suffix)
            try:
                conn.search(suffix, "(objectClass=*)", SUBTREE, attributes=["1.1"])
                dns = [e["dn"] for e in conn.response if e.get("type") == "searchResEntry"]
                for dn in sorted(dns, key=lambda x: x.count(","), reverse=True):
                    if dn.lower() != suffix.lower():
                        conn.delete(dn)
                for dn, attrs in self.entries:
                    if not dn.lower().endswith(suffix.lower()) or dn.lower() == suffix.lower():
                        continue
                    attrs = dict(attrs)
                    classes = attrs.pop("objectClass")
                    if not conn.add(dn, classes, attrs):
                        raise RuntimeError(f"could not restore {dn}: {conn.result}")
            finally:
                conn.unbind()


SITES_TOML = """
[[sites]]
name = "ZRH"
country = "CH"
time_zone = "Europe/Zurich"
internal_ranges = ["1800-1899"]

[[sites]]
name = "MIL"
country = "IT"
time_zone = "Europe/Rome"
internal_ranges = ["2000-2099"]

[[devices]]
device = "GW-*"
kind = "gateway"
label = "PSTN"
"""


def openldap_toml(server: Slapd, *, url: str | None = None, extra: str = "", roles: bool = True) -> str:
    """A ringledger.toml with the sites and the OpenLDAP preset on this server."""
    text = (
        SITES_TOML
        + f"""
[ldap]
preset = "openldap"
urls = ["{url or server.url}"]
bind_dn = "{OL_SERVICE_DN}"
user_base = "ou=people,{OL_SUFFIX}"
group_base = "ou=groups,{OL_SUFFIX}"
timeout_seconds = 5
{extra}
"""
    )
    if roles:
        text += f"""
[ldap.roles]
administrator = ["{OL_ADMINS}"]
supervisor = ["{OL_SUPERVISORS}"]

[[ldap.scope_groups]]
group = "{OL_CONTROLLERS}"
departments = ["Sales"]
cost_centres = ["CC-400"]
"""
    return text


def ad_toml(server: Slapd, *, extra: str = "") -> str:
    """A ringledger.toml with the sites and the Active Directory preset on this server."""
    return (
        SITES_TOML
        + f"""
[ldap]
preset = "ad"
urls = ["{server.url}"]
bind_dn = "{AD_SERVICE_DN}"
user_base = "OU=Staff,{AD_SUFFIX}"
timeout_seconds = 5
{extra}

[ldap.roles]
administrator = ["{AD_ADMINS.lower()}"]
supervisor = ["{AD_SUPERVISORS}"]
"""
    )
