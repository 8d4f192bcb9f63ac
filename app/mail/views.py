"""The unsubscribe page every mail links to (no login: the link carries a signed token).

GET shows a small page in the member's language with one button; a POST unsubscribes at
once, which is what mailbox providers send for one-click unsubscribe (RFC 8058: the body
`List-Unsubscribe=One-Click`, no confirmation step).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from app.errors import NotFound
from app.extensions import db
from app.i18n import gettext
from app.mail import suppressions
from app.mail.message import mail_language
from app.models import Member, Program

bp = Blueprint("mail", __name__, url_prefix="/mail")


def _member(token: str) -> tuple[Member, Program]:
    """The member the link names and their program, or NotFound."""
    member = suppressions.member_for_token(token)
    program = db.session.get(Program, member.program_id) if member is not None else None
    if member is None or program is None or not member.email:
        raise NotFound("This unsubscribe link is not valid.")
    return member, program


def _page(member: Member, program: Program, done: bool) -> str:
    """The page before or after unsubscribing, in the member's language."""
    lang = mail_language(member.language, program.language)
    values = {"program": program.name, "email": member.email}
    return render_template("mail/unsubscribe.html", lang=lang, done=done,
                           title=gettext(lang, "You are unsubscribed") if done
                           else gettext(lang, "Unsubscribe"),
                           message=gettext(lang, "You will get no more mails from {program} at "
                                           "{email}.", **values) if done
                           else gettext(lang, "Stop mails from {program} to {email}?", **values),
                           button=gettext(lang, "Unsubscribe"))


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str) -> str:
    """Ask whether to stop mails to this address (one button)."""
    member, program = _member(token)
    return _page(member, program, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """Unsubscribe the address at once (the page's button, or a one-click POST)."""
    member, program = _member(token)
    suppressions.unsubscribe(member)
    db.session.commit()
    return _page(member, program, done=True)
