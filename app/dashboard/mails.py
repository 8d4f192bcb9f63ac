"""Transactional mails of the dashboard (password reset, invitation), sent at once.

They go through the mail channel's transport (app/mail/transport.py: SMTP with timeouts,
or an .eml file in DATA_DIR/mail), one message on its own connection; a failure is
reported to the person on the page (they can ask again), not retried in the background.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

from app.dashboard.i18n import translate
from app.mail.tasks import host_of
from app.mail.transport import send
from app.models.base import utcnow

log = logging.getLogger(__name__)


def transactional(to: str, subject: str, body: str, name: str) -> bool:
    """Send one plain-text mail now; True when it went out (or was written to the folder)."""
    settings = current_app.config["SETTINGS"]
    host = host_of(settings)
    message = EmailMessage()
    message["From"] = settings.MAIL_FROM or f"no-reply@{host}"
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=host)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    outcome = send(message, name, current_app.extensions["walletpass.smtp"],
                   Path(settings.DATA_DIR) / "mail", settings.SMTP_TIMEOUT,
                   settings.SMTP_CA_FILE)
    if outcome.status != "sent":
        log.warning("dashboard mail %s not sent: %s", name, outcome.error)
    return outcome.status == "sent"


def reset_mail(to: str, link: str, lang: str, stamp: str) -> bool:
    """The password-reset mail with its one-time link."""
    body = translate("Someone asked to reset the password of your walletpass account. "
                     "Open this link within an hour to choose a new password:", lang)
    tail = translate("If it was not you, ignore this mail; your password stays the same.", lang)
    return transactional(to, translate("Reset your password", lang),
                         f"{body}\n\n{link}\n\n{tail}\n", f"reset-{stamp}")


def invitation_mail(to: str, business: str, role: str, link: str, lang: str,
                    stamp: str) -> bool:
    """The invitation mail with its link."""
    body = translate("You are invited to join {business} on walletpass as {role}. Open "
                     "this link within 7 days to accept:", lang, business=business,
                     role=translate(role, lang))
    return transactional(to, translate("Invitation to {business}", lang, business=business),
                         f"{body}\n\n{link}\n", f"invitation-{stamp}")
