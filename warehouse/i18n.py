"""The user interface languages: message catalogues and locale formatting, shared by every UI.

Catalogues are Babel/gettext `.po` files under `warehouse/locales/<lang>/LC_MESSAGES/messages.po`,
compiled in memory the first time a language is used (no generated `.mo` files to keep in step).
Code marks a string for translation with `_("...")` / `gettext("...")` where it is shown, or with
`N_("...")` where it is defined and translated later (catalogue titles, column labels).
`python -m warehouse.i18n update` re-extracts the strings of dashboards, phone_xml (its Jinja templates
too) and warehouse into
`messages.pot` and merges them into every language's `.po` file; `check` lists what is untranslated.
"""

from __future__ import annotations

import datetime as dt
import gettext as _gettext
import io
import sys
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

# Seven UI languages, named in their own language (as a person looks for theirs in a list).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "pl": "Polski",
    "it": "Italiano",
}
RTL_LANGUAGES = frozenset({"ar"})
DEFAULT_LANGUAGE = "en"
DOMAIN = "messages"
LOCALES_DIR = Path(__file__).with_name("locales")
# Where translatable strings live; the extractor reads these package folders.
SOURCE_PACKAGES = ("dashboards", "phone_xml", "warehouse")


def N_(message: str) -> str:
    """Mark a string for translation without translating it here (it is translated where shown)."""
    return message


def normalise_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """One of LANGUAGES for a code such as 'de', 'de_CH' or 'pt' (unknown codes give the default)."""
    if not code:
        return default
    base = code.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else default


def po_path(language: str) -> Path:
    """The `.po` file of a language."""
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The compiled catalogue of a language (English is the source language and needs none)."""
    language = normalise_language(language)
    path = po_path(language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        catalog = read_po(fh, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    # fuzzy entries are guesses by the merge tool, never shown
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Translation and locale formatting for one language."""

    language: str = DEFAULT_LANGUAGE

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    @property
    def rtl(self) -> bool:
        """True for right-to-left languages."""
        return self.language in RTL_LANGUAGES

    def gettext(self, message: str) -> str:
        """The message in this language (the English text when there is no translation)."""
        if not message:
            return message
        return translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The singular or plural form for `n` in this language."""
        return translations(self.language).ngettext(singular, plural, n)

    # numbers -------------------------------------------------------------------------------------
    def number(self, value: int | float | Decimal | None, digits: int | None = None) -> str:
        """A number with this locale's separators (`digits` fixes the decimals)."""
        if value is None:
            return ""
        if digits is None:
            return babel_numbers.format_decimal(value, locale=self.language)
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=self.language)

    def exact(self, value: int | float | Decimal | None, max_digits: int = 8) -> str:
        """A number with as many decimals as it has (at most `max_digits`), e.g. a price per second."""
        if value is None:
            return ""
        pattern = "#,##0" + ("." + "#" * max_digits if max_digits else "")
        return babel_numbers.format_decimal(value, format=pattern, locale=self.language, decimal_quantization=True)

    def money(self, value: Decimal | float | None, currency: str | None) -> str:
        """An amount with its currency in this locale's way (no currency: the plain number, 2 decimals)."""
        if value is None:
            return ""
        if not currency:
            return self.number(value, 2)
        return babel_numbers.format_currency(value, currency, locale=self.language)

    def percent(self, value: float | Decimal | None, digits: int = 1) -> str:
        """A share (0.25) as a percentage in this locale ('25.0 %' / '25,0 %')."""
        if value is None:
            return ""
        pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return babel_numbers.format_percent(value, format=pattern, locale=self.language)

    # times ---------------------------------------------------------------------------------------
    def datetime(self, value: dt.datetime | None, zone: str, fmt: str = "short") -> str:
        """A UTC instant shown in `zone`, in this locale's date-and-time format."""
        if value is None:
            return ""
        return babel_dates.format_datetime(value, fmt, tzinfo=zoneinfo.ZoneInfo(zone), locale=self.language)

    def date(self, value: dt.date | dt.datetime | None, fmt: str = "short") -> str:
        """A calendar date in this locale's format."""
        if value is None:
            return ""
        return babel_dates.format_date(value, fmt, locale=self.language)

    def time(self, value: dt.datetime | dt.time | None, zone: str | None = None, fmt: str = "short") -> str:
        """A time of day (a UTC instant is shown in `zone`)."""
        if value is None:
            return ""
        if isinstance(value, dt.datetime) and zone:
            return babel_dates.format_time(value, fmt, tzinfo=zoneinfo.ZoneInfo(zone), locale=self.language)
        return babel_dates.format_time(value, fmt, locale=self.language)

    @staticmethod
    def duration(seconds: int | float | None) -> str:
        """Seconds as h:mm:ss (m:ss under an hour): the same in every language."""
        if seconds is None:
            return ""
        total = int(round(float(seconds)))
        sign = "-" if total < 0 else ""
        total = abs(total)
        h, rest = divmod(total, 3600)
        m, s = divmod(rest, 60)
        return f"{sign}{h}:{m:02d}:{s:02d}" if h else f"{sign}{m}:{s:02d}"


@cache
def translator(language: str | None) -> Translator:
    """The Translator of a language code (unknown codes fall back to English)."""
    return Translator(normalise_language(language))


def gettext(message: str, language: str | None) -> str:
    """Translate one message into a language."""
    return translator(language).gettext(message)


# --- catalogue maintenance (developers) -------------------------------------------------------


def extract_catalog():
    """Every translatable string in the source packages, as a Babel catalogue."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parents[1]
    catalog = Catalog(project="Ringledger", domain=DOMAIN, fuzzy=False)
    for package in SOURCE_PACKAGES:
        folder = root / package
        if not folder.exists():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            folder,
            # Python sources, and the Jinja templates of the phone service's pages (gadgets, front page)
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
            options_map={"**/templates/**.html": {"trimmed": "true"}},
            comment_tags=("i18n:",),
            strip_comment_tags=True,
        ):
            if "/locales/" in filename or "/migrations/" in filename:
                continue
            catalog.add(message, None, [(f"{package}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalogs() -> dict[str, int]:
    """Rewrite messages.pot from the sources and merge it into each language; returns untranslated counts."""
    from babel.messages.pofile import read_po, write_po

    template = extract_catalog()
    LOCALES_DIR.mkdir(exist_ok=True)
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as fh:
        write_po(fh, template, omit_header=False, sort_output=True, width=120, include_lineno=False)
    missing: dict[str, int] = {}
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=language, domain=DOMAIN)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=language, domain=DOMAIN, project="Ringledger")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, sort_output=True, width=120, ignore_obsolete=True, include_lineno=False)
        missing[language] = sum(1 for m in catalog if m.id and not m.string)
    translations.cache_clear()
    return missing


def _translated(string) -> bool:
    """A message is translated when it, or every one of its plural forms, has a text."""
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def untranslated() -> dict[str, list[str]]:
    """Per language, the source strings its catalogue does not translate."""
    from babel.messages.pofile import read_po

    ids = {m.id for m in extract_catalog() if m.id}
    out: dict[str, list[str]] = {}
    for language in LANGUAGES:
        if language == DEFAULT_LANGUAGE:
            continue
        path = po_path(language)
        done: set = set()
        if path.exists():
            with path.open("rb") as fh:
                done = {m.id for m in read_po(fh, locale=language) if m.id and _translated(m.string) and not m.fuzzy}
        out[language] = sorted(str(i) for i in ids - done)
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m warehouse.i18n update|check`: maintain the message catalogues."""
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] == ["update"]:
        for language, count in update_catalogs().items():
            print(f"{language}: {count} untranslated")
        return 0
    if args[:1] == ["check"]:
        bad = {k: v for k, v in untranslated().items() if v}
        for language, ids in bad.items():
            print(f"{language}: {len(ids)} untranslated")
            for i in ids:
                print(f"  {i}")
        return 1 if bad else 0
    print("usage: python -m warehouse.i18n update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
