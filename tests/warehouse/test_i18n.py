"""The seven UI languages: every string translated, placeholders kept, locale formats, right to left."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from babel.messages.pofile import read_po

from warehouse.i18n import LANGUAGES, extract_catalog, po_path, translator, untranslated

OTHER_LANGUAGES = [code for code in LANGUAGES if code != "en"]


def test_every_string_in_the_code_is_translated_in_every_language():
    missing = {language: ids for language, ids in untranslated().items() if ids}
    assert missing == {}, "run `python -m warehouse.i18n update`, then translate: " + repr(missing)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_translations_keep_the_placeholders(language):
    with po_path(language).open("rb") as fh:
        catalog = read_po(fh, locale=language)
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[1]
        targets = [message.string] if isinstance(message.string, str) else list(message.string)
        for target in targets:
            assert _fields(target) <= _fields(source), (language, message.id, target)
            if isinstance(message.id, str):
                assert _fields(target) == _fields(source), (language, message.id, target)


def test_the_template_knows_every_string_of_the_portal():
    ids = {m.id for m in extract_catalog() if m.id}
    assert "Group cost by department" in ids
    assert "Last calls" in ids
    assert not any(re.search(r"\bTODO\b", str(i)) for i in ids)


def test_translations_are_used():
    assert translator("de").gettext("Group cost by department") == "Kosten nach Abteilung"
    assert translator("ar").gettext("Log in") == "تسجيل الدخول"
    assert translator("pl").ngettext("{n} row", "{n} rows", 5).format(n=5) == "5 wierszy"
    assert translator("xx").gettext("Log in") == "Log in"  # unknown languages fall back to English


def test_numbers_money_and_dates_follow_the_locale():
    assert translator("de").number(Decimal("1234.5"), 2) == "1.234,50"
    assert translator("fr").money(Decimal("1234.5"), "EUR") == "1\u202f234,50\u00a0€"
    assert translator("en").money(Decimal("1234.5"), "GBP") == "£1,234.50"
    when = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe moves to summer time
    assert translator("it").datetime(when, "Europe/Rome") == "29/03/26, 01:30"
    assert translator("en").datetime(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Rome") == "3/29/26, 3:30\u202fAM"
    assert translator("en").duration(3725) == "1:02:05"


def test_arabic_is_right_to_left():
    assert translator("ar").rtl
    assert not translator("en").rtl
