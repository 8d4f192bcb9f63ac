"""The Google Wallet issuer: the service account loaded once, save links, the REST client."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from google.auth import crypt
from google.auth import jwt as google_jwt

from app.config import Settings
from app.wallet.google.callbacks import RootKeys
from app.wallet.google.client import GoogleClient

SAVE_URL = "https://pay.google.com/gp/v/save/"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
MAX_JWT_LENGTH = 1800
"""Google's "maximum safe length" of a save JWT."""
REQUIRED_KEYS = ("client_email", "private_key", "token_uri")


class GoogleConfigError(Exception):
    """The Google service account file is missing, unreadable or malformed; says which and why."""


@dataclass(frozen=True)
class ServiceAccount:
    """A parsed service account key: its email, its JSON and a signer built once."""

    email: str
    info: dict[str, Any]
    signer: crypt.Signer


def load_service_account(path: str) -> ServiceAccount:
    """Read and check a service account JSON key file (a clear GoogleConfigError if unusable)."""
    var = "WALLETPASS_GOOGLE_SERVICE_ACCOUNT_FILE"
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except OSError as exc:
        raise GoogleConfigError(f"{var}: cannot read {path}: {exc.strerror or exc}.") from None
    except ValueError as exc:
        raise GoogleConfigError(f"{var}: {path} is not JSON ({exc}); download the key again "
                                "from the Google Cloud console (Keys > Add key > JSON).") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise GoogleConfigError(f"{var}: {path} is not a service account key "
                                "(its \"type\" must be \"service_account\").")
    missing = [k for k in REQUIRED_KEYS if not isinstance(info.get(k), str) or not info[k]]
    if missing:
        raise GoogleConfigError(f"{var}: {path} lacks {', '.join(missing)}.")
    try:
        signer = crypt.RSASigner.from_service_account_info(info)
    except (ValueError, TypeError, IndexError) as exc:
        raise GoogleConfigError(f"{var}: the private_key in {path} cannot be loaded "
                                f"({exc or type(exc).__name__}).") from None
    return ServiceAccount(email=info["client_email"], info=info, signer=signer)


class GoogleWallet:
    """Everything the service does with Google: ids, signed save links, the REST client."""

    def __init__(self, account: ServiceAccount, settings: Settings) -> None:
        self.account = account
        self.settings = settings
        self.issuer_id = settings.GOOGLE_ISSUER_ID
        self.client = GoogleClient(account.info, settings.GOOGLE_API_URL,
                                   timeout=settings.GOOGLE_TIMEOUT, scope=SCOPE)
        self.root_keys = RootKeys(settings.GOOGLE_ROOT_KEYS_URL, settings.GOOGLE_ROOT_KEYS_FILE,
                                  timeout=settings.GOOGLE_TIMEOUT)

    @property
    def callback_url(self) -> str:
        """Where Google posts save and delete events (the class's callbackOptions.url)."""
        return self.settings.BASE_URL + "/google/callback"

    def save_jwt(self, objects: list[dict[str, Any]]) -> str:
        """A signed "savetowallet" JWT for these loyalty objects (RS256, the account's key)."""
        claims = {"iss": self.account.email, "aud": "google", "typ": "savetowallet",
                  "iat": int(time.time()), "origins": [self.settings.BASE_URL],
                  "payload": {"loyaltyObjects": objects}}
        return google_jwt.encode(self.account.signer, claims).decode("ascii")

    def save_url(self, objects: list[dict[str, Any]]) -> str:
        """The pay.google.com link that saves these objects."""
        return SAVE_URL + self.save_jwt(objects)


def load_google_wallet(settings: Settings, log: logging.Logger) -> GoogleWallet | None:
    """The Google issuer when configured, else None (with one clear log line)."""
    if not settings.GOOGLE_SERVICE_ACCOUNT_FILE and not settings.GOOGLE_ISSUER_ID:
        log.info("Google Wallet is off: set WALLETPASS_GOOGLE_SERVICE_ACCOUNT_FILE and "
                 "WALLETPASS_GOOGLE_ISSUER_ID to issue Google Wallet cards.")
        return None
    if not settings.GOOGLE_SERVICE_ACCOUNT_FILE or not settings.GOOGLE_ISSUER_ID:
        missing = ("WALLETPASS_GOOGLE_ISSUER_ID" if settings.GOOGLE_SERVICE_ACCOUNT_FILE
                   else "WALLETPASS_GOOGLE_SERVICE_ACCOUNT_FILE")
        raise GoogleConfigError(f"Google Wallet is half configured: {missing} is not set.")
    if not settings.GOOGLE_ISSUER_ID.isdigit():
        raise GoogleConfigError("WALLETPASS_GOOGLE_ISSUER_ID must be the numeric issuer id "
                                f"from the Google Pay & Wallet console, got "
                                f"{settings.GOOGLE_ISSUER_ID!r}.")
    account = load_service_account(settings.GOOGLE_SERVICE_ACCOUNT_FILE)
    log.info("Google Wallet is on: issuer %s, service account %s.", settings.GOOGLE_ISSUER_ID,
             account.email)
    return GoogleWallet(account, settings)
