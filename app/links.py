"""Every public link the service hands out, built in one place from WALLETPASS_BASE_URL.

Links never come from the request's Host header: a forged Host would poison links that
are mailed or stored, and background jobs have no request at all. Each function works
with an app context, or with the settings passed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode

from flask import current_app

from app.config import Settings

if TYPE_CHECKING:
    from app.models import Member


class Carded(Protocol):
    """Anything naming a member's card by its download token (a Member, a query row)."""

    @property
    def download_token(self) -> str: ...


def _settings(settings: Settings | None) -> Settings:
    """The given settings, else the current app's."""
    return settings if settings is not None else current_app.config["SETTINGS"]


def public_url(path: str, settings: Settings | None = None) -> str:
    """The absolute public URL of a path of this service (path starts with '/')."""
    if not path.startswith("/"):
        raise ValueError(f"A public path starts with '/': {path!r}")
    return _settings(settings).BASE_URL.rstrip("/") + path


def apple_pass_link(member: Member, settings: Settings | None = None) -> str:
    """Where a member downloads their signed Apple Wallet pass (guarded by the download token)."""
    return public_url(f"/cards/{member.download_token}/apple.pkpass", settings)


def card_page_link(member: Carded, settings: Settings | None = None) -> str:
    """The member's card page: the one link mails, posters and API clients hand out."""
    return public_url(f"/cards/{member.download_token}", settings)


def apple_web_service_url(settings: Settings | None = None) -> str:
    """The PassKit web service's base URL, written into every pass as webServiceURL."""
    return public_url("/wallet", settings)


def google_save_link(member: Member, settings: Settings | None = None) -> str:
    """The service's own Google Wallet link: it redirects to a freshly signed save link."""
    return public_url(f"/g/{member.download_token}", settings)


def google_enabled(settings: Settings | None = None) -> bool:
    """Whether Google Wallet is configured (a half setup is refused at start-up)."""
    s = _settings(settings)
    return bool(s.GOOGLE_SERVICE_ACCOUNT_FILE and s.GOOGLE_ISSUER_ID)


def signup_link(program_id: int, location: int | str | None = None,
                settings: Settings | None = None) -> str:
    """A program's public signup page, tagged with the store location it was found at."""
    path = f"/join/{program_id}"
    return public_url(f"{path}?{urlencode({'loc': location})}" if location else path, settings)


def poster_link(program_id: int, fmt: str, settings: Settings | None = None) -> str:
    """A program's printable signup poster (PDF or PNG; the API answers it with a key)."""
    return public_url(f"/api/v1/programs/{program_id}/poster.{fmt}", settings)


def program_links(program_id: int, settings: Settings | None = None) -> dict[str, str]:
    """A program's public signup page and its posters."""
    return {"signup": signup_link(program_id, settings=settings),
            "poster_pdf": poster_link(program_id, "pdf", settings),
            "poster_png": poster_link(program_id, "png", settings)}


def image_link(program_id: int, design_version: int, filename: str,
               settings: Settings | None = None) -> str:
    """A program's card image of one design version (logo@2x.png...), served publicly."""
    return public_url(f"/images/{program_id}/{design_version}/{filename}", settings)


def member_links(member: Member, settings: Settings | None = None) -> dict[str, str]:
    """Every public link to a member's card: its page, and by wallet (Google only where it
    is configured)."""
    out = {"card": card_page_link(member, settings), "apple": apple_pass_link(member, settings)}
    if google_enabled(settings):
        out["google"] = google_save_link(member, settings)
    return out


def unsubscribe_link(token: str, settings: Settings | None = None) -> str:
    """The unsubscribe page of a mail (GET shows a button; a POST unsubscribes at once)."""
    return public_url(f"/mail/unsubscribe/{token}", settings)
