"""Dashboard accounts: users, passwords, memberships, invitations and reset tokens.

Plain functions that flush (the request commits once). Passwords are hashed with argon2id
(argon2-cffi's defaults). Reset tokens are signed with the app's secret key and carry a
fingerprint of the current password hash, so a token stops working once it was used (the
hash changes) and after RESET_MAX_AGE. Invitation tokens are random; only their SHA-256
is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import Field
from sqlalchemy import select

from app.errors import DomainError, NotFound, ValidationError
from app.extensions import db
from app.i18n import gettext_noop
from app.merchants.operations import create_merchant
from app.models import Invitation, LoginFailure, Membership, Merchant, User
from app.models.account import ROLES
from app.models.base import utcnow
from app.validation import EMAIL_ADDRESS, Input, Rule, one_of, text

HASHER = PasswordHasher()
MIN_PASSWORD = 10
RESET_MAX_AGE = 3600
INVITATION_DAYS = 7
_DUMMY_HASH = HASHER.hash("walletpass-timing-equaliser")


def _password(value: object) -> str:
    """A password of at least MIN_PASSWORD characters (kept as typed, never stripped)."""
    if not isinstance(value, str) or len(value) < MIN_PASSWORD:
        raise ValueError(f"must be at least {MIN_PASSWORD} characters.")
    if len(value) > 1000 or "\x00" in value:
        raise ValueError("must be at most 1000 characters.")
    return value


PASSWORD = Rule(_password, {"type": "string", "minLength": MIN_PASSWORD})


class LoginForm(Input):
    """The login form."""

    email: Annotated[str, EMAIL_ADDRESS]
    password: Annotated[str, text(1000)]


class PasswordForm(Input):
    """A new password (reset, invitation)."""

    password: Annotated[str, PASSWORD]


class SignupForm(Input):
    """Open sign-up: a business, its owner's e-mail and password."""

    business: Annotated[str, text(200)]
    email: Annotated[str, EMAIL_ADDRESS]
    password: Annotated[str, PASSWORD]


class InviteForm(Input):
    """An owner invites someone by e-mail with a role."""

    email: Annotated[str, EMAIL_ADDRESS]
    role: Annotated[str, one_of(*ROLES)] = Field(default="cashier")


class TooManyAttempts(DomainError):
    """Too many failed logins for this account or address: wait for the window to pass."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return HASHER.hash(password)


def user_by_email(email: str) -> User | None:
    """The user with this e-mail (lower-cased), or None."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(user: User, password: str) -> None:
    """Replace a user's password (earlier reset links stop working)."""
    user.password_hash = hash_password(_password(password))
    db.session.flush()


def create_owner(merchant: Merchant, email: str, password: str) -> User:
    """A user who owns the merchant (an existing user with that e-mail gets the membership
    and a new password)."""
    user = user_by_email(email)
    if user is None:
        user = User(email=email.strip().lower(), password_hash=hash_password(password))
        db.session.add(user)
    else:
        user.password_hash = hash_password(password)
    add_membership(user, merchant, "owner")
    return user


def add_membership(user: User, merchant: Merchant, role: str) -> Membership:
    """Give the user a role at the merchant (replacing an earlier role there)."""
    db.session.flush()
    row = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.merchant_id == merchant.id))
    if row is None:
        row = Membership(user=user, merchant=merchant, role=role)
        db.session.add(row)
    else:
        row.role = role
    db.session.flush()
    return row


def sign_up(form: SignupForm) -> User:
    """Open sign-up: a new merchant and its owner."""
    if user_by_email(form.email) is not None:
        raise ValidationError("An account with this e-mail exists; log in instead.",
                              details={"fields": [{"field": "email", "message":
                                                   "An account with this e-mail exists."}]})
    merchant, _key = create_merchant(form.business, form.email)
    return create_owner(merchant, form.email, form.password)


# --- logging in --------------------------------------------------------------------------


def _window() -> timedelta:
    """The rate limit's window."""
    return timedelta(minutes=current_app.config["SETTINGS"].LOGIN_WINDOW_MINUTES)


def _failures(key: str) -> LoginFailure | None:
    """The failure counter of a key while its window lasts (an old one is forgotten)."""
    row = db.session.get(LoginFailure, key)
    if row is not None and row.window_start < utcnow() - _window():
        db.session.delete(row)
        db.session.flush()
        return None
    return row


def _count_failure(key: str) -> None:
    """One more failed login for this key."""
    row = _failures(key)
    if row is None:
        db.session.add(LoginFailure(key=key, count=1, window_start=utcnow()))
    else:
        row.count += 1
    db.session.flush()


def login_keys(email: str, address: str) -> list[str]:
    """The rate limit's keys: the account and the client's address."""
    return [f"email:{email.strip().lower()}"[:340], f"ip:{address}"[:340]]


def authenticate(form: LoginForm, address: str) -> User | None:
    """The user whose e-mail and password these are, or None (the failure is counted).

    Refused with TooManyAttempts while the account or the address has used up its failures
    (the counters are kept even though the request answers an error: the caller commits).
    """
    limit = current_app.config["SETTINGS"].LOGIN_MAX_FAILURES
    keys = login_keys(form.email, address)
    blocked = [row for k in keys if (row := _failures(k)) is not None and row.count >= limit]
    if blocked:
        raise TooManyAttempts(gettext_noop(
            "Too many failed attempts. Wait a few minutes and try again."),
                              retry_after=_seconds_left(blocked))
    user = user_by_email(form.email)
    if _verify(user, form.password):
        for key in keys[:1]:
            if (row := _failures(key)) is not None:
                db.session.delete(row)
        return user
    for key in keys:
        _count_failure(key)
    return None


def _seconds_left(rows: list[LoginFailure]) -> int:
    """Seconds until the last of these counters' windows ends (at least one)."""
    ends = max(row.window_start for row in rows) + _window()
    return max(1, int((ends - utcnow()).total_seconds()) + 1)


def _verify(user: User | None, password: str) -> bool:
    """Whether the password is the user's (as slow for an unknown e-mail as for a known one)."""
    try:
        return HASHER.verify(user.password_hash if user else _DUMMY_HASH, password) and (
            user is not None)
    except (VerificationError, InvalidHashError):
        return False


# --- password reset ----------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    """Signs reset tokens with the app's secret key."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def _fingerprint(user: User) -> str:
    """A short digest of the current password hash (a reset changes it: one use)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def reset_token(user: User) -> str:
    """A signed password-reset token for the user, valid RESET_MAX_AGE seconds, once."""
    return str(_serializer().dumps({"u": user.id, "f": _fingerprint(user)}))


def user_for_reset(token: str) -> User:
    """The user a reset token was made for, or a clear error (expired, used, forged)."""
    try:
        data = _serializer().loads(token, max_age=RESET_MAX_AGE)
    except SignatureExpired:
        raise ValidationError("This reset link has expired; ask for a new one.",
                              code="link_expired") from None
    except BadSignature:
        raise NotFound("This reset link is not valid.") from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not hmac.compare_digest(str(data.get("f")), _fingerprint(user)):
        raise NotFound("This reset link was already used or is not valid.")
    return user


# --- invitations -------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    """SHA-256 hex of an invitation token."""
    return hashlib.sha256(token.encode()).hexdigest()


def invite(merchant: Merchant, form: InviteForm, by: User) -> tuple[Invitation, str]:
    """A new invitation; returns it and the plain token (mailed as a link, never stored)."""
    token = secrets.token_urlsafe(32)
    row = Invitation(merchant=merchant, email=form.email, role=form.role,
                     token_hash=_token_hash(token), invited_by=by.id,
                     expires_at=utcnow() + timedelta(days=INVITATION_DAYS))
    db.session.add(row)
    db.session.flush()
    return row, token


def open_invitation(token: str) -> Invitation:
    """The invitation of a token, while it is unused and not expired."""
    row = db.session.scalar(select(Invitation).where(
        Invitation.token_hash == _token_hash(token)))
    if row is None or row.accepted_at is not None:
        raise NotFound("This invitation is not valid or was already used.")
    if row.expires_at < utcnow():
        raise ValidationError("This invitation has expired; ask the owner for a new one.",
                              code="link_expired")
    return row


def accept_invitation(row: Invitation, password: str | None) -> User:
    """Join the merchant: a new user sets a password; an existing one keeps theirs."""
    user = user_by_email(row.email)
    if user is None:
        if password is None:
            raise ValidationError("Choose a password.")
        user = User(email=row.email, password_hash=hash_password(password))
        db.session.add(user)
    add_membership(user, row.merchant, row.role)
    row.accepted_at = utcnow()
    db.session.flush()
    return user


def staff_of(merchant: Merchant) -> list[Membership]:
    """The merchant's people and their roles, oldest first."""
    return list(db.session.scalars(select(Membership).where(
        Membership.merchant_id == merchant.id).order_by(Membership.id)))


def pending_invitations(merchant: Merchant) -> list[Invitation]:
    """Invitations not yet accepted and not expired."""
    return list(db.session.scalars(select(Invitation).where(
        Invitation.merchant_id == merchant.id, Invitation.accepted_at.is_(None),
        Invitation.expires_at > utcnow()).order_by(Invitation.id)))
