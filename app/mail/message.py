"""build_message(): the MIME message of one mail, from plain values (no app, no I/O).

Every mail is multipart/alternative (text, then HTML), in the member's language, in the
program's colours (and its logo when a public image URL is given), from the program's
name at the service's address, with Reply-To the merchant's address, a link to the
member's card page (never an attached pass: mail providers strip .pkpass files), and an
unsubscribe link that also goes in `List-Unsubscribe` with one-click
`List-Unsubscribe-Post` (RFC 8058).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.i18n import gettext, gettext_noop
from app.wallet.i18n import DEFAULT_LANGUAGE, normalize_language

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
_HTML = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                    undefined=StrictUndefined)
_TEXT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                    undefined=StrictUndefined, keep_trailing_newline=True)


@dataclass(frozen=True)
class Brand:
    """What a mail shows of the program: names, the card's colours, an optional logo URL."""

    program: str
    sender_name: str
    background: str = "#1f2937"
    foreground: str = "#ffffff"
    logo_url: str | None = None


@dataclass(frozen=True)
class Mail:
    """Everything one mail says and where it goes."""

    kind: str
    language: str
    to: str
    to_name: str
    sender: str
    reply_to: str | None
    brand: Brand
    card_link: str
    unsubscribe_link: str
    message_id: str
    date: datetime
    params: dict[str, Any] = field(default_factory=dict)


KINDS: dict[str, tuple[str, str, str]] = {
    "welcome": (
        gettext_noop("Your {program} card is ready"),
        gettext_noop("Welcome to {program}"),
        gettext_noop("Your loyalty card is ready. Open it on your phone and add it to your wallet: "
                     "it shows your points and updates by itself."),
    ),
    "reward_available": (
        gettext_noop("A reward is waiting for you: {reward}"),
        gettext_noop("You can now redeem {reward}"),
        gettext_noop("You have {points} points, enough for {reward}. "
                     "Show your card at checkout to redeem it."),
    ),
    "tier_near": (
        gettext_noop("You are close to {tier}"),
        gettext_noop("Only {needed} more to {tier}"),
        gettext_noop("Collect {needed} more and you reach {tier}."),
    ),
    "points_expiring": (
        gettext_noop("{points} points expire on {date}"),
        gettext_noop("{points} points expire on {date}"),
        gettext_noop("Use them by {date}: after that day they are gone. "
                     "Show your card at checkout to spend them."),
    ),
}
"""Each kind of mail"s subject, heading and body, as written in English."""


def mail_language(*candidates: str | None) -> str:
    """The first candidate that is a card language (member's, then program's), else English."""
    for tag in candidates:
        lang = normalize_language(tag) if tag else None
        if lang is not None:
            return lang
    return DEFAULT_LANGUAGE


def _one_line(value: str) -> str:
    """A header value on one line (a name with a line break must not add headers)."""
    return " ".join(value.split())


def texts_of(mail: Mail) -> dict[str, str]:
    """The mail's subject, heading, greeting, body and footer texts, in its language."""
    lang, kind = mail.language, mail.kind
    values = {"program": mail.brand.program, **mail.params}
    greeting = (gettext(lang, "Hello {name},", name=mail.to_name) if mail.to_name
                else gettext(lang, "Hello,"))
    subject, heading, body = KINDS[kind]
    return {
        "subject": _one_line(gettext(lang, subject, **values)),
        "heading": gettext(lang, heading, **values),
        "greeting": greeting,
        "body": gettext(lang, body, **values),
        "button": gettext(lang, "Open your card"),
        "footer": gettext(lang, "You get this mail because you are a member of {program}.",
                          **values),
        "unsubscribe": gettext(lang, "Unsubscribe"),
    }


def build_message(mail: Mail) -> EmailMessage:
    """The complete message of one mail: headers, text part and HTML part."""
    words = texts_of(mail)
    context = {"mail": mail, "brand": mail.brand, "t": words}
    message = EmailMessage()
    message["From"] = formataddr((_one_line(mail.brand.sender_name), mail.sender))
    message["To"] = formataddr((_one_line(mail.to_name), mail.to))
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["Subject"] = words["subject"]
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = mail.message_id
    message["List-Unsubscribe"] = f"<{mail.unsubscribe_link}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(_TEXT.get_template("message.txt").render(context))
    message.add_alternative(_HTML.get_template("message.html").render(context),
                            subtype="html")
    message["Content-Language"] = mail.language  # set_content drops Content-* headers
    return message
