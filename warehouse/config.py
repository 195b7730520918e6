"""Ringledger configuration: one TOML file, secrets from the environment, a working default for everything.

The file is `ringledger.toml`, found at `$RINGLEDGER_CONFIG`, else `$RINGLEDGER_HOME/ringledger.toml`.
Data lives under `$RINGLEDGER_HOME` (default `./var`). Settings are read when a resource or app is
built (`load_settings()`), never at import time.

Some settings an administrator changes at run time from the portal; those are stored in the app
database and laid over the file by `load_settings()` (see `warehouse.runtime_settings`). Precedence,
strongest first: environment variables (ports, the database URL, secrets), settings stored in the app
database, the file, the defaults written here. `load_settings()` reads in two phases: the file (and
environment) is validated on its own, which also says where the app database is; then the stored
settings are applied and the result validated again with the same models. Both phases are cached
(the file by its size and time, the stored settings by a revision counter), so calling it often costs
one small query.
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import tomllib
import zoneinfo
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_HOME = "var"
CONFIG_NAME = "ringledger.toml"


class ConfigError(Exception):
    """The configuration file is missing a value, has a wrong one, or cannot be read."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class Company(_Section):
    name: str = "Ringledger"
    time_zone: str = "UTC"
    language: str = "en"
    # The reporting currency: every call's `cost` is in it (carriers' own amounts are in `plan_cost`).
    currency: str = "EUR"

    _zone = field_validator("time_zone")(_check_zone)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"currency {value!r} must be an ISO 4217 code such as EUR")
        return value


class NumberRange(_Section):
    """An inclusive range of internal numbers of one length, such as 2000-2999."""

    low: str
    high: str

    @classmethod
    def parse(cls, text: str) -> NumberRange:
        """Read '2000-2999' or a single number '2100'."""
        parts = [p.strip() for p in text.split("-")]
        if len(parts) == 1:
            parts = parts * 2
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[0]) != len(parts[1]):
            raise ValueError(f"internal range {text!r} must look like 2000-2999 (digits, same length)")
        if int(parts[0]) > int(parts[1]):
            raise ValueError(f"internal range {text!r} runs backwards")
        return cls(low=parts[0], high=parts[1])

    def contains(self, number: str) -> bool:
        """True when the number has this range's length and lies inside it."""
        return len(number) == len(self.low) and number.isdigit() and self.low <= number <= self.high


class Site(_Section):
    name: str
    country: str = "US"
    time_zone: str = "UTC"
    language: str = "en"
    # Digits a user dials to get an outside line; CUCM usually keeps them in the CDR.
    access_codes: list[str] = Field(default_factory=list)
    cdr_has_access_code: bool = True
    internal_ranges: list[str] = Field(default_factory=list)
    # Numbers the dial plan turns into emergency calls beyond the country's own (e.g. "9911", "0112").
    emergency_numbers: list[str] = Field(default_factory=list)
    # The geocoder area whose numbers are "local" calls (e.g. "Milano", "New York"); default: the site's name.
    area: str = ""

    _zone = field_validator("time_zone")(_check_zone)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown country code {value!r} (ISO 3166 alpha-2, such as IT or GB)")
        return value

    @field_validator("access_codes", "emergency_numbers")
    @classmethod
    def _digits(cls, values: list[str]) -> list[str]:
        for v in values:
            if not re.fullmatch(r"[0-9*#+]+", v):
                raise ValueError(f"{v!r} is not a dialable digit string")
        return values

    @field_validator("internal_ranges")
    @classmethod
    def _ranges(cls, values: list[str]) -> list[str]:
        for v in values:
            NumberRange.parse(v)
        return values

    @cached_property
    def ranges(self) -> tuple[NumberRange, ...]:
        """The internal number ranges, parsed."""
        return tuple(NumberRange.parse(v) for v in self.internal_ranges)


DeviceKind = Literal["gateway", "trunk", "phone", "voicemail", "conference", "cti", "other"]


class Device(_Section):
    """A CUCM device name (or shell pattern such as 'MIL-GW-*') and what it is."""

    device: str
    kind: DeviceKind = "gateway"
    label: str = ""
    site: str = ""
    tariff_plan: str = ""
    channels: int = Field(default=30, ge=0)

    def matches(self, name: str) -> bool:
        """True when a CDR device name is this device (case-insensitive; shell patterns allowed)."""
        return fnmatch.fnmatchcase(name.lower(), self.device.lower())


class Ingest(_Section):
    inbox: str = ""
    # A file is complete once its size and time have not changed for this long.
    settle_seconds: float = Field(default=1.0, ge=0)
    sensor_interval_seconds: int = Field(default=2, ge=1)
    # Who pays an outgoing leg of a call forwarded to an outside number: the forwarding line or the caller.
    forwarded_calls_charged_to: Literal["forwarder", "caller"] = "forwarder"
    # Bytes of CDR text parsed per batch; bounds memory when ingesting millions of legs.
    batch_bytes: int = Field(default=256 * 1024 * 1024, ge=1024 * 1024)


class TariffSource(_Section):
    """A tariff plan kept outside the tariffs folder: its path and the terms its format does not carry."""

    path: str
    format: Literal["", "own", "deck", "cgrates"] = ""
    # For decks and CGRateS folders (they carry no currency, zone or billing): default the company's currency.
    currency: str = ""
    time_zone: str = "UTC"
    country: str = ""
    billing: str = "1/1"

    @field_validator("billing")
    @classmethod
    def _billing(cls, value: str) -> str:
        if not re.fullmatch(r"\s*\d{1,5}\s*(/\s*\d{1,5})?\s*", value) or value.strip().startswith("0"):
            raise ValueError(f"billing {value!r} must look like 60/60, 30/6 or 1/1")
        return value

    _zone = field_validator("time_zone")(_check_zone)


class Tariffs(_Section):
    # Plans by name, beyond the own-format folders in $RINGLEDGER_HOME/tariffs.
    plans: dict[str, TariffSource] = Field(default_factory=dict)
    # Processes that classify a large batch of new numbers (0: as many as the machine has, up to 4).
    classify_workers: int = Field(default=0, ge=0, le=64)


class Database(_Section):
    url: str = ""


class Service(_Section):
    address: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)


class DagsterService(Service):
    port: int = Field(default=3000, ge=0, le=65535)
    # A PostgreSQL URL for Dagster's own run and event storage; empty keeps SQLite under the data home.
    storage_url: str = ""
    # Base URL people's browsers reach Dagster's UI at (the portal links to its runs), e.g.
    # https://pipelines.example.com; empty: http://address:port.
    public_url: str = ""

    @property
    def ui_url(self) -> str:
        """Where a browser opens Dagster's UI."""
        return self.public_url.rstrip("/") or f"http://{self.address}:{self.port}"


class Portal(Service):
    """The web portal: where it listens, and what the administrator sets for everyone."""

    port: int = Field(default=8501, ge=0, le=65535)

    # Logo printed on PDF reports (PNG, JPEG or SVG; relative paths are under the data home).
    # Empty: Ringledger's own logo.
    report_logo: str = ""
    # Language for people who have not chosen one and whose directory entry and site name none.
    default_language: str = ""
    # How often Home's last calls refresh themselves, in seconds (0: only with the Refresh button).
    refresh_seconds: int = Field(default=30, ge=0, le=3600)
    # Base URL people's browsers reach the portal at (the gadgets link to its reports), e.g.
    # https://acct.example.com; empty: the phone service's host name with the portal's port.
    public_url: str = ""

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: str) -> str:
        from warehouse.i18n import LANGUAGES

        if value and value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r} (one of {', '.join(LANGUAGES)})")
        return value


class Privacy(_Section):
    # Digits of an external number hidden (replaced by '*') per role. Administrators see full numbers
    # only through the explicit, audited "show full numbers" path (warehouse.access.mask_result).
    mask_digits: dict[str, int] = Field(default_factory=lambda: {"user": 3, "supervisor": 3, "administrator": 3})

    @field_validator("mask_digits")
    @classmethod
    def _roles(cls, values: dict[str, int]) -> dict[str, int]:
        for role, digits in values.items():
            if role not in ("user", "supervisor", "administrator"):
                raise ValueError(f"unknown role {role!r} (user, supervisor or administrator)")
            if not 0 <= digits <= 20:
                raise ValueError(f"{role}: digits to hide must be between 0 and 20, not {digits}")
        return values


class Login(_Section):
    """Log-in protection: a user name is locked after `max_failures` failures for `lockout_minutes`."""

    max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)


LDAP_FIELDS = (
    "username",
    "display_name",
    "first_name",
    "last_name",
    "email",
    "phones",
    "department",
    "cost_centre",
    "manager",
    "member_of",
    "site",
    "language",
)

# Where each directory field lives, for Active Directory and for OpenLDAP (inetOrgPerson). `phones` lists
# attributes tried for extensions; an empty `member_of` means groups are found by searching the groups
# (groupOfNames `member`, groupOfUniqueNames `uniqueMember`) instead of reading an attribute of the user.
LDAP_PRESETS: dict[str, dict] = {
    "ad": {
        # people only, and not disabled accounts (bit 2 of userAccountControl)
        "user_filter": "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))",
        "group_filter": "(objectClass=group)",
        "attributes": {
            "username": "sAMAccountName",
            "display_name": "displayName",
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
            "phones": ["ipPhone", "telephoneNumber"],
            "department": "department",
            "cost_centre": "extensionAttribute1",
            "manager": "manager",
            "member_of": "memberOf",
            "site": "",
            "language": "preferredLanguage",
        },
    },
    "openldap": {
        "user_filter": "(objectClass=inetOrgPerson)",
        "group_filter": "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
        "attributes": {
            "username": "uid",
            "display_name": "cn",
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
            "phones": ["telephoneNumber"],
            "department": "ou",
            "cost_centre": "departmentNumber",
            "manager": "manager",
            "member_of": "",
            "site": "",
            "language": "preferredLanguage",
        },
    },
}


class LdapRoles(_Section):
    """Directory groups (full DNs) whose members get a role; everyone else is a user."""

    administrator: list[str] = Field(default_factory=list)
    supervisor: list[str] = Field(default_factory=list)


class LdapScopeGroup(_Section):
    """Members of this group (a DN) supervise these departments and cost centres."""

    group: str
    departments: list[str] = Field(default_factory=list)
    cost_centres: list[str] = Field(default_factory=list)


class Ldap(_Section):
    """LDAP / Active Directory: log-in by bind and the directory sync; no preset means local accounts only."""

    preset: Literal["", "ad", "openldap"] = ""
    # Tried in order; ldaps:// for TLS from the start, ldap:// with start_tls for StartTLS.
    urls: list[str] = Field(default_factory=list)
    start_tls: bool = False
    tls_verify: bool = True
    ca_file: str = ""
    # The service account used to search (empty: anonymous search); its password comes from the environment.
    bind_dn: str = ""
    bind_password_env: str = "RINGLEDGER_LDAP_PASSWORD"
    user_base: str = ""
    user_filter: str = ""
    group_base: str = ""
    group_filter: str = ""
    attributes: dict[str, str | list[str]] = Field(default_factory=dict)
    roles: LdapRoles = LdapRoles()
    scope_groups: list[LdapScopeGroup] = Field(default_factory=list)
    # A person others report to in the directory becomes a supervisor (of what they manage).
    managers_are_supervisors: bool = False
    # People who left the directory (or its filter) lose access at the next sync.
    deactivate_missing: bool = True
    timeout_seconds: float = Field(default=10.0, gt=0)
    page_size: int = Field(default=500, ge=1, le=10000)

    @field_validator("urls")
    @classmethod
    def _urls(cls, values: list[str]) -> list[str]:
        for url in values:
            if not re.fullmatch(r"ldaps?://[^/\s]+/?", url, flags=re.IGNORECASE):
                raise ValueError(f"{url!r} is not an ldap://host[:port] or ldaps://host[:port] address")
        return values

    @field_validator("attributes")
    @classmethod
    def _fields(cls, values: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        unknown = set(values) - set(LDAP_FIELDS)
        if unknown:
            raise ValueError(f"unknown directory field(s) {sorted(unknown)}; known: {', '.join(LDAP_FIELDS)}")
        return values

    @model_validator(mode="after")
    def _complete(self) -> Ldap:
        if not self.preset:
            return self
        if not self.urls:
            raise ValueError("urls: give at least one directory server address (ldap://host or ldaps://host)")
        if not self.user_base:
            raise ValueError("user_base: say where the people are, such as 'ou=people,dc=example,dc=org'")
        if self.start_tls and any(u.lower().startswith("ldaps://") for u in self.urls):
            raise ValueError("start_tls: StartTLS is for ldap:// addresses; ldaps:// is already encrypted")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"ca_file: {self.ca_file} does not exist")
        if not self.mapping()["username"]:
            raise ValueError("attributes.username: the attribute holding the log-in name cannot be empty")
        return self

    @property
    def configured(self) -> bool:
        """True when a directory server is configured (else local accounts are the only log-in)."""
        return bool(self.preset and self.urls)

    def mapping(self) -> dict[str, list[str]]:
        """Directory field -> attribute names, the preset overlaid with `attributes` (lists, maybe empty)."""
        base = dict(LDAP_PRESETS[self.preset]["attributes"]) if self.preset else {}
        base.update(self.attributes)
        out: dict[str, list[str]] = {}
        for name in LDAP_FIELDS:
            value = base.get(name, "")
            out[name] = [v for v in ([value] if isinstance(value, str) else value) if v]
        return out

    @property
    def effective_user_filter(self) -> str:
        """The filter that selects people: the configured one, else the preset's."""
        return self.user_filter or (LDAP_PRESETS[self.preset]["user_filter"] if self.preset else "")

    @property
    def effective_group_filter(self) -> str:
        """The filter that selects groups: the configured one, else the preset's."""
        return self.group_filter or (LDAP_PRESETS[self.preset]["group_filter"] if self.preset else "")

    @property
    def effective_group_base(self) -> str:
        """Where groups are searched: `group_base`, else the parent of `user_base`."""
        if self.group_base:
            return self.group_base
        parts = self.user_base.split(",", 1)
        return parts[1].strip() if len(parts) == 2 else self.user_base


class Gadgets(_Section):
    """The Jabber / Webex gadgets: who may frame them, and their session cookie."""

    # Origins allowed to show the gadgets inside a frame (CSP frame-ancestors), besides the service
    # itself. Jabber's custom tabs are not framed and need none; Webex frames embedded apps in its
    # own pages where it shows them inside a frame.
    frame_ancestors: list[str] = Field(default_factory=lambda: ["https://*.webex.com"])
    # SameSite of the session cookie: "Lax" (default) or "Strict"; "None" (for a host that frames
    # the gadgets from another site) takes effect over HTTPS only, where the cookie is also Partitioned.
    cookie_same_site: Literal["Lax", "Strict", "None"] = "Lax"

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?", value):
                raise ValueError(f"{value!r} is not an origin such as https://*.webex.com or https://host:8443")
        return values


class Api(_Section):
    """The JSON API: personal tokens and how often they may be used."""

    # Days a new token lasts unless its owner chooses otherwise (0: until revoked).
    token_days: int = Field(default=365, ge=0, le=3650)
    # Requests per minute one token may make (0: no limit); more get HTTP 429.
    requests_per_minute: int = Field(default=600, ge=0)


SESSION_CHANNELS = ("portal", "gadget", "phone", "api")


class Sessions(_Section):
    """How long a log-in lasts, in minutes, per channel."""

    minutes: dict[str, int] = Field(default_factory=lambda: {"portal": 480, "gadget": 10080, "phone": 15, "api": 60})

    @field_validator("minutes")
    @classmethod
    def _channels(cls, values: dict[str, int]) -> dict[str, int]:
        for channel, minutes in values.items():
            if channel not in SESSION_CHANNELS:
                raise ValueError(f"unknown channel {channel!r} ({', '.join(SESSION_CHANNELS)})")
            # a year at most: a longer log-in is no log-in at all
            if not 1 <= minutes <= 525_600:
                raise ValueError(f"{channel}: a session lasts 1 to 525600 minutes, not {minutes}")
        return values


Enforcement = Literal["record", "axl", "curri"]


class Cucm(_Section):
    """Connection to CUCM for AXL and External Call Control; empty means not configured.

    `enforcement` says how a locked phone is kept from calling out: "record" only keeps the lock
    state (the default, and the only choice without a CUCM), "axl" moves the line to the blocking
    calling search space through AXL, "curri" answers CUCM's External Call Control requests.
    """

    cluster: str = ""
    axl_url: str = ""
    axl_user: str = ""
    axl_version: str = "14.0"
    enforcement: Enforcement = "record"
    # Line (directory number) CSS whose first partition blocks outside calls but still reaches
    # internal and emergency numbers.
    blocking_css: str = "CSS_LOCKED"
    # Partition of the directory numbers that are locked ("" = the <None> partition).
    line_partition: str = ""
    # Environment variable holding the AXL user's password (never the file).
    axl_password_env: str = "RINGLEDGER_AXL_PASSWORD"
    axl_verify_tls: bool = True
    axl_ca_file: str = ""
    axl_timeout_seconds: float = Field(default=10.0, gt=0)
    # A failed CUCM change is retried after base * 2^(attempt-1) seconds, at most max seconds apart.
    retry_base_seconds: int = Field(default=30, ge=1)
    retry_max_seconds: int = Field(default=3600, ge=1)
    # CUCM announcement identification played when a call is denied ("" = CUCM's default treatment).
    curri_deny_announcement: str = ""
    # How old (seconds) the policy endpoint's copy of the lock states may be.
    curri_cache_seconds: float = Field(default=1.0, gt=0)

    @field_validator("axl_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"\d+\.\d+", value):
            raise ValueError(f"axl_version {value!r} must look like 14.0 (the cluster's major.minor)")
        return value

    @model_validator(mode="after")
    def _axl_needs_connection(self) -> Cucm:
        if self.enforcement == "axl" and not (self.axl_url and self.axl_user):
            raise ValueError('enforcement = "axl" needs axl_url and axl_user')
        return self

    @property
    def axl_password(self) -> str:
        """The AXL password, from the environment variable named by axl_password_env."""
        return os.environ.get(self.axl_password_env, "")


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Budgets(_Section):
    """Budget control defaults (each budget may override thresholds)."""

    # Percentages of the period's allowance at which the person and their manager get a mail.
    thresholds: list[int] = Field(default_factory=lambda: [80, 100])
    week_starts_on: Weekday = "monday"
    notify_manager: bool = True
    # Lock the phones of a budget's people when it is spent.
    lock_on_exhaust: bool = True
    # A finished period is closed (final spend, carry-over) this long after its end, so that calls
    # whose records arrive late still count in it. Locks are lifted at the end itself.
    late_cdr_minutes: int = Field(default=15, ge=0)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, values: list[int]) -> list[int]:
        for v in values:
            if not 1 <= v <= 1000:
                raise ValueError(f"threshold {v} must be a percentage between 1 and 1000")
        return sorted(set(values))


class PhoneLock(_Section):
    """Phone lock: PIN rules and how numbers are told apart when no internal ranges are configured."""

    pin_length: int = Field(default=4, ge=4, le=8)
    # After this many wrong PINs in a row the PIN is refused for pin_lockout_minutes.
    max_pin_failures: int = Field(default=5, ge=1)
    pin_lockout_minutes: int = Field(default=15, ge=1)
    # When no site lists internal_ranges, dialled numbers of at most this many digits are internal.
    internal_max_digits: int = Field(default=6, ge=1)
    # How long a device -> extension mapping learnt from CDRs or AXL is trusted, in hours.
    device_cache_hours: int = Field(default=24, ge=1)


WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WORKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
_HOURS = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")


class DataHealth(_Section):
    """When the CDR feed counts as silent: a node that sent CDR files before and none for `silent_minutes`
    while it is working time (working days and hours, in the company's time zone)."""

    silent_minutes: int = Field(default=60, ge=5, le=10080)
    working_days: list[Weekday] = Field(default_factory=lambda: list(_WORKDAYS))
    working_hours: str = "08:00-18:00"

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        m = _HOURS.fullmatch(value.strip())
        if not m or (int(m[3]), int(m[4])) > (24, 0) or (int(m[1]), int(m[2])) >= (int(m[3]), int(m[4])):
            raise ValueError(f"working_hours {value!r} must look like 08:00-18:00 (start before end)")
        return value.strip()

    def working_span(self) -> tuple[int, int]:
        """Start and end of the working day, in minutes after midnight."""
        start, end = self.working_hours.split("-")
        return int(start[:2]) * 60 + int(start[3:]), int(end[:2]) * 60 + int(end[3:])


SmtpSecurity = Literal["starttls", "tls", "none"]


class Smtp(_Section):
    """Outgoing mail. With no host, mail is delivered into the outbox folder under the data home."""

    host: str = ""
    port: int = Field(default=587, ge=1, le=65535)
    security: SmtpSecurity = "starttls"
    username: str = ""
    password_env: str = "RINGLEDGER_SMTP_PASSWORD"
    sender: str = "Ringledger <ringledger@localhost>"
    timeout_seconds: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    ca_file: str = ""
    # A failed send is retried after base * 2^(attempt-1) seconds (at most max apart), max_attempts times.
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: int = Field(default=60, ge=1)
    retry_max_seconds: int = Field(default=6 * 3600, ge=1)

    @property
    def password(self) -> str:
        """The SMTP password, from the environment variable named by password_env."""
        return os.environ.get(self.password_env, "")


class Alarms(_Section):
    """Scheduled reports and alarms: how their windows are cut."""

    # An alarm that looks at "the calls since its last run" counts the calls that ended up to this
    # many minutes before the run: their records are written when they end and take a moment to arrive.
    settle_minutes: int = Field(default=5, ge=0, le=24 * 60)
    # A schedule that could not run for a long time (the pipelines were stopped) catches up once, over
    # at most this many days.
    max_catch_up_days: int = Field(default=31, ge=1, le=366)
    # A run claims its schedule for this long, so two processes never run it twice at once.
    claim_minutes: int = Field(default=15, ge=1)


class PhoneService(Service):
    """The phone service (IP phone XML, CURRI policy endpoint): where it listens and how phones reach it."""

    port: int = Field(default=8502, ge=0, le=65535)
    threads: int = Field(default=16, ge=1, le=256)
    # Open connections served at once (phones, CURRI keeping its connections open, gadgets, API clients);
    # past this, new connections wait unaccepted until one closes.
    max_connections: int = Field(default=2000, ge=10, le=100_000)
    # Base URL phones use to reach this service (for pushed notices), e.g. http://acct.example:8502
    public_url: str = ""
    # Push lock notices to phones (POST /CGI/Execute) with a user associated with the phones.
    push: bool = False
    push_user: str = ""
    push_password_env: str = "RINGLEDGER_PHONE_PUSH_PASSWORD"
    # Address of a reverse proxy that terminates HTTPS in front of the service; its X-Forwarded-Proto,
    # -Host and -Port are then believed (secure cookies, absolute URLs). Empty: no proxy.
    trusted_proxy: str = ""
    # Largest request body accepted, in kilobytes (API report filters, CURRI requests, log-in forms); more gets 413.
    max_request_kb: int = Field(default=256, ge=16, le=65536)

    @property
    def push_password(self) -> str:
        """The push user's password, from the environment variable named by push_password_env."""
        return os.environ.get(self.push_password_env, "")


class Retention(_Section):
    """How long each kind of data is kept, in days (0: for ever), and when outside numbers are anonymised.

    Ages count back from today's UTC date: a day partition, archive folder or entry older than the
    age is removed by `ringledger retention run` and the daily retention job.
    """

    archive_days: int = Field(default=0, ge=0)  # raw files as received, under archive/
    raw_days: int = Field(default=0, ge=0)  # lake raw_cdr and raw_cmr
    rejects_days: int = Field(default=0, ge=0)  # lake rejects (they hold the raw lines)
    calls_days: int = Field(default=0, ge=0)  # lake calls, daily_rollups and rating_days
    audit_days: int = Field(default=0, ge=0)  # the audit log
    outbox_days: int = Field(default=0, ge=0)  # mail written to the outbox folder, and the send log
    # Outside numbers in calls, raw legs and rejects older than this are replaced by keyed hashes (GDPR).
    anonymise_after_days: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _raw_not_longer_than_calls(self) -> Retention:
        if self.calls_days and not 0 < self.raw_days <= self.calls_days:
            raise ValueError(
                f"raw_days must be set and at most calls_days ({self.calls_days}): raw legs kept longer "
                "than the calls made from them would bring purged calls back when a day is rebuilt"
            )
        return self

    @property
    def configured(self) -> bool:
        """True when anything is ever removed or anonymised."""
        return any(
            (
                self.archive_days,
                self.raw_days,
                self.rejects_days,
                self.calls_days,
                self.audit_days,
                self.outbox_days,
                self.anonymise_after_days,
            )
        )


class RuntimeState(_Section):
    """What the app database added to the file: its settings revision, the stored settings applied,
    and those refused because they no longer fit the file (path: problem)."""

    revision: int = 0
    applied: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()


class Settings(_Section):
    home: Path
    config_path: Path | None = None
    company: Company = Company()
    sites: list[Site] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    ingest: Ingest = Ingest()
    database: Database = Database()
    portal: Portal = Portal()
    phone_service: PhoneService = PhoneService()
    dagster: DagsterService = DagsterService()
    privacy: Privacy = Privacy()
    sessions: Sessions = Sessions()
    gadgets: Gadgets = Gadgets()
    api: Api = Api()
    login: Login = Login()
    ldap: Ldap = Ldap()
    cucm: Cucm = Cucm()
    budgets: Budgets = Budgets()
    phone_lock: PhoneLock = PhoneLock()
    smtp: Smtp = Smtp()
    tariffs: Tariffs = Tariffs()
    retention: Retention = Retention()
    data_health: DataHealth = DataHealth()
    # Exchange rates into the company currency: GBP = 1.17 means one pound is 1.17 of the company currency.
    currencies: dict[str, Decimal] = Field(default_factory=dict)
    alarms: Alarms = Alarms()
    demo: bool = False
    runtime: RuntimeState = RuntimeState()

    @field_validator("currencies")
    @classmethod
    def _rates(cls, values: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in values.items():
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"{code!r} is not an ISO 4217 currency code such as GBP")
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{code} = {rate}: an exchange rate must be more than 0")
        return values

    def exchange_rate(self, currency: str) -> Decimal | None:
        """How much of the company currency one unit of `currency` is worth (None when not configured)."""
        if currency == self.company.currency:
            return Decimal(1)
        return self.currencies.get(currency)

    @model_validator(mode="after")
    def _references(self) -> Settings:
        names = [s.name for s in self.sites]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"site names must be unique: {sorted(dupes)}")
        for dev in self.devices:
            if dev.site and dev.site not in names:
                raise ValueError(f"devices[{dev.device}].site: {dev.site!r} is not one of the sites")
        return self

    # Paths under the data home -------------------------------------------------------------
    @property
    def lake_dir(self) -> Path:
        return self.home / "lake"

    @property
    def inbox_dir(self) -> Path:
        return Path(self.ingest.inbox) if self.ingest.inbox else self.home / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.home / "archive"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def tariffs_dir(self) -> Path:
        return self.home / "tariffs"

    @property
    def outbox_dir(self) -> Path:
        """Where mail goes when no SMTP host is configured (one .eml file per message)."""
        return self.home / "outbox"

    @property
    def mail_spool_dir(self) -> Path:
        """Messages waiting to be sent (kept until sent, so a retry sends the same bytes)."""
        return self.home / "mail" / "spool"

    @property
    def database_url(self) -> str:
        """The app database: $RINGLEDGER_DATABASE_URL, the configured URL, else SQLite under the home."""
        url = os.environ.get("RINGLEDGER_DATABASE_URL") or self.database.url
        return url or f"sqlite:///{(self.home / 'ringledger.db').resolve()}"

    @property
    def cucm_configured(self) -> bool:
        return bool(self.cucm.cluster or self.cucm.axl_url)

    def site(self, name: str) -> Site | None:
        """The site with this name."""
        return next((s for s in self.sites if s.name == name), None)

    def device(self, name: str) -> Device | None:
        """The inventory entry for a CUCM device name (exact names win over patterns)."""
        lowered = name.lower()
        exact = next((d for d in self.devices if d.device.lower() == lowered), None)
        return exact or next((d for d in self.devices if d.matches(name)), None)


def home_dir() -> Path:
    """The data home: $RINGLEDGER_HOME, else ./var."""
    return Path(os.environ.get("RINGLEDGER_HOME") or DEFAULT_HOME).resolve()


def config_path(home: Path | None = None) -> Path:
    """Where the configuration file is (it may not exist: then every default applies)."""
    explicit = os.environ.get("RINGLEDGER_CONFIG")
    if explicit:
        return Path(explicit).resolve()
    return (home or home_dir()) / CONFIG_NAME


def location(loc: tuple[int | str, ...], data: dict | None = None) -> str:
    """A pydantic error location as a setting's name: `sites[Milano].time_zone` (list items by name when known)."""
    out = ""
    node: object = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            key = _item_name(item)
            out += f"[{key}]" if key else f"[{part}]"
            node = item
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _item_name(item: object) -> str:
    """The name a list item is known by (a site's name, a device's name), or ''."""
    if isinstance(item, dict):
        for key in ("name", "device"):
            if isinstance(item.get(key), str) and item[key]:
                return item[key]
    return ""


def problems_of(exc: ValidationError, data: dict | None = None) -> list[tuple[str, str]]:
    """(setting, problem) for each error of a validation; the setting is '' when the message names it."""
    return [(location(err["loc"], data), err["msg"].removeprefix("Value error, ")) for err in exc.errors()]


def problem_text(problems: list[tuple[str, str]]) -> str:
    """'setting: problem; ...' for messages."""
    return "; ".join(f"{where}: {what}" if where else what for where, what in problems)


# Ports may be set from the environment (`ringledger run --portal-port ...` passes them to every process).
_ENV_PORTS = (("portal", "PORTAL"), ("phone_service", "PHONE"), ("dagster", "DAGSTER"))
# Settings fields that never come from the file.
_NOT_FROM_FILE = ("home", "runtime")

_file_cache: dict[str, tuple[tuple, dict]] = {}
_base_cache: dict[tuple, Settings] = {}
_cache_lock = threading.Lock()


def _stamp(path: Path) -> tuple:
    try:
        st = path.stat()
    except FileNotFoundError:
        return ()
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def read_config_file(path: Path) -> tuple[tuple, dict]:
    """The file's state (changes whenever the file does) and its contents as data ({} without a file).

    The data is shared between callers: copy it before changing it.
    """
    stamp = _stamp(path)
    with _cache_lock:
        cached = _file_cache.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached
    data: dict = {}
    if stamp:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    elif os.environ.get("RINGLEDGER_CONFIG"):
        raise ConfigError(f"{path}: RINGLEDGER_CONFIG names a file that does not exist")
    for key in _NOT_FROM_FILE:
        data.pop(key, None)
    with _cache_lock:
        _file_cache[str(path)] = (stamp, data)
    return stamp, data


def environment_values() -> dict[str, dict]:
    """The settings the environment sets (ports), as {section: {key: value}}."""
    out: dict[str, dict] = {}
    for section, var in _ENV_PORTS:
        port = os.environ.get(f"RINGLEDGER_{var}_PORT")
        if port:
            if not port.isdigit():
                raise ConfigError(f"RINGLEDGER_{var}_PORT={port!r} is not a port number")
            out.setdefault(section, {})["port"] = int(port)
    return out


def overlay(data: dict, extra: dict) -> dict:
    """`data` with the sections of `extra` laid over it (one level of section keys deep); a new dict."""
    out = dict(data)
    for section, values in extra.items():
        if isinstance(values, dict) and isinstance(out.get(section), dict):
            out[section] = {**out[section], **values}
        else:
            out[section] = values
    return out


def build_settings(home: Path, path: Path, data: dict, **extra) -> Settings:
    """Settings from data read for this home and file; ValidationError when a value is wrong."""
    return Settings(home=home, config_path=path if path.exists() else None, **data, **extra)


def load_settings(path: Path | None = None, home: Path | None = None) -> Settings:
    """Read the configuration and the settings stored at run time; ConfigError names the setting and the problem."""
    home = (home or home_dir()).resolve()
    path = path or config_path(home)
    stamp, data = read_config_file(path)
    env = environment_values()
    key = (str(home), str(path), stamp, repr(env), os.environ.get("RINGLEDGER_DATABASE_URL", ""))
    with _cache_lock:
        base = _base_cache.get(key)
    if base is None:
        merged = overlay(data, env)
        try:
            base = build_settings(home, path, merged)
        except ValidationError as exc:
            raise ConfigError(f"{path}: {problem_text(problems_of(exc, merged))}") from None
        with _cache_lock:
            if len(_base_cache) > 64:
                _base_cache.clear()
            _base_cache[key] = base
    from warehouse import runtime_settings

    return runtime_settings.apply_stored(base, data, env)
