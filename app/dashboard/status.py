"""The wallet status panel: what a merchant must fix, said plainly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from app.links import google_enabled
from app.wallet.apple.certs import expiry_warning, is_development


@dataclass(frozen=True)
class Problem:
    """One thing to fix: a short title (translated), its detail and how bad it is."""

    key: str
    title: str
    detail: str
    level: str  # "error" (cards do not work) or "warning"


def problems(now: dt.datetime | None = None) -> list[Problem]:
    """Every problem of this installation's wallet set-up, worst first."""
    settings = current_app.config["SETTINGS"]
    identity = current_app.extensions["walletpass.apple"].identity
    found: list[Problem] = []
    if is_development(identity):
        found.append(Problem("dev_certificate", "Development certificate in use",
                             "No iPhone will accept the cards until a Pass Type ID "
                             "certificate from Apple is configured (WALLETPASS_APPLE_CERT).",
                             "error"))
    else:
        warning = expiry_warning(identity, now, days=30)
        if warning:
            found.append(Problem("apple_expiring", "Apple certificate expires soon",
                                 warning + ".", "error"))
    if not google_enabled(settings):
        found.append(Problem("google_off", "Google Wallet is not configured",
                             "Android members cannot save the card to Google Wallet "
                             "(WALLETPASS_GOOGLE_SERVICE_ACCOUNT_FILE and "
                             "WALLETPASS_GOOGLE_ISSUER_ID).", "warning"))
    if current_app.extensions["walletpass.smtp"] is None:
        found.append(Problem("mail_folder", "Mail goes to a folder, not to people",
                             "Messages are written as files in the data folder; set "
                             "WALLETPASS_SMTP_URL to send them.", "warning"))
    return found
