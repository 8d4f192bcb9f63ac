"""The wallet status panel: what a merchant must fix, said plainly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import current_app

from app.i18n import gettext_noop, ngettext_noop
from app.links import google_enabled
from app.wallet.apple.certs import WWDR_URL, expiring, is_development

# The panel's sentences, in English; the catalog translates them. {names} are filled in.
DEV_CERTIFICATE = gettext_noop(
    "No iPhone will accept the cards until a Pass Type ID certificate from "
    "Apple is configured ({setting}).")
PASS_TYPE_EXPIRING = ngettext_noop(
    "The Pass Type ID certificate for {pass_type_id} expires on {date} (in {days} day): "
    "renew it in the Apple Developer portal before then, or cards can no longer be signed "
    "or updated.",
    "The Pass Type ID certificate for {pass_type_id} expires on {date} (in {days} days): "
    "renew it in the Apple Developer portal before then, or cards can no longer be signed "
    "or updated.")
WWDR_EXPIRING = ngettext_noop(
    "The Apple WWDR intermediate certificate expires on {date} (in {days} day): download its "
    "successor from {url} before then, or cards can no longer be signed or updated.",
    "The Apple WWDR intermediate certificate expires on {date} (in {days} days): download its "
    "successor from {url} before then, or cards can no longer be signed or updated.")
GOOGLE_OFF = gettext_noop(
    "Android members cannot save the card to Google Wallet until {account_setting} "
    "and {issuer_setting} are set.")
MAIL_FOLDER = gettext_noop(
    "Messages are written as files in the data folder; set {setting} to send "
    "them.")
DETAILS = (DEV_CERTIFICATE, PASS_TYPE_EXPIRING[0], WWDR_EXPIRING[0], GOOGLE_OFF, MAIL_FOLDER)


@dataclass(frozen=True)
class Problem:
    """One thing to fix: a short title, its detail (both English messages the page
    translates; the detail's {names} filled from `values`) and how bad it is."""

    key: str
    title: str
    detail: str
    level: str  # "error" (cards do not work) or "warning"
    values: Mapping[str, str] = field(default_factory=dict)
    plural: str = ""
    """The detail's plural form when it counts something (`count`)."""
    count: int = 0


def problems(now: dt.datetime | None = None) -> list[Problem]:
    """Every problem of this installation's wallet set-up, worst first."""
    settings = current_app.config["SETTINGS"]
    found = [p for p in (_apple(now),) if p is not None]
    if not google_enabled(settings):
        found.append(Problem(
            "google_off", gettext_noop("Google Wallet is not configured"), GOOGLE_OFF, "warning",
            {"account_setting": "WALLETPASS_GOOGLE_SERVICE_ACCOUNT_FILE",
             "issuer_setting": "WALLETPASS_GOOGLE_ISSUER_ID"}))
    if current_app.extensions["walletpass.smtp"] is None:
        found.append(Problem("mail_folder", gettext_noop("Mail goes to a folder, not to people"),
                             MAIL_FOLDER,
                             "warning", {"setting": "WALLETPASS_SMTP_URL"}))
    return found


def _apple(now: dt.datetime | None) -> Problem | None:
    """The Apple signing identity's problem: a development chain, or a certificate that
    expires within 30 days."""
    identity = current_app.extensions["walletpass.apple"].identity
    if is_development(identity):
        return Problem("dev_certificate", gettext_noop("Development certificate in use"),
                       DEV_CERTIFICATE,
                       "error", {"setting": "WALLETPASS_APPLE_CERT"})
    soon = expiring(identity, now, days=30)
    if soon is None:
        return None
    values = {"date": f"{soon.end:%Y-%m-%d}", "days": str(soon.days_left)}
    if soon.which == "wwdr":
        detail, more = WWDR_EXPIRING[0], {"url": WWDR_URL}
    else:
        detail, more = PASS_TYPE_EXPIRING[0], {"pass_type_id": soon.pass_type_id}
    plural = (WWDR_EXPIRING if soon.which == "wwdr" else PASS_TYPE_EXPIRING)[1]
    return Problem("apple_expiring", gettext_noop("Apple certificate expires soon"), detail,
                   "error",
                   {**values, **more}, plural, soon.days_left)
