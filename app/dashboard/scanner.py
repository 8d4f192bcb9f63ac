"""The staff scanner at /scan: find a card by camera or by the short code, earn, redeem,
undo, and enroll a customer on the spot (their card page as a QR code)."""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app import links
from app.dashboard import bp, committed, counter, field_errors, page, security
from app.dashboard.i18n import translate
from app.dashboard.members import _run, earn_form, last_entry_of, pop_error, redeem_form
from app.distribution.posters import qr_matrix
from app.errors import DomainError
from app.extensions import db
from app.i18n import gettext_noop
from app.loyalty.rules import rules_of
from app.members import listing
from app.members.operations import enroll_member, get_member
from app.members.schemas import MemberCreate
from app.models import Member, Program
from app.programs.operations import get_program, list_programs
from app.validation import MAX_ID, parse, whole_number

SCAN_NOTICES = (gettext_noop("Points added."), gettext_noop("Points redeemed."),
                gettext_noop("Undone."))


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (one path, a quiet zone of 4 modules)."""
    matrix = qr_matrix(url)
    size = len(matrix) + 8
    cells = "".join(f"M{x + 4},{y + 4}h1v1h-1z" for y, row in enumerate(matrix)
                    for x, dark in enumerate(row) if dark)
    return Markup(f'<svg class="qr" viewBox="0 0 {size} {size}" role="img" '
                  f'aria-label="QR code" xmlns="http://www.w3.org/2000/svg">'
                  f'<rect width="{size}" height="{size}" fill="#fff"/>'
                  f'<path d="{cells}" fill="#000"/></svg>')


@bp.get("/scan")
@security.role_required("cashier")
def scan() -> BaseResponse:
    """Scan a card or type its code; the members found (one: straight to them)."""
    code = request.args.get("code", "").strip()[:64]
    found = listing.find_by_code(g.membership.merchant, code) if code else []
    if len(found) == 1:
        return redirect(url_for("dashboard.scan_member", member_id=found[0].id))
    return page("scan.html", code=code, found=found, searched=bool(code),
                programs=list_programs(g.membership.merchant), key=counter.new_key(),
                errors={}, values={}, enrolled=None, short_code=listing.short_code)


@bp.get("/scan/members/<int:member_id>")
@security.role_required("cashier")
def scan_member(member_id: int) -> BaseResponse:
    """The member at the counter: balance, rewards they can have, earn, redeem, undo."""
    member = get_member(g.membership.merchant, member_id)
    done = request.args.get("done", "")
    last = last_entry_of(member.id)
    return page("scan_member.html", member=member, rules=rules_of(member.program),
                rewards=member.program.rewards, last=last,
                can_undo=last is not None and counter.undoable(last),
                notice=translate(done) if done in SCAN_NOTICES else "",
                error=pop_error(), key=counter.new_key,
                short_code=listing.short_code(member))


@bp.post("/scan/members/<int:member_id>/earn")
@security.role_required("cashier")
@committed
def scan_earn(member_id: int) -> BaseResponse:
    """Earn by amount or by stamps at the counter (the merchant's limits apply)."""
    return _run(member_id, earn_form, gettext_noop("Points added."), "dashboard.scan_member")


@bp.post("/scan/members/<int:member_id>/redeem")
@security.role_required("cashier")
@committed
def scan_redeem(member_id: int) -> BaseResponse:
    """Redeem a reward at the counter."""
    return _run(member_id, redeem_form, gettext_noop("Points redeemed."), "dashboard.scan_member")


@bp.post("/scan/enroll")
@security.role_required("cashier")
@committed
def scan_enroll() -> BaseResponse:
    """Enroll a new customer on the spot; show their card page as a QR code."""
    values = {k: v for k, v in request.form.items() if k in ("email", "name")}
    merchant = g.membership.merchant
    program_id = whole_number(request.form.get("program"), "program", None, 1, MAX_ID)
    try:
        programs = list_programs(merchant)
        program = get_program(merchant, program_id or (programs[0].id if programs else 0))
        form = dict(values, program=str(program.id))
        answer = counter.once(request.form.get("key", ""), form,
                              lambda: _enroll(program, values))
    except DomainError as exc:
        db.session.rollback()
        errors, enrolled = field_errors(exc), None
        if exc.code == "already_enrolled":
            enrolled = _member_id_of(exc, merchant, values.get("email", ""))
            errors = {"email": gettext_noop("This e-mail already has this card.")}
        return page("scan.html", 422, code="", found=[], searched=False,
                    programs=list_programs(merchant), key=counter.new_key(), enrolled=enrolled,
                    errors=errors, values=values, short_code=listing.short_code)
    member = get_member(merchant, int(answer["member_id"]))
    link = links.card_page_link(member)
    return page("scan_enrolled.html", member=member, link=link, qr=qr_svg(link))


def _member_id_of(exc: DomainError, merchant: Any, email: str) -> int | None:
    """The member an "already enrolled" refusal is about (the merchant's own only)."""
    given = (exc.details or {}).get("member_id")
    if isinstance(given, int):
        return given
    return db.session.scalar(select(Member.id).join(Program).where(
        Program.merchant_id == merchant.id, Member.email == email.strip().lower()).limit(1))


def _enroll(program: Any, values: dict[str, str]) -> dict[str, Any]:
    """Enroll from the counter form; what the idempotency record keeps."""
    fields = {k: v for k, v in values.items() if v}
    member = enroll_member(program, parse(MemberCreate, fields), source="dashboard")
    return {"member_id": member.id}


@bp.post("/scan/settings")
@security.role_required("manager")
@committed
def scan_limits() -> BaseResponse:
    """Set the scanner's limits of a program (one earn per N minutes, N earns a day)."""
    program = get_program(g.membership.merchant,
                          whole_number(request.form.get("program"), "program", 0, 1, MAX_ID))
    cooldown = whole_number(request.form.get("cooldown") or "0", "cooldown", 0, 0, 10080)
    per_day = whole_number(request.form.get("per_day") or "0", "per_day", 0, 0, 1000)
    counter.set_limits(program, cooldown, per_day)
    return redirect(url_for("dashboard.scan", saved=1))
