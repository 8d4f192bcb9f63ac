"""The message of one mail, from plain values (no app, no I/O).

Every mail is multipart/alternative (text, then HTML), in the member's language, in the
program's colours (and its logo when a public image URL is given), from the program's
name at the service's address, with Reply-To the merchant's address, a link to the
member's card page (never an attached pass: mail providers strip .pkpass files), and an
unsubscribe link that also goes in `List-Unsubscribe` with one-click
`List-Unsubscribe-Post` (RFC 8058).

A mail is rendered from a `Template`: everything every member of one program, language,
kind and set of facts shares (the Jinja templates rendered, the From, Reply-To and Subject
headers encoded, the MIME boundary), made once and cached by those values (so a changed
program makes a new one, never a stale mail). Each member's own values (name, address,
card and unsubscribe links, Message-ID, date) are put in by `render()`, which writes the
message's bytes as they go on the wire (CRLF line ends); each text part is 7bit when it
is short-lined ASCII, else quoted-printable or base64, whichever is shorter (the
email package's own rule). `build_message()` parses those bytes back (for tests and
for looking at a mail).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_string, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

from app.i18n import gettext, gettext_noop, ngettext, ngettext_noop
from app.wallet.i18n import DEFAULT_LANGUAGE, normalize_language

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
_HTML = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                    undefined=StrictUndefined)
_TEXT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False,
                    undefined=StrictUndefined, keep_trailing_newline=True)
MAX_LINE = 78
"""Longest line of a 7bit text part (as the email package's default policy)."""
_MARK = secrets.token_hex(8)
NAME, CARD, UNSUBSCRIBE = (f"\ue000{_MARK}{i}\ue001" for i in range(3))
"""Where a template takes each member's own values: private-use characters around a
random mark, so no merchant's text can contain one."""


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


Text = str | tuple[str, str]
"""A mail text as written in English: one sentence, or a counted pair (singular, plural)."""

KINDS: dict[str, tuple[Text, Text, Text]] = {
    "welcome": (
        gettext_noop("Your {program} card is ready"),
        gettext_noop("Welcome to {program}"),
        gettext_noop("Your loyalty card is ready. Open it on your phone and add it to your wallet: "
                     "it shows your points and updates by itself."),
    ),
    "reward_available": (
        gettext_noop("A reward is waiting for you: {reward}"),
        gettext_noop("You can now redeem {reward}"),
        ngettext_noop("You have {points} point, enough for {reward}. "
                      "Show your card at checkout to redeem it.",
                      "You have {points} points, enough for {reward}. "
                      "Show your card at checkout to redeem it."),
    ),
    "tier_near": (
        gettext_noop("You are close to {tier}"),
        gettext_noop("Only {needed} more to {tier}"),
        gettext_noop("Collect {needed} more and you reach {tier}."),
    ),
    "points_expiring": (
        ngettext_noop("{points} point expires on {date}", "{points} points expire on {date}"),
        ngettext_noop("{points} point expires on {date}", "{points} points expire on {date}"),
        ngettext_noop("Use it by {date}: after that day it is gone. "
                      "Show your card at checkout to spend it.",
                      "Use them by {date}: after that day they are gone. "
                      "Show your card at checkout to spend them."),
    ),
}
"""Each kind of mail's subject, heading and body, as written in English (counted by the
mail's points where they say how many)."""


def mail_language(*candidates: str | None) -> str:
    """The first candidate that is a card language (member's, then program's), else English."""
    for tag in candidates:
        lang = normalize_language(tag) if tag else None
        if lang is not None:
            return lang
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Template:
    """What every member's copy of one mail shares: encoded headers and marked bodies."""

    sender: bytes
    """The From header."""
    shared: bytes
    """Reply-To and Subject."""
    closing: bytes
    """The List-Unsubscribe-Post ... Content-Language headers and the blank line."""
    text: str
    html: str
    boundary: bytes


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
    count = _count(values.get("points"))
    return {
        "subject": _one_line(_say(lang, subject, count, values)),
        "heading": _say(lang, heading, count, values),
        "greeting": greeting,
        "body": _say(lang, body, count, values),
        "button": gettext(lang, "Open your card"),
        "footer": gettext(lang, "You get this mail because you are a member of {program}.",
                          **values),
        "unsubscribe": gettext(lang, "Unsubscribe"),
    }


def _count(points: Any) -> int:
    """The mail's number of points (written "1,200" in its facts), 0 when it has none."""
    digits = "".join(ch for ch in str(points or "") if ch.isdigit())
    return int(digits) if digits else 0


def _say(lang: str, text: Text, count: int, values: dict[str, Any]) -> str:
    """A mail text in `lang`: a counted pair in the form that fits `count`."""
    if isinstance(text, tuple):
        return ngettext(lang, *text, count, **values)
    return gettext(lang, text, **values)


def _header(name: str, value: str, utf8: bool = False) -> bytes:
    """One header line as the email package writes it (encoded words where needed)."""
    pol = policy.SMTPUTF8 if utf8 else policy.SMTP
    return pol.header_factory(name, value).fold(policy=pol).encode("utf-8" if utf8
                                                                    else "ascii")


def template_of(mail: Mail) -> Template:
    """The template of a mail (made once for each program, language, kind and facts)."""
    return _template(mail.kind, mail.language, mail.sender, mail.reply_to, mail.brand,
                     json.dumps(mail.params, sort_keys=True, default=str), bool(mail.to_name))


@lru_cache(maxsize=512)
def _template(kind: str, language: str, sender: str, reply_to: str | None, brand: Brand,
              params: str, named: bool) -> Template:
    """Render the shared parts once, with markers where each member's values go."""
    marked = Mail(kind=kind, language=language, to="", to_name=NAME if named else "",
                  sender=sender, reply_to=reply_to, brand=brand, card_link=CARD,
                  unsubscribe_link=UNSUBSCRIBE, message_id="", date=datetime.min,
                  params=json.loads(params))
    words = texts_of(marked)
    context = {"mail": marked, "brand": brand, "t": words}
    boundary = f"=============={secrets.token_hex(12)}==".encode()
    shared = _header("Reply-To", reply_to) if reply_to else b""
    closing = (b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
               b"Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
               b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n'
               + _header("Content-Language", language) + b"\r\n")
    return Template(sender=_header("From", _address(brand.sender_name, sender),
                                   utf8=not sender.isascii()),
                    shared=shared + _header("Subject", words["subject"]), closing=closing,
                    text=_TEXT.get_template("message.txt").render(context),
                    html=_HTML.get_template("message.html").render(context),
                    boundary=boundary)


def _address(name: str, address: str) -> str:
    """A name and address for a header (an international address kept in UTF-8, which
    formataddr refuses)."""
    if address.isascii():
        return formataddr((_one_line(name), address))
    local, _, domain = address.rpartition("@")
    return str(Address(_one_line(name), local, domain))


def _to_header(mail: Mail) -> bytes:
    """The To header of one member (plain when short ASCII, else as the email package)."""
    value = _address(mail.to_name, mail.to)
    if value.isascii() and len(value) <= MAX_LINE - 4:
        return b"To: " + value.encode() + b"\r\n"
    return _header("To", value, utf8=not mail.to.isascii())


def _body(content: str) -> tuple[bytes, bytes]:
    """A text part's transfer encoding and encoded body (CRLF line ends)."""
    lines = content.encode("utf-8").splitlines()
    if all(line.isascii() and len(line) <= MAX_LINE for line in lines):
        return b"7bit", b"\r\n".join(lines) + b"\r\n"
    raw = b"\n".join(lines) + b"\n"
    quoted = binascii.b2a_qp(raw, istext=True)
    encoded = base64.encodebytes(raw)
    cte, body = ((b"quoted-printable", quoted) if len(quoted) <= len(encoded)
                 else (b"base64", encoded))
    return cte, body.replace(b"\n", b"\r\n")


def _part(subtype: bytes, content: str) -> bytes:
    """One text part with its headers."""
    cte, body = _body(content)
    return (b'Content-Type: text/' + subtype + b'; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" + body)


def render(mail: Mail) -> bytes:
    """The complete message of one mail as sent: headers, text part and HTML part."""
    shape = template_of(mail)
    name = mail.to_name
    plain = (shape.text.replace(CARD, mail.card_link)
             .replace(UNSUBSCRIBE, mail.unsubscribe_link).replace(NAME, name))
    html = (shape.html.replace(CARD, str(escape(mail.card_link)))
            .replace(UNSUBSCRIBE, str(escape(mail.unsubscribe_link)))
            .replace(NAME, str(escape(name))))
    delimiter = b"--" + shape.boundary
    return b"".join((
        shape.sender, _to_header(mail), shape.shared,
        b"Date: " + format_datetime(mail.date).encode() + b"\r\n",
        b"Message-ID: " + mail.message_id.encode() + b"\r\n",
        b"List-Unsubscribe: <" + mail.unsubscribe_link.encode() + b">\r\n",
        shape.closing,
        delimiter, b"\r\n", _part(b"plain", plain), b"\r\n",
        delimiter, b"\r\n", _part(b"html", html), b"\r\n",
        delimiter, b"--\r\n"))


def build_message(mail: Mail) -> EmailMessage:
    """The message of one mail, parsed from the bytes render() sends."""
    message = message_from_string(render(mail).decode("utf-8"), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message
