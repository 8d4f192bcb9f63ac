"""The service's one translation system: gettext catalogs, looked up per language.

Every text is written in English in the code and templates; `translations/<locale>/
LC_MESSAGES/messages.po` holds each language's version (compiled to messages.mo, which
ship with the package). Cards and mails name their language explicitly (a card is built
in every language at once), so lookups take the language as their first argument rather
than reading the request's locale. Values are filled in with str.format: `{name}`.
Card texts live under the context "card" (they become Apple's pass.strings).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGES: tuple[str, ...] = ("en", "th", "zh-Hant", "vi", "ms")
LANGUAGE_NAMES = {"en": "English", "th": "ไทย", "zh-Hant": "繁體中文", "vi": "Tiếng Việt",
                  "ms": "Bahasa Melayu"}
"""Each language named in itself (the language menus)."""
_CONTEXT_SEPARATOR = "\x04"


def locale_name(lang: str) -> str:
    """The catalog folder of a card language ('zh-Hant' -> 'zh_Hant')."""
    return lang.replace("-", "_")


def translations(lang: str) -> NullTranslations:
    """The compiled catalog of a language (English, the msgids, when unknown)."""
    return _load(lang if lang in LANGUAGES else "en")


@functools.cache
def _load(lang: str) -> NullTranslations:
    """Read one of LANGUAGES' catalogs once per process."""
    return Translations.load(str(TRANSLATIONS_DIR), [locale_name(lang)])


def _fill(text: str, values: dict[str, Any]) -> str:
    """Fill {name} placeholders (a text without values is returned as written)."""
    return text.format(**values) if values else text


def gettext(lang: str, message: str, /, **values: Any) -> str:
    """`message` in `lang` (English when untranslated), values filled in."""
    return _fill(translations(lang).gettext(message), values)


def pgettext(lang: str, context: str, message: str, /, **values: Any) -> str:
    """`message` in `lang` under a context (a text translated differently elsewhere)."""
    return _fill(str(translations(lang).pgettext(context, message)), values)


def ngettext(lang: str, singular: str, plural: str, count: int, /, **values: Any) -> str:
    """The form of a counted message that fits `count` in `lang`; `{n}` is the count unless
    given (e.g. written with thousands separators)."""
    return _fill(translations(lang).ngettext(singular, plural, count), {"n": count, **values})


def error_message(lang: str, error: Any) -> str:
    """A domain error's message in `lang`: its template (or counted pair) looked up, its
    values filled in (app.errors.DomainError)."""
    if error.plural is not None and error.count is not None:
        return ngettext(lang, error.template, error.plural, error.count, **error.values)
    return gettext(lang, error.template, **error.values)


def translated(lang: str, message: str, context: str | None = None) -> str | None:
    """The catalog's translation of `message` in `lang`, or None when it has none."""
    key = f"{context}{_CONTEXT_SEPARATOR}{message}" if context else message
    found = getattr(translations(lang), "_catalog", {}).get(key)
    return found if isinstance(found, str) else None


def catalog() -> dict[str, dict[str, str]]:
    """Every message without a context, mapped to its translation in each other language."""
    tables = {lang: _singulars(lang) for lang in LANGUAGES[1:]}
    return {message: {lang: table[message] for lang, table in tables.items() if message in table}
            for message in tables["th"] if message and _CONTEXT_SEPARATOR not in message}


def _singulars(lang: str) -> dict[str, str]:
    """A language's catalog keyed by msgid (a counted message by its singular, first form)."""
    table: dict[str, str] = {}
    for key, value in getattr(translations(lang), "_catalog", {}).items():
        if isinstance(key, str):
            table[key] = value
        elif key[1] == 0:
            table[key[0]] = value
    return table


def gettext_noop(message: str) -> str:
    """Mark a module-level text for extraction; translate it later with gettext()."""
    return message


def ngettext_noop(singular: str, plural: str) -> tuple[str, str]:
    """Mark a counted module-level text for extraction; translate with ngettext()."""
    return singular, plural


def pgettext_noop(context: str, message: str) -> str:
    """Mark a module-level text with a context for extraction."""
    return message

