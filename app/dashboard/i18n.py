"""The dashboard's languages: the user's choice and the messages' lookup.

Messages are written in English in the templates and code (`t("Log in")`); the gettext
catalogs (app/translations) hold their Thai, Traditional Chinese, Vietnamese and Malay
text. A message missing from the catalogs shows in English (tests/test_translations.py
checks every marked message is translated). The choice is kept in the session and, for a
logged-in user, on the account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import g, request, session

from app import i18n as catalogs
from app.errors import DomainError
from app.i18n import ngettext_noop

LANGUAGES = {"en": "English", "th": "ไทย", "zh-Hant": "繁體中文", "vi": "Tiếng Việt",
             "ms": "Bahasa Melayu"}
HTML_LANG = {"en": "en", "th": "th", "zh-Hant": "zh-Hant", "vi": "vi", "ms": "ms"}
_ACCEPT = {"en": "en", "th": "th", "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-Hant": "zh-Hant",
           "zh": "zh-Hant", "vi": "vi", "ms": "ms"}


def current_language() -> str:
    """The language of this request: the user's choice, else the browser's, else English."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    best = request.accept_languages.best_match(list(_ACCEPT))
    return _ACCEPT.get(best or "en", "en")


def translate(message: str, lang: str | None = None, **values: object) -> str:
    """The message in the request's (or the given) language, with {values} filled in."""
    return catalogs.gettext(lang or g.get("lang") or "en", message, **values)


def error_message(error: DomainError, lang: str | None = None) -> str:
    """A refusal of the service in the request's (or the given) language."""
    return catalogs.error_message(lang or g.get("lang") or "en", error)


def translate_plural(singular: str, plural: str, count: int, lang: str | None = None,
                     /, **values: object) -> str:
    """The form of a counted message that fits `count`, in the request's (or given) language."""
    return catalogs.ngettext(lang or g.get("lang") or "en", singular, plural, count, **values)


WORDING = {
    'must be a number written as a string such as "12.50".': 'Must be a number such as "12.50".',
    "is required.": "This field is required.",
    "A free_item reward has no 'value'.": "A free item has no value; leave it empty.",
    "A amount_off reward needs a 'value'.": "Say how much the reward takes off.",
    "A percent_off reward needs a 'value'.": "Say what percentage the reward takes off.",
    "'value' of a percent_off reward is at most 100.": "A percentage is at most 100.",
    "Send exactly one of: points, amount.": "Type an amount or a number of points.",
    "Send exactly one of: points, reward_id.": "Choose a reward or type a number of points.",
}
"""How the dashboard words a shared rule's message where the API's wording (about JSON
strings and field names) would puzzle a person at a form."""


def rule_message(template: str, values: Mapping[str, object], lang: str | None = None) -> str:
    """A shared validation rule's message as a sentence next to its field, translated."""
    if template == "{text}" and str(values.get("text")) in WORDING:  # a model's own check
        template, values = WORDING[str(values["text"])], {}
    sentence = WORDING.get(template) or template[:1].upper() + template[1:]
    return translate(sentence, lang, **{key: str(value) for key, value in values.items()})


LABELS = {
    # ledger entry kinds
    "earn": "Earned", "redeem": "Redeemed", "adjust": "Correction", "donate": "Donation",
    "void": "Cancelled", "expire": "Expired", "bonus_welcome": "Welcome bonus",
    "bonus_referral": "Referral bonus", "bonus_birthday": "Birthday bonus",
    # where a member or an entry came from; "system" is also the actor of automatic entries
    "api": "API", "pos": "Point of sale", "import": "Import", "poster": "Poster",
    "link": "Card link", "signup": "Sign-up page", "dashboard": "Dashboard", "system": "Automatic",
    # staff roles
    "owner": "Owner", "manager": "Manager", "cashier": "Cashier",
    # states of an import
    "checked": "Checked", "running": "Running", "done": "Done", "failed": "Failed",
}
"""How the dashboard names the values stored as codes (kinds, sources, roles, states)."""

REASONS = (
    (re.compile(r"undo at the counter"), "Undone at the counter"),
    (re.compile(r"Welcome bonus"), ""),
    (re.compile(r"Birthday bonus [0-9]{4}"), ""),
    (re.compile(r"Referral of member (?P<id>[0-9]+)"), "Referral of member {id}"),
    (re.compile(r"Expiry of (?P<points>[0-9]+) points from transaction (?P<id>[0-9]+)"),
     ngettext_noop("{points} point of transaction {id}", "{points} points of transaction {id}")),
)
"""The reasons the service itself writes on entries, as the dashboard says them ("": the
entry's kind says it all); staff's own reasons are shown as they typed them."""


def label(code: object, lang: str | None = None) -> str:
    """A stored code (entry kind, source, role, import state) as a word in the reader's
    language; an unknown code as it is."""
    text = str(code or "")
    return translate(LABELS[text], lang) if text in LABELS else text


def reason(text: object, lang: str | None = None) -> str:
    """An entry's reason: the service's own reasons translated, staff's as typed."""
    given = str(text or "")
    for pattern, sentence in REASONS:
        found = pattern.fullmatch(given)
        if found and isinstance(sentence, tuple):  # counted by its points
            return translate_plural(*sentence, int(found["points"]), lang, **found.groupdict())
        if found:
            return translate(str(sentence), lang, **found.groupdict()) if sentence else ""
    return given
