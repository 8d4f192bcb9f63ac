"""The gettext catalogs: every text of the code translated in all five languages, placeholders
kept, plural forms right, and the compiled .mo files up to date with the .po files."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {  # the same as the README's `pybabel extract -k` list
    "gettext": (2,), "ngettext": (2, 3), "pgettext": ((2, "c"), 3), "t": None,
    "translate": None, "gettext_noop": None, "ngettext_noop": (1, 2),
    "pgettext_noop": ((1, "c"), 2), "tn": (1, 2), "translate_plural": (1, 2),
}
PLURAL_FORMS = {"en": "nplurals=2; plural=(n != 1);", "th": "nplurals=1; plural=0;",
                "zh_Hant": "nplurals=1; plural=0;", "vi": "nplurals=1; plural=0;",
                "ms": "nplurals=1; plural=0;"}
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}|%@")


def catalog(locale: str):
    """The .po catalog of a locale."""
    path = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        return read_po(f, locale=locale)


def extracted() -> set[tuple[str | None, str]]:
    """(context, msgid) of every message the code and templates mark for translation."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.add((context, msgid))
    return found


def test_code_messages_are_in_every_catalog():
    """Every extracted message has a non-empty translation in all five languages."""
    messages = extracted()
    assert len(messages) > 250  # the dashboard alone marks hundreds
    for locale in PLURAL_FORMS:
        cat = catalog(locale)
        missing = sorted(m for (ctx, m) in messages
                         if not (cat.get(m, context=ctx) and _filled(cat.get(m, context=ctx))))
        assert not missing, (locale, missing[:20])


def test_every_catalog_entry_is_marked_in_the_code():
    """No entry lives only in the catalogs: `pybabel update` (README) would mark it obsolete."""
    messages = extracted()
    for locale in PLURAL_FORMS:
        stale = sorted((m.context, m.id if isinstance(m.id, str) else m.id[0])
                       for m in catalog(locale) if m.id
                       and (m.context, m.id if isinstance(m.id, str) else m.id[0]) not in messages)
        assert not stale, (locale, stale[:20])


def _filled(message) -> bool:
    """True when every form of a catalog entry is translated."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings)


@pytest.mark.parametrize("locale", sorted(PLURAL_FORMS))
def test_catalog_complete_with_placeholders_kept(locale):
    """Each entry is translated and keeps exactly the source's placeholders."""
    cat = catalog(locale)
    assert len(cat) > 500
    for message in cat:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), (locale, message.id)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == expected, (locale, message.id, text)


@pytest.mark.parametrize("locale", sorted(PLURAL_FORMS))
def test_plural_forms(locale):
    """English has two forms, Thai, Chinese, Vietnamese and Malay one."""
    assert catalog(locale).plural_forms == PLURAL_FORMS[locale]


@pytest.mark.parametrize("locale", sorted(PLURAL_FORMS))
def test_mo_files_are_compiled_from_the_po_files(locale):
    """messages.mo holds exactly what messages.po says (run `pybabel compile` after edits)."""
    folder = i18n.TRANSLATIONS_DIR / locale / "LC_MESSAGES"
    with open(folder / "messages.mo", "rb") as f:
        shipped = read_mo(f)
    fresh = io.BytesIO()
    write_mo(fresh, catalog(locale))
    fresh.seek(0)
    compiled = read_mo(fresh)
    assert _pairs(shipped) == _pairs(compiled)


def _pairs(cat) -> dict:
    """{(context, msgid): translation} of a catalog, plural ids and forms as tuples."""
    def frozen(value):
        return tuple(value) if isinstance(value, list | tuple) else value
    return {(m.context, frozen(m.id)): frozen(m.string) for m in cat if m.id}


def test_translations_ship_with_the_package():
    """pyproject's package data includes the compiled catalogs."""
    text = (ROOT / "pyproject.toml").read_text()
    assert '"translations/*/LC_MESSAGES/*.mo"' in text
    assert '"translations/*/LC_MESSAGES/*.po"' in text


def test_lookup_per_language():
    """The module translates per explicit language, with contexts and English fallback."""
    assert i18n.gettext("th", "Log in") == "เข้าสู่ระบบ"
    assert i18n.gettext("zh-Hant", "Log in") == "登入"
    assert i18n.gettext("en", "Log in") == "Log in"
    assert i18n.gettext("vi", "No such text {x}", x=1) == "No such text 1"
    assert i18n.pgettext("th", "card", "Points") == "คะแนน"
    assert i18n.translated("th", "Points", "card") == "คะแนน"
    assert i18n.translated("th", "No such text") is None


def test_counted_points_in_the_tier_mail_read_right():
    """The tier mail's "{n} points" says "1 point" in English, one form elsewhere."""
    from app.mail.tasks import points_amount, values

    assert points_amount("en", 1) == "1 point" and points_amount("en", 1200) == "1,200 points"
    assert points_amount("th", 1) == "1 คะแนน" and points_amount("zh-Hant", 2) == "2 點"
    assert points_amount("vi", 1) == "1 điểm" and points_amount("ms", 5) == "5 mata"
    shown = values("tier_near", {"needed": "1", "basis": "points", "tier": "Gold"}, "en", "THB")
    assert shown["needed"] == "1 point"


COUNTED = [  # (singular, plural, values): the counted messages of the counter and the staff page
    ("This member already earned in the last {minutes} minute; the next earn is allowed at "
     "{time}.", "This member already earned in the last {minutes} minutes; the next earn is "
     "allowed at {time}.", {"time": "10:15"}),
    ("Only your own last action of the last {minutes} minute can be undone here.",
     "Only your own last action of the last {minutes} minutes can be undone here.", {}),
    ("Or pass this link on yourself, by chat for example (it works once, for {days} day):",
     "Or pass this link on yourself, by chat for example (it works once, for {days} days):", {}),
]


@pytest.mark.parametrize(("singular", "plural", "values"), COUNTED)
def test_counted_messages_read_right_in_all_five_languages(singular, plural, values):
    """'1 minute' and '2 minutes' in English; one form holding the number elsewhere."""
    from app.errors import DomainError

    name = "days" if "{days}" in plural else "minutes"
    one = DomainError((singular, plural), count=1, values={name: 1, **values})
    two = DomainError((singular, plural), count=2, values={name: 2, **values})
    unit = "day" if name == "days" else "minute"
    assert f"1 {unit}" in one.message and f"1 {unit}s" not in one.message
    assert f"2 {unit}s" in two.message
    assert i18n.error_message("en", one) == one.message
    for lang in i18n.LANGUAGES[1:]:
        for error, n in ((one, "1"), (two, "2")):
            shown = i18n.error_message(lang, error)
            assert n in shown and shown != error.message, (lang, shown)
            assert shown == i18n.ngettext(lang, singular, plural, int(n), **error.values)


def test_counted_reasons_and_reward_summaries():
    """The expiry reason and a reward's cost say "1 point" and "2 points"."""
    from app.dashboard.i18n import reason

    assert reason("Expiry of 1 points from transaction 7", "en") == "1 point of transaction 7"
    assert reason("Expiry of 2 points from transaction 7", "en") == "2 points of transaction 7"
    assert reason("Expiry of 1 points from transaction 7", "th") == "1 แต้มจากรายการ 7"
    assert reason("Expiry of 3 points from transaction 7", "vi") == "3 điểm của giao dịch 7"
