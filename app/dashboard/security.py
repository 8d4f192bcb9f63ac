"""Sessions, CSRF and roles of the dashboard.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure whenever BASE_URL
is https). It holds the user's id, a fingerprint of their password hash (changing the
password ends every other session), the merchant shown and the CSRF token. Every POST
to the dashboard must carry that token (form field `csrf_token` or header X-CSRF-Token),
else it is refused with 400.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, g, redirect, request, session, url_for
from sqlalchemy import select

from app.analytics.access import api_key_access
from app.errors import DomainError, Unauthorized
from app.extensions import db
from app.models import Membership, Program, User
from app.programs.operations import get_program

RANKS = {"cashier": 0, "manager": 1, "owner": 2}


class Forbidden(DomainError):
    """The user's role does not allow this page."""

    status = 403
    code = "forbidden"


def configure_session(app: Flask) -> None:
    """Secure cookie settings for the dashboard's session."""
    secure = app.config["SETTINGS"].BASE_URL.startswith("https://")
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_NAME="walletpass_session")


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf() -> None:
    """Refuse (400) a state-changing request without the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, "The form has expired or did not come from this site; reload the page "
                   "and try again.")


def _fingerprint(user: User) -> str:
    """A digest of the password hash: sessions made before a password change end."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def log_in(user: User, merchant_id: int | None = None) -> None:
    """Start a fresh session for the user (a new CSRF token too)."""
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["pw"] = _fingerprint(user)
    if merchant_id is not None:
        session["mid"] = merchant_id
    if user.language:
        session["lang"] = user.language
    csrf_token()


def log_out() -> None:
    """End the session (the language choice stays)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def load_user() -> None:
    """Put the logged-in user and their current membership on g (None when logged out)."""
    g.user, g.membership = None, None
    uid = session.get("uid")
    if uid is None:
        return
    user = db.session.get(User, uid)
    if user is None or session.get("pw") != _fingerprint(user):
        session.pop("uid", None)
        return
    g.user = user
    rows = list(db.session.scalars(select(Membership).where(Membership.user_id == user.id)
                                   .order_by(Membership.id)))
    chosen = [m for m in rows if m.merchant_id == session.get("mid")]
    picked = chosen or rows
    g.membership = picked[0] if picked else None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send a visitor who is not logged in to the login page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        if g.membership is None:
            raise Forbidden("Your account does not belong to any business yet; ask an owner "
                            "to invite you.")
        return view(*args, **kwargs)

    return wrapper


def role_required(lowest: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Allow the page to users whose role is at least `lowest` (owner > manager > cashier)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if RANKS[g.membership.role] < RANKS[lowest]:
                raise Forbidden(f"Your role ({g.membership.role}) does not allow this page; "
                                f"ask an owner.")
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a local path only (never another site)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.home")


def analytics_access(program_id: int) -> Program:
    """Who may see a program's analytics: an API key of its merchant, or a signed-in owner or
    manager of it (cashiers are refused)."""
    if request.headers.get("Authorization"):
        return api_key_access(program_id)
    load_user()
    if g.user is None or g.membership is None:
        raise Unauthorized("Log in to the dashboard to see analytics.")
    if RANKS[g.membership.role] < RANKS["manager"]:
        raise Forbidden(f"Your role ({g.membership.role}) does not allow analytics; ask an "
                        "owner.")
    return get_program(g.membership.merchant, program_id)
