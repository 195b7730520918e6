"""LDAP / Active Directory: log-in by bind, and the directory sync into the app database.

Every connection goes to the first server of `[ldap] urls` that answers, encrypted with ldaps:// or
StartTLS when configured (the server certificate checked against `ca_file` unless `tls_verify` is off).
Searches run as the service account (`bind_dn`, password from the environment variable named by
`bind_password_env`); a log-in looks the person up by their user name, with every value escaped by
ldap3's `escape_filter_chars`, then binds as that person with the password they typed.
"""

from __future__ import annotations

import contextlib
import math
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from ldap3 import BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn
from sqlalchemy.engine import Engine

from warehouse.access import account_block, supervisor_scope
from warehouse.appdb import extension_assignment, users, utcnow
from warehouse.directory import (
    ImportResult,
    Person,
    apply_people,
    close_assignments,
    phone_to_extension,
    publish_snapshot,
    record_sync,
)
from warehouse.lake import Lake

SYNC_ACTOR = "system:directory_sync"


class DirectoryUnavailable(Exception):
    """No directory server answered, or the service account was refused; the message says which."""


class DirectorySyncError(ValueError):
    """A sync could not run or was stopped before changing anything; the message says why."""


@dataclass
class DirectoryEntry:
    """A directory object: its DN and attribute values (names lower-cased, values as text)."""

    dn: str
    attributes: dict[str, list[str]]

    def values(self, names: list[str]) -> list[str]:
        """Every value of the first of these attributes that has any."""
        for name in names:
            found = [v for v in self.attributes.get(name.lower(), []) if v.strip()]
            if found:
                return found
        return []

    def first(self, names: list[str]) -> str:
        """The first value of the first of these attributes that has one, else ''."""
        found = self.values(names)
        return found[0].strip() if found else ""


def normalise_dn(dn: str) -> str:
    """A DN in a form that compares equal however it was spelled (case, spaces around ',' and '=')."""
    try:
        return ",".join(f"{attr.strip().lower()}={value.strip().lower()}" for attr, value, _ in parse_dn(dn))
    except LDAPException:
        return ",".join(part.strip().lower() for part in dn.split(","))


# --- connections -------------------------------------------------------------------------------


def _service_password(cfg) -> str:
    if not cfg.bind_dn:
        return ""
    password = os.environ.get(cfg.bind_password_env, "")
    if not password:
        raise DirectoryUnavailable(
            f"[ldap] bind_dn is set but the environment variable {cfg.bind_password_env} "
            "(the service account's password) is empty or not set"
        )
    return password


class _Tls(Tls):
    """ldap3's TLS settings, with the certificate and host name checked by Python's own ssl module.

    (ldap3 2.9 checks host names with `ssl.match_hostname`, which Python deprecated.)
    """

    def __init__(self, verify: bool, ca_file: str | None):
        super().__init__(validate=ssl.CERT_REQUIRED if verify else ssl.CERT_NONE, ca_certs_file=ca_file)
        self.verify = verify

    def wrap_socket(self, connection, do_handshake=False):
        """Wrap the connection's socket in TLS (TLS 1.2 or newer; certificate and host name checked)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.ca_certs_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connection.socket = context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=connection.server.host,
        )


def _tls(cfg) -> Tls:
    return _Tls(cfg.tls_verify, cfg.ca_file or None)


def _discard(conn: Connection) -> None:
    """Close the socket of a connection that failed to open (ldap3 leaves it open)."""
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()
        conn.socket = None


def _open(cfg, user: str | None, password: str | None) -> tuple[Connection | None, str]:
    """A bound connection to the first server that answers, or (None, why). Raises DirectoryUnavailable
    when no server could be reached or TLS failed."""
    problems: list[str] = []
    for url in cfg.urls:
        server = Server(url, get_info=NONE, tls=_tls(cfg), connect_timeout=cfg.timeout_seconds)
        conn = Connection(
            server,
            user=user,
            password=password,
            authentication=SIMPLE if user else None,
            read_only=True,
            auto_referrals=False,
            receive_timeout=max(1, math.ceil(cfg.timeout_seconds)),  # ldap3 packs it as whole seconds
            raise_exceptions=False,
        )
        try:
            conn.open()
            if cfg.start_tls and not conn.start_tls():
                problems.append(f"{url}: StartTLS refused ({conn.result.get('description', '')})")
                conn.unbind()
                continue
        except (LDAPException, OSError, ssl.SSLError) as exc:
            problems.append(f"{url}: {exc}")
            _discard(conn)
            continue
        try:
            if conn.bind():
                return conn, ""
            why = conn.result.get("description", "") or "bind refused"
        except LDAPException as exc:
            problems.append(f"{url}: {exc}")
            _discard(conn)
            continue
        conn.unbind()
        return None, why
    raise DirectoryUnavailable("no directory server answered: " + "; ".join(problems))


def service_connection(settings) -> Connection:
    """A connection bound as the service account (anonymous when no bind_dn); raises DirectoryUnavailable."""
    cfg = settings.ldap
    if not cfg.configured:
        raise DirectoryUnavailable("no directory server is configured ([ldap] preset and urls in ringledger.toml)")
    password = _service_password(cfg)
    conn, why = _open(cfg, cfg.bind_dn or None, password or None)
    if conn is None:
        raise DirectoryUnavailable(f"the directory refused the service account {cfg.bind_dn!r}: {why}")
    return conn


def _text(value) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _entry(item: dict) -> DirectoryEntry:
    """A search result as a DirectoryEntry (raw values decoded as UTF-8; names lower-cased)."""
    raw = item.get("raw_attributes") or {}
    return DirectoryEntry(
        dn=item["dn"], attributes={str(k).lower(): [_text(v) for v in vals] for k, vals in raw.items()}
    )


def _entries(conn: Connection, base: str, search_filter: str, attributes: list[str], cfg) -> Iterator[DirectoryEntry]:
    """Every entry a paged subtree search finds (referrals are skipped)."""
    results = conn.extend.standard.paged_search(
        search_base=base,
        search_filter=search_filter,
        search_scope=SUBTREE,
        attributes=attributes or ["1.1"],
        paged_size=cfg.page_size,
        generator=True,
    )
    for item in results:
        if item.get("type") != "searchResEntry":
            continue
        yield _entry(item)
    result = conn.result or {}
    if result.get("result", 0) not in (0, 4):  # 4: size limit exceeded on a bounded search
        raise DirectoryUnavailable(
            f"search of {base!r} failed: {result.get('description', '')} {result.get('message', '')}"
        )


def _attribute_list(cfg) -> list[str]:
    mapping = cfg.mapping()
    names = {a for attrs in mapping.values() for a in attrs}
    return sorted(names)


# --- log-in ------------------------------------------------------------------------------------


def user_filter(cfg, username: str) -> str:
    """The search filter that finds exactly this user name (the value escaped)."""
    attr = cfg.mapping()["username"][0]
    return f"(&{cfg.effective_user_filter}({attr}={escape_filter_chars(username)}))"


def find_user(conn: Connection, cfg, username: str) -> DirectoryEntry | None:
    """The one person with this user name, or None (none found, or more than one)."""
    conn.search(
        search_base=cfg.user_base,
        search_filter=user_filter(cfg, username),
        search_scope=SUBTREE,
        attributes=_attribute_list(cfg),
        size_limit=2,
    )
    found = [_entry(item) for item in (conn.response or []) if item.get("type") == "searchResEntry"]
    if conn.result.get("result", 0) not in (0, 4):
        raise DirectoryUnavailable(f"user search failed: {conn.result.get('description', '')}")
    return found[0] if len(found) == 1 else None


def authenticate(settings, username: str, password: str) -> DirectoryEntry | None:
    """The person's entry when the directory accepts this user name and password, else None.

    Raises DirectoryUnavailable when the directory cannot be asked (so that is never a wrong password).
    """
    if not username or not password:
        return None  # an empty password would be an unauthenticated bind, which servers accept
    cfg = settings.ldap
    conn = service_connection(settings)
    try:
        entry = find_user(conn, cfg, username)
    finally:
        conn.unbind()
    if entry is None:
        return None
    user_conn, _why = _open(cfg, entry.dn, password)
    if user_conn is None:
        return None
    user_conn.unbind()
    return entry


# --- reading people ----------------------------------------------------------------------------


@dataclass
class DirectoryRead:
    """People read from the directory, with what sync needs beyond a Person."""

    people: list[Person] = field(default_factory=list)
    dns: dict[str, str] = field(default_factory=dict)  # normalised DN -> user name
    groups: dict[str, set[str]] = field(default_factory=dict)  # user name -> normalised group DNs
    warnings: list[str] = field(default_factory=list)


def _group_memberships(conn: Connection, cfg, member_dns: set[str] | None = None) -> dict[str, set[str]]:
    """Normalised member DN -> normalised DNs of the groups that list it (groupOfNames / groupOfUniqueNames)."""
    search_filter = cfg.effective_group_filter
    if member_dns is not None:
        alternatives = "".join(
            f"(member={escape_filter_chars(dn)})(uniqueMember={escape_filter_chars(dn)})" for dn in member_dns
        )
        search_filter = f"(&{search_filter}(|{alternatives}))"
    out: dict[str, set[str]] = {}
    for group in _entries(conn, cfg.effective_group_base, search_filter, ["member", "uniqueMember"], cfg):
        gdn = normalise_dn(group.dn)
        for member in group.attributes.get("member", []) + group.attributes.get("uniquemember", []):
            # groupOfUniqueNames may append '#uid' to a member DN
            out.setdefault(normalise_dn(member.split("#", 1)[0]), set()).add(gdn)
    return out


def _groups_needed(cfg) -> bool:
    return bool(cfg.roles.administrator or cfg.roles.supervisor or cfg.scope_groups)


def _person(settings, entry: DirectoryEntry, warnings: list[str]) -> Person | None:
    cfg = settings.ldap
    mapping = cfg.mapping()
    username = entry.first(mapping["username"])
    if not username:
        warnings.append(f"{entry.dn}: no {'/'.join(mapping['username'])}; skipped")
        return None
    if len(username) > 128 or any(ch.isspace() for ch in username):
        warnings.append(f"{entry.dn}: user name {username!r} is not one word of at most 128 characters; skipped")
        return None
    extensions: list[str] = []
    phone_values: list[str] = []
    for attr in mapping["phones"]:
        values = entry.values([attr])
        phone_values += values
        mapped = [e for e in (phone_to_extension(settings, v) for v in values) if e]
        if mapped:
            extensions = list(dict.fromkeys(mapped))
            break
    if phone_values and not extensions:
        warnings.append(f"{username}: phone {', '.join(phone_values)} is not an internal extension of any site")
    language = entry.first(mapping["language"]).split("-")[0].split("_")[0].lower()[:8]
    first, last = entry.first(mapping["first_name"]), entry.first(mapping["last_name"])
    return Person(
        username=username,
        display_name=entry.first(mapping["display_name"]) or f"{first} {last}".strip(),
        first_name=first,
        last_name=last,
        email=entry.first(mapping["email"]),
        department=entry.first(mapping["department"]),
        cost_centre=entry.first(mapping["cost_centre"]),
        manager=entry.first(mapping["manager"]),  # a DN until resolved to a user name
        site=entry.first(mapping["site"]),
        language=language,
        role="user",
        extensions=extensions,
    )


def read_directory(settings, conn: Connection | None = None) -> DirectoryRead:
    """Everyone the user filter selects, mapped to people with group memberships and managers resolved."""
    cfg = settings.ldap
    own = conn is None
    conn = conn or service_connection(settings)
    read = DirectoryRead()
    try:
        mapping = cfg.mapping()
        entries = list(_entries(conn, cfg.user_base, cfg.effective_user_filter, _attribute_list(cfg), cfg))
        seen: dict[str, str] = {}
        for entry in entries:
            person = _person(settings, entry, read.warnings)
            if person is None:
                continue
            key = person.username.lower()
            if key in seen:
                read.warnings.append(f"{entry.dn}: user name {person.username!r} is also {seen[key]}; skipped")
                continue
            seen[key] = entry.dn
            read.people.append(person)
            read.dns[normalise_dn(entry.dn)] = person.username
            if mapping["member_of"]:
                read.groups[person.username] = {normalise_dn(g) for g in entry.values(mapping["member_of"])}
        if not mapping["member_of"] and _groups_needed(cfg):
            memberships = _group_memberships(conn, cfg)
            for dn, name in read.dns.items():
                read.groups[name] = memberships.get(dn, set())
        _resolve_managers(conn, cfg, read)
    finally:
        if own:
            conn.unbind()
    return read


def _resolve_managers(conn: Connection, cfg, read: DirectoryRead) -> None:
    """Turn each manager DN into the manager's user name (looking up managers outside the search)."""
    username_attrs = cfg.mapping()["username"]
    outside: dict[str, str] = {}
    for person in read.people:
        if not person.manager:
            continue
        key = normalise_dn(person.manager)
        name = read.dns.get(key)
        if name is None and key not in outside:
            found = ""
            try:
                conn.search(person.manager, "(objectClass=*)", search_scope=BASE, attributes=username_attrs)
                hits = [r for r in (conn.response or []) if r.get("type") == "searchResEntry"]
                if hits:
                    found = _entry(hits[0]).first(username_attrs)
            except LDAPException:
                found = ""  # not a DN the server can look up: reported below like a missing manager
            outside[key] = found
        name = name or outside.get(key, "")
        if not name:
            read.warnings.append(f"{person.username}: manager {person.manager!r} is not in the directory")
        elif name == person.username:
            name = ""  # the top of the tree is often its own manager
        person.manager = name


# --- roles and scopes from groups --------------------------------------------------------------


def roles_from_groups(cfg) -> bool:
    """True when the directory decides roles (role groups or managers_are_supervisors are set)."""
    return bool(cfg.roles.administrator or cfg.roles.supervisor or cfg.managers_are_supervisors or cfg.scope_groups)


def derive_role(cfg, groups: set[str], manages_someone: bool) -> str:
    """The role the directory gives a person: administrator group, else supervisor group, scope group
    or (with managers_are_supervisors) having reports, else user."""
    admin = {normalise_dn(g) for g in cfg.roles.administrator}
    supervisor = {normalise_dn(g) for g in cfg.roles.supervisor} | {normalise_dn(s.group) for s in cfg.scope_groups}
    if groups & admin:
        return "administrator"
    if groups & supervisor or (cfg.managers_are_supervisors and manages_someone):
        return "supervisor"
    return "user"


def scopes_from_groups(cfg, groups: set[str]) -> set[tuple[str, str]]:
    """(kind, value) scopes a person gets from the scope groups they are in."""
    out: set[tuple[str, str]] = set()
    for sg in cfg.scope_groups:
        if normalise_dn(sg.group) in groups:
            out.update(("department", d) for d in sg.departments if d)
            out.update(("cost_centre", c) for c in sg.cost_centres if c)
    return out


# --- the sync ----------------------------------------------------------------------------------


def _settle(conn, settings, read: DirectoryRead, result: ImportResult, full: bool) -> list[Person]:
    """Roles from groups (or kept), and one owner per extension (the current owner keeps a disputed one)."""
    cfg = settings.ldap
    existing = {r.id: r for r in conn.execute(sa.select(users.c.id, users.c.role)).all()}
    managers = {p.manager for p in read.people if p.manager}
    if not full:
        # one person provisioned at log-in: whether others report to them is in the database
        managers |= {
            r.manager_id
            for r in conn.execute(
                sa.select(users.c.manager_id).where(users.c.manager_id.is_not(None), users.c.active.is_(True))
            ).all()
        }
    for person in read.people:
        if roles_from_groups(cfg):
            person.role = derive_role(cfg, read.groups.get(person.username, set()), person.username in managers)
        else:
            old = existing.get(person.username)
            person.role = old.role if old is not None else "user"
    holders = {
        r.extension: r.user_id
        for r in conn.execute(
            sa.select(extension_assignment.c.extension, extension_assignment.c.user_id).where(
                extension_assignment.c.valid_to.is_(None)
            )
        ).all()
    }
    claims: dict[str, list[Person]] = {}
    for person in read.people:
        for ext in person.extensions:
            claims.setdefault(ext, []).append(person)
    for ext, claimants in claims.items():
        if len(claimants) < 2:
            continue
        names = sorted(p.username for p in claimants)
        keeper = holders.get(ext) if holders.get(ext) in names else names[0]
        result.warnings.append(f"extension {ext} is listed for {', '.join(names)}; it stays with {keeper}")
        for p in claimants:
            if p.username != keeper:
                p.extensions = [e for e in p.extensions if e != ext]
    return read.people


def apply_directory(
    engine: Engine, settings, read: DirectoryRead, *, when: datetime | None = None, full: bool = True
) -> ImportResult:
    """Write what was read into the app database in one transaction (the sync's changes).

    With `full`, people of the directory who were not read are deactivated (and their extensions
    closed); a single person's provisioning at log-in passes `full=False`.
    """
    cfg = settings.ldap
    when = when or utcnow()
    result = ImportResult(warnings=list(read.warnings))
    with engine.begin() as conn:
        if full and not read.people:
            active = conn.execute(
                sa.select(sa.func.count()).select_from(users).where(users.c.source == "ldap", users.c.active.is_(True))
            ).scalar_one()
            if active:
                raise DirectorySyncError(
                    f"the directory returned nobody under {cfg.user_base!r} with {cfg.effective_user_filter!r}; "
                    f"the {active} directory user(s) were left as they are (check user_base and user_filter)"
                )
        people = _settle(conn, settings, read, result, full)
        blocked = {r.user_id for r in conn.execute(sa.select(account_block.c.user_id)).all()}
        inactive = {r.id for r in conn.execute(sa.select(users.c.id).where(users.c.active.is_(False))).all()} - blocked
        taken_over = {
            r.id
            for r in conn.execute(
                sa.select(users.c.id).where(users.c.source != "ldap", users.c.id.in_([p.username for p in people]))
            ).all()
        }
        apply_people(conn, people, "ldap", when, result)
        names = [p.username for p in people]
        back = [n for n in names if n in inactive]
        if back:
            conn.execute(users.update().where(users.c.id.in_(back)).values(active=True, updated_at=utcnow()))
            result.reactivated = len(back)
        if taken_over:
            # a directory person signs in with the directory password, never a local one
            conn.execute(users.update().where(users.c.id.in_(taken_over)).values(password_hash=None))
        if full and cfg.deactivate_missing:
            gone = [
                r.id
                for r in conn.execute(
                    sa.select(users.c.id).where(
                        users.c.source == "ldap", users.c.active.is_(True), users.c.id.not_in(names)
                    )
                ).all()
            ]
            for name in gone:
                result.extensions_closed += close_assignments(conn, name, when)
            if gone:
                conn.execute(users.update().where(users.c.id.in_(gone)).values(active=False, updated_at=utcnow()))
            result.deactivated = len(gone)
        if roles_from_groups(cfg):
            # group-given scopes are rewritten; scopes an administrator gave stay
            stale = supervisor_scope.c.user_id.in_(names) if not full else sa.true()
            conn.execute(supervisor_scope.delete().where(supervisor_scope.c.source == "ldap", stale))
            now = utcnow()
            for person in people:
                for kind, value in sorted(scopes_from_groups(cfg, read.groups.get(person.username, set()))):
                    conn.execute(
                        supervisor_scope.insert().values(
                            user_id=person.username, kind=kind, value=value, source="ldap", created_at=now
                        )
                    )
    return result


def sync(settings, engine: Engine, lake: Lake | None = None, *, when: datetime | None = None) -> ImportResult:
    """Read the directory and bring users, roles, scopes and extension history up to date; publish the snapshot.

    The outcome (counts, warnings, or the error) is stored for the sync status page and in the audit
    log. Raises DirectorySyncError (after recording it) when the sync could not run.
    """
    from warehouse.audit import DIRECTORY_SYNC, USER_ROLE, audit

    started = utcnow()
    try:
        read = read_directory(settings)
        result = apply_directory(engine, settings, read, when=when)
    except (DirectoryUnavailable, DirectorySyncError, LDAPException) as exc:
        message = str(exc)
        record_sync(engine, "ldap", started, None, error=message)
        audit(engine, SYNC_ACTOR, DIRECTORY_SYNC, "ldap", {"error": message})
        raise DirectorySyncError(message) from None
    lake = lake or Lake(settings.lake_dir)
    publish_snapshot(engine, lake)
    record_sync(engine, "ldap", started, result, people=len(read.people))
    for name, (old, new) in sorted(result.role_changes.items()):
        audit(engine, SYNC_ACTOR, USER_ROLE, name, {"from": old, "to": new})
    audit(
        engine,
        SYNC_ACTOR,
        DIRECTORY_SYNC,
        "ldap",
        {
            "people": len(read.people),
            "created": result.created,
            "updated": result.updated,
            "deactivated": result.deactivated,
            "reactivated": result.reactivated,
            "extensions_opened": result.extensions_assigned,
            "extensions_closed": result.extensions_closed,
            "warnings": len(result.warnings),
        },
    )
    return result


def provision(settings, engine: Engine, entry: DirectoryEntry, lake: Lake | None = None) -> str:
    """Create or refresh one person from their directory entry (a log-in before the first sync); their user name."""
    cfg = settings.ldap
    read = DirectoryRead()
    person = _person(settings, entry, read.warnings)
    if person is None:
        raise DirectorySyncError("; ".join(read.warnings))
    read.people.append(person)
    read.dns[normalise_dn(entry.dn)] = person.username
    conn = service_connection(settings)
    try:
        if cfg.mapping()["member_of"]:
            read.groups[person.username] = {normalise_dn(g) for g in entry.values(cfg.mapping()["member_of"])}
        elif _groups_needed(cfg):
            memberships = _group_memberships(conn, cfg, {entry.dn})
            read.groups[person.username] = memberships.get(normalise_dn(entry.dn), set())
        _resolve_managers(conn, cfg, read)
    finally:
        conn.unbind()
    apply_directory(engine, settings, read, full=False)
    publish_snapshot(engine, lake or Lake(settings.lake_dir))
    return person.username
