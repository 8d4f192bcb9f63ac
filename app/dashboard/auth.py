"""Logging in and out, password reset, invitations, open sign-up and the language choice."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.dashboard import accounts, bp, committed, field_errors, page, security
from app.dashboard.i18n import LANGUAGES
from app.dashboard.mails import invitation_mail, reset_mail
from app.errors import DomainError, ValidationError
from app.i18n import gettext_noop
from app.links import public_url
from app.validation import parse

Answer = BaseResponse | str


def _form() -> dict[str, Any]:
    """The posted form without the CSRF token (the input models refuse unknown fields)."""
    return {k: v for k, v in request.form.items() if k not in ("csrf_token", "next")}


def _address() -> str:
    """The client's address (behind a proxy, configure ProxyFix so this is the client's)."""
    return request.remote_addr or "unknown"


@bp.route("/login", methods=["GET", "POST"])
@committed
def login() -> Answer:
    """Log in with e-mail and password (failures rate limited per account and address)."""
    if request.method == "GET":
        return page("login.html", next=request.args.get("next", ""), errors={},
                    signup=current_app.config["SETTINGS"].OPEN_SIGNUP)
    values = _form()
    try:
        user = accounts.authenticate(parse(accounts.LoginForm, values), _address())
    except accounts.TooManyAttempts as exc:
        refused = page("login.html", 429, next=request.form.get("next", ""), values=values,
                       errors={"_": exc.message})
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except ValidationError as exc:
        return page("login.html", 422, next=request.form.get("next", ""), values=values,
                    errors=field_errors(exc))
    if user is None:
        return page("login.html", 401, next=request.form.get("next", ""), values=values,
                    errors={"_": gettext_noop("Wrong e-mail or password.")})
    security.log_in(user)
    return redirect(security.safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session."""
    security.log_out()
    return redirect(url_for("dashboard.login"))


@bp.post("/language")
@committed
def language() -> BaseResponse:
    """Remember the chosen language (in the session, and on the account when logged in)."""
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        abort(400, "Unknown language.")
    session["lang"] = lang
    if g.user is not None:
        g.user.language = lang
    return redirect(security.safe_next(request.form.get("next")))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> Answer:
    """Ask for a reset link by e-mail (the answer never says whether the account exists)."""
    if request.method == "GET":
        return page("forgot.html", sent=False, errors={})
    email = request.form.get("email", "").strip()
    user = accounts.user_by_email(email) if email else None
    if user is not None:
        token = accounts.reset_token(user)
        reset_mail(user.email, public_url(url_for("dashboard.reset_password", token=token)),
                   user.language or g.lang, token[-12:])
    return page("forgot.html", sent=True, errors={})


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@committed
def reset_password(token: str) -> Answer:
    """Choose a new password with a reset link's token (once, within an hour)."""
    user = accounts.user_for_reset(token)
    if request.method == "GET":
        return page("password.html", heading=gettext_noop("Choose a new password"), errors={})
    try:
        form = parse(accounts.PasswordForm, _form())
    except ValidationError as exc:
        return page("password.html", 422, heading=gettext_noop("Choose a new password"),
                    errors=field_errors(exc))
    accounts.set_password(user, form.password)
    security.log_in(user)
    return redirect(url_for("dashboard.home"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@committed
def accept_invitation(token: str) -> Answer:
    """Accept an invitation: a newcomer chooses a password; then the dashboard opens."""
    row = accounts.open_invitation(token)
    existing = accounts.user_by_email(row.email)
    context: dict[str, Any] = {"heading": gettext_noop("Join {business}"),
                               "business": row.merchant.name,
               "invitation": row, "needs_password": existing is None}
    if request.method == "GET":
        return page("password.html", errors={}, **context)
    password = None
    if existing is None:
        try:
            password = parse(accounts.PasswordForm, _form()).password
        except ValidationError as exc:
            return page("password.html", status=422, errors=field_errors(exc), **context)
    user = accounts.accept_invitation(row, password)
    if existing is None or g.user is not None and g.user.id == user.id:
        security.log_in(user, row.merchant_id)
        return redirect(url_for("dashboard.home"))
    return redirect(url_for("dashboard.login"))


@bp.route("/signup", methods=["GET", "POST"])
@committed
def signup() -> Answer:
    """Open sign-up for a new merchant (only when WALLETPASS_OPEN_SIGNUP is on)."""
    if not current_app.config["SETTINGS"].OPEN_SIGNUP:
        abort(404)
    if request.method == "GET":
        return page("signup.html", errors={}, values={})
    values = _form()
    try:
        user = accounts.sign_up(parse(accounts.SignupForm, values))
    except DomainError as exc:
        return page("signup.html", 422, errors=field_errors(exc), values=values)
    security.log_in(user)
    return redirect(url_for("dashboard.home"))


@bp.post("/staff/invite")
@committed
@security.role_required("owner")
def invite() -> Answer:
    """Invite someone by e-mail with a role (owners only)."""
    from app.dashboard.staff import staff_page

    try:
        form = parse(accounts.InviteForm, _form())
    except ValidationError as exc:
        return staff_page(422, errors=field_errors(exc), values=_form())
    row, token = accounts.invite(g.membership.merchant, form, g.user)
    link = public_url(url_for("dashboard.accept_invitation", token=token))
    sent = invitation_mail(row.email, row.merchant.name, row.role, link, g.lang, token[-12:])
    return staff_page(200, errors={}, values={}, invited=row, mailed=sent, link=link,
                      days=accounts.INVITATION_DAYS)
