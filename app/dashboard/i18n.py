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
from app.i18n import gettext_noop, ngettext_noop

LANGUAGES = catalogs.LANGUAGE_NAMES
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
    'must be a number written as a string such as "12.50".': gettext_noop(
        'Must be a number such as "12.50".'),
    "is required.": gettext_noop("This field is required."),
    "A free_item reward has no 'value'.": gettext_noop("A free item has no value; leave it empty."),
    "A amount_off reward needs a 'value'.": gettext_noop("Say how much the reward takes off."),
    "A percent_off reward needs a 'value'.": gettext_noop(
        "Say what percentage the reward takes off."),
    "'value' of a percent_off reward is at most 100.": gettext_noop("A percentage is at most 100."),
    "Send exactly one of: points, amount.": gettext_noop("Type an amount or a number of points."),
    "Send exactly one of: points, reward_id.": gettext_noop(
        "Choose a reward or type a number of points."),
}
"""How the dashboard words a shared rule's message where the API's wording (about JSON
strings and field names) would puzzle a person at a form."""


def rule_message(template: str, values: Mapping[str, object], lang: str | None = None) -> str:
    """A shared validation rule's message as a sentence next to its field, translated."""
    if template == "{text}" and str(values.get("text")) in WORDING:  # a model's own check
        template, values = WORDING[str(values["text"])], {}
    shown = {key: str(value) for key, value in values.items()}
    if template in WORDING:
        return translate(WORDING[template], lang, **shown)
    sentence = translate(template, lang, **shown)  # the rule's own words, as a sentence
    return sentence[:1].upper() + sentence[1:]


LABELS = {
    # ledger entry kinds
    "earn": gettext_noop("Earned"), "redeem": gettext_noop("Redeemed"),
    "adjust": gettext_noop("Correction"), "donate": gettext_noop("Donation"),
    "void": gettext_noop("Cancelled"), "expire": gettext_noop("Expired"),
    "bonus_welcome": gettext_noop("Welcome bonus"),
    "bonus_referral": gettext_noop("Referral bonus"),
    "bonus_birthday": gettext_noop("Birthday bonus"),
    # where a member or an entry came from; "system" is also the actor of automatic entries
    "api": gettext_noop("API"), "pos": gettext_noop("Point of sale"),
    "import": gettext_noop("Import"), "poster": gettext_noop("Poster"),
    "link": gettext_noop("Card link"), "signup": gettext_noop("Sign-up page"),
    "dashboard": gettext_noop("Dashboard"), "system": gettext_noop("Automatic"),
    # staff roles
    "owner": gettext_noop("Owner"), "manager": gettext_noop("Manager"),
    "cashier": gettext_noop("Cashier"),
    # states of an import
    "checked": gettext_noop("Checked"), "running": gettext_noop("Running"),
    "done": gettext_noop("Done"), "failed": gettext_noop("Failed"),
}
"""How the dashboard names the values stored as codes (kinds, sources, roles, states)."""

REASONS = (
    (re.compile(r"undo at the counter"), gettext_noop("Undone at the counter")),
    (re.compile(r"Welcome bonus"), ""),
    (re.compile(r"Birthday bonus [0-9]{4}"), ""),
    (re.compile(r"Referral of member (?P<id>[0-9]+)"), gettext_noop("Referral of member {id}")),
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
